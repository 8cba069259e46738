// WAL record framing: how one record sits in a segment file, and how a reader tells a whole record
// from a torn or damaged one.
//
// On-disk format (all integers little-endian), in the manner of LevelDB's db/log_format.h:
//
//   record  := crc32c u32 | length u32 | type u8 | payload[length]
//   crc32c  := CRC32C over the 5 bytes of length+type followed by the payload
//
// Covering the length and type (not only the payload) means a flipped bit in the header is caught
// like one in the payload. Type 0 is never written: segments are preallocated and read back as
// zeros, so an all-zero header marks the end of what was ever written. A record never spans two
// segment files. A payload is at most kMaxPayloadBytes; a larger length on disk is damage.
//
// Record types (payload encodings in coding.h):
//   kSegmentHeader  first record of every segment: seq u64 | HardState | SnapshotMetadata |
//                   compacted_index u64 | compacted_term u64 | prev_index u64 | prev_term u64:
//                   the state when the segment began; the log then held (compacted, prev].
//                   It lets replay start at any segment once older ones are released.
//   kEntry          one raft::Entry. An entry whose index is <= the last one replayed so far
//                   replaces that entry and everything after it (a follower truncating on
//                   conflict).
//   kHardState      a raft::HardState; the last one wins.
//   kSnapshot       keep u8 | SnapshotMetadata: a snapshot covering everything <= index is durable
//   in
//                   the snap directory. keep=1: the log still matches at that index, entries after
//                   it stay; keep=0: the log is discarded (a follower installing a leader's
//                   snapshot).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace storage {

enum class RecordType : std::uint8_t {
  kZero = 0,  // never written; what preallocated space reads as
  kSegmentHeader = 1,
  kEntry = 2,
  kHardState = 3,
  kSnapshot = 4,
  kCompact = 5,
};

constexpr std::size_t kRecordHeaderBytes = 4 + 4 + 1;
constexpr std::size_t kMaxPayloadBytes = 256u << 20;

// Appends one framed record to `out`. Aborts (programmer error) if the payload is too large.
void append_record(std::string& out, RecordType type, std::string_view payload);

// The same in two steps, so a payload can be encoded straight into `out` without a copy:
// begin_record reserves the header and returns where the record starts; after the payload has
// been appended, seal_record fills in length, type and CRC.
std::size_t begin_record(std::string& out);
void seal_record(std::string& out, std::size_t start, RecordType type);

// What parse_record found at an offset.
struct ParsedRecord {
  enum class Kind {
    kOk,       // a whole record with a matching CRC; `type`, `payload`, `end` are set
    kEnd,      // the offset is the end of the data: end of buffer, or nothing but zeros follows
    kDamaged,  // anything else; `reason` says what (short header, length past the end, bad CRC..)
  };
  Kind kind = Kind::kEnd;
  RecordType type = RecordType::kZero;
  std::string_view payload;
  std::size_t end = 0;  // offset just past the record (kOk)
  const char* reason = "";
};

// Parses the record that starts at `offset` in `buf` (a whole segment file's bytes).
ParsedRecord parse_record(std::string_view buf, std::size_t offset);

// True when some offset in [from, buf.size()) holds a whole record with a matching CRC. Used after
// a damaged record to decide "torn tail" (nothing valid follows) from "damage in the middle".
bool any_valid_record_from(std::string_view buf, std::size_t from);

}  // namespace storage
