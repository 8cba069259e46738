#include "kvserver/storage/coding.h"

#include <cstring>

namespace storage {

void put_u8(std::string& out, std::uint8_t v) {
  out.push_back(static_cast<char>(v));
}

void put_u32(std::string& out, std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i)
    b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out.append(b, 4);
}

void put_u64(std::string& out, std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i)
    b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out.append(b, 8);
}

std::uint32_t load_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t(u[0]) | std::uint32_t(u[1]) << 8 | std::uint32_t(u[2]) << 16 |
         std::uint32_t(u[3]) << 24;
}

std::uint64_t load_u64(const char* p) {
  return std::uint64_t(load_u32(p)) | std::uint64_t(load_u32(p + 4)) << 32;
}

bool Reader::take(std::size_t n, const char** p) {
  if (!ok_ || in_.size() < n) {
    ok_ = false;
    return false;
  }
  *p = in_.data();
  in_.remove_prefix(n);
  return true;
}

std::uint8_t Reader::u8() {
  const char* p;
  return take(1, &p) ? static_cast<std::uint8_t>(*p) : 0;
}

std::uint32_t Reader::u32() {
  const char* p;
  return take(4, &p) ? load_u32(p) : 0;
}

std::uint64_t Reader::u64() {
  const char* p;
  return take(8, &p) ? load_u64(p) : 0;
}

std::string_view Reader::bytes(std::size_t n) {
  const char* p;
  return take(n, &p) ? std::string_view(p, n) : std::string_view();
}

void encode_entry(std::string& out, const raft::Entry& e) {
  put_u64(out, e.term);
  put_u64(out, e.index);
  put_u8(out, static_cast<std::uint8_t>(e.type));
  put_u32(out, static_cast<std::uint32_t>(e.data.size()));
  out.append(e.data);
}

std::size_t encoded_entry_size(const raft::Entry& e) {
  return kEntryFixedBytes + e.data.size();
}

std::optional<raft::Entry> decode_entry(std::string_view in) {
  Reader r(in);
  raft::Entry e;
  e.term = r.u64();
  e.index = r.u64();
  const std::uint8_t type = r.u8();
  const std::uint32_t n = r.u32();
  e.data = std::string(r.bytes(n));
  if (!r.done()) return std::nullopt;
  if (type > static_cast<std::uint8_t>(raft::EntryType::kConfChange)) return std::nullopt;
  e.type = static_cast<raft::EntryType>(type);
  return e;
}

void encode_hard_state(std::string& out, const raft::HardState& hs) {
  put_u64(out, hs.term);
  put_u64(out, hs.vote);
  put_u64(out, hs.commit);
}

std::optional<raft::HardState> decode_hard_state(std::string_view in) {
  Reader r(in);
  raft::HardState hs;
  hs.term = r.u64();
  hs.vote = r.u64();
  hs.commit = r.u64();
  if (!r.done()) return std::nullopt;
  return hs;
}

void encode_snapshot_metadata(std::string& out, const raft::SnapshotMetadata& m) {
  put_u64(out, m.index);
  put_u64(out, m.term);
  put_u32(out, static_cast<std::uint32_t>(m.conf_state.voters.size()));
  for (raft::NodeId id : m.conf_state.voters)
    put_u64(out, id);
  put_u32(out, static_cast<std::uint32_t>(m.conf_state.learners.size()));
  for (raft::NodeId id : m.conf_state.learners)
    put_u64(out, id);
}

std::optional<raft::SnapshotMetadata> read_snapshot_metadata(Reader& r) {
  raft::SnapshotMetadata m;
  m.index = r.u64();
  m.term = r.u64();
  // Bound the counts by what is left so a damaged count cannot make us allocate gigabytes.
  std::uint32_t n = r.u32();
  for (std::uint32_t i = 0; i < n && r.ok(); ++i)
    m.conf_state.voters.push_back(r.u64());
  n = r.u32();
  for (std::uint32_t i = 0; i < n && r.ok(); ++i)
    m.conf_state.learners.push_back(r.u64());
  if (!r.ok()) return std::nullopt;
  return m;
}

}  // namespace storage
