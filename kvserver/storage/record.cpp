#include "kvserver/storage/record.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "kvserver/storage/coding.h"
#include "kvserver/storage/crc32c.h"

namespace storage {
namespace {

bool known_type(std::uint8_t t) {
  return t >= static_cast<std::uint8_t>(RecordType::kSegmentHeader) &&
         t <= static_cast<std::uint8_t>(RecordType::kCompact);
}

bool all_zero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

// The whole-record check shared by parse_record and the resync scan.
bool valid_at(std::string_view buf, std::size_t offset, std::size_t* end) {
  if (buf.size() - offset < kRecordHeaderBytes) return false;
  const char* h = buf.data() + offset;
  const std::uint32_t length = load_u32(h + 4);
  if (!known_type(static_cast<std::uint8_t>(h[8])) || length > kMaxPayloadBytes) return false;
  if (length > buf.size() - offset - kRecordHeaderBytes) return false;
  if (crc32c::value(h + 4, 5 + std::size_t(length)) != load_u32(h)) return false;
  *end = offset + kRecordHeaderBytes + length;
  return true;
}

}  // namespace

std::size_t begin_record(std::string& out) {
  const std::size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  return start;
}

void seal_record(std::string& out, std::size_t start, RecordType type) {
  const std::size_t payload = out.size() - start - kRecordHeaderBytes;
  if (payload > kMaxPayloadBytes || type == RecordType::kZero) {
    std::fprintf(stderr, "storage: record of %zu bytes (type %d) cannot be written\n", payload,
                 static_cast<int>(type));
    std::abort();
  }
  char* h = out.data() + start;
  for (int i = 0; i < 4; ++i)
    h[4 + i] = static_cast<char>((payload >> (8 * i)) & 0xFF);
  h[8] = static_cast<char>(type);
  const std::uint32_t crc = crc32c::value(h + 4, 5 + payload);
  for (int i = 0; i < 4; ++i)
    h[i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
}

void append_record(std::string& out, RecordType type, std::string_view payload) {
  const std::size_t start = begin_record(out);
  out.append(payload);
  seal_record(out, start, type);
}

ParsedRecord parse_record(std::string_view buf, std::size_t offset) {
  ParsedRecord r;
  if (offset >= buf.size() || all_zero(buf.substr(offset, kRecordHeaderBytes))) {
    // A zero header is the end only if nothing but zeros follows; a zeroed header in front of
    // written bytes is damage.
    if (offset >= buf.size() || all_zero(buf.substr(offset))) return r;
    r.kind = ParsedRecord::Kind::kDamaged;
    r.reason = "zeroed record header followed by non-zero bytes";
    return r;
  }
  r.kind = ParsedRecord::Kind::kDamaged;
  if (buf.size() - offset < kRecordHeaderBytes) {
    r.reason = "record header cut short by the end of the file";
    return r;
  }
  const char* h = buf.data() + offset;
  const std::uint32_t length = load_u32(h + 4);
  const auto type = static_cast<std::uint8_t>(h[8]);
  if (length > kMaxPayloadBytes) {
    r.reason = "impossible record length";
    return r;
  }
  if (length > buf.size() - offset - kRecordHeaderBytes) {
    r.reason = "record length runs past the end of the file";
    return r;
  }
  if (crc32c::value(h + 4, 5 + std::size_t(length)) != load_u32(h)) {
    r.reason = "CRC32C mismatch";
    return r;
  }
  if (!known_type(type)) {
    r.reason = "unknown record type";  // CRC matched: written by a newer or broken writer
    return r;
  }
  r.kind = ParsedRecord::Kind::kOk;
  r.type = static_cast<RecordType>(type);
  r.payload = std::string_view(h + kRecordHeaderBytes, length);
  r.end = offset + kRecordHeaderBytes + length;
  return r;
}

bool any_valid_record_from(std::string_view buf, std::size_t from) {
  std::size_t end;
  for (std::size_t q = from; q + kRecordHeaderBytes <= buf.size(); ++q) {
    // Cheap filter first: the type byte of a record is never zero, and zero is what most of a
    // preallocated tail holds.
    if (buf[q + 8] == 0) continue;
    if (valid_at(buf, q, &end)) return true;
  }
  return false;
}

}  // namespace storage
