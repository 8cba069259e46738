// Byte encodings of the Raft persistent values (kvserver/raft/types.h) as they appear inside WAL
// records and snapshot files.
//
// All integers are fixed-width little-endian; strings and lists are prefixed by a u32/u64 count.
// Fixed width (rather than varints) because these payloads are tiny next to the fsync they ride on,
// and fixed offsets make a hex dump of a damaged file readable by a person.
//
//   Entry            := term u64 | index u64 | type u8 | data_len u32 | data
//   HardState        := term u64 | vote u64 | commit u64
//   ConfState        := n_voters u32 | voter u64 * n | n_learners u32 | learner u64 * n
//   SnapshotMetadata := index u64 | term u64 | ConfState
//
// Decoders are total: any byte string either decodes to a value that consumed exactly the input or
// yields nullopt; they never read out of bounds (the input is, after all, what the disk gave back).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kvserver/raft/types.h"

namespace storage {

// Appends fixed-width little-endian integers to a string.
void put_u8(std::string& out, std::uint8_t v);
void put_u32(std::string& out, std::uint32_t v);
void put_u64(std::string& out, std::uint64_t v);
std::uint32_t load_u32(const char* p);
std::uint64_t load_u64(const char* p);

// Reads fixed-width values from the front of a byte string; once a read runs past the end every
// later read fails too, so callers check ok() once at the end.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::uint8_t u8();
  std::uint32_t u32();
  std::uint64_t u64();
  std::string_view bytes(std::size_t n);
  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }  // consumed exactly everything

 private:
  bool take(std::size_t n, const char** p);
  std::string_view in_;
  bool ok_ = true;
};

void encode_entry(std::string& out, const raft::Entry& e);
std::optional<raft::Entry> decode_entry(std::string_view in);
// The bytes of an encoded entry that are not its data.
constexpr std::size_t kEntryFixedBytes = 8 + 8 + 1 + 4;
// Size of encode_entry's output, without building it.
std::size_t encoded_entry_size(const raft::Entry& e);

void encode_hard_state(std::string& out, const raft::HardState& hs);
std::optional<raft::HardState> decode_hard_state(std::string_view in);

void encode_snapshot_metadata(std::string& out, const raft::SnapshotMetadata& m);
// Reads one SnapshotMetadata from the front of `r` (used inside larger records).
std::optional<raft::SnapshotMetadata> read_snapshot_metadata(Reader& r);

}  // namespace storage
