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
  raft::Index prev_index = 0;  // last log entry before this segment (>= snapshot.index)
  raft::Term prev_term = 0;

  friend bool operator==(const SegmentHeader&, const SegmentHeader&) = default;
};

// "A snapshot covering everything <= metadata.index is durable." keep_suffix: the log matched the
// snapshot at that index, so the entries after it stay; otherwise the whole log is discarded.
struct SnapshotMarker {
  raft::SnapshotMetadata metadata;
  bool keep_suffix = false;

  friend bool operator==(const SnapshotMarker&, const SnapshotMarker&) = default;
};

std::string encode_segment_header(const SegmentHeader& h);
std::optional<SegmentHeader> decode_segment_header(std::string_view in);

std::string encode_snapshot_marker(const SnapshotMarker& m);
std::optional<SnapshotMarker> decode_snapshot_marker(std::string_view in);

}  // namespace storage
