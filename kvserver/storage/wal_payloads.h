// Payloads of the WAL's own record types (formats in record.h): the segment header and the
// snapshot marker. Raft values themselves are encoded by coding.h.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kvserver/raft/types.h"

namespace storage {

// First record of every segment: enough state to start replay here once older segments are gone.
struct SegmentHeader {
  std::uint64_t seq = 0;
  raft::HardState hard_state;
  raft::SnapshotMetadata snapshot;
  raft::Index compacted_index = 0;  // the log then held entries (compacted_index, prev_index]
  raft::Term compacted_term = 0;
  raft::Index prev_index = 0;  // last log entry before this segment (>= compacted_index)
  raft::Term prev_term = 0;

  friend bool operator==(const SegmentHeader&, const SegmentHeader&) = default;
};

// "A snapshot covering everything <= metadata.index is durable." keep_suffix: the snapshot was
// taken of this log (local compaction), which stays as it is; otherwise it came from a leader and
// the whole log is discarded.
struct SnapshotMarker {
  raft::SnapshotMetadata metadata;
  bool keep_suffix = false;

  friend bool operator==(const SnapshotMarker&, const SnapshotMarker&) = default;
};

// "Entries <= index (whose term was `term`) are no longer needed": the log now starts after it.
struct CompactMarker {
  raft::Index index = 0;
  raft::Term term = 0;

  friend bool operator==(const CompactMarker&, const CompactMarker&) = default;
};

std::string encode_segment_header(const SegmentHeader& h);
std::optional<SegmentHeader> decode_segment_header(std::string_view in);

std::string encode_snapshot_marker(const SnapshotMarker& m);
std::optional<SnapshotMarker> decode_snapshot_marker(std::string_view in);

std::string encode_compact_marker(const CompactMarker& m);
std::optional<CompactMarker> decode_compact_marker(std::string_view in);

}  // namespace storage
