#include "kvserver/storage/wal_payloads.h"

#include "kvserver/storage/coding.h"

namespace storage {

std::string encode_segment_header(const SegmentHeader& h) {
  std::string out;
  put_u64(out, h.seq);
  encode_hard_state(out, h.hard_state);
  encode_snapshot_metadata(out, h.snapshot);
  put_u64(out, h.compacted_index);
  put_u64(out, h.compacted_term);
  put_u64(out, h.prev_index);
  put_u64(out, h.prev_term);
  return out;
}

std::optional<SegmentHeader> decode_segment_header(std::string_view in) {
  Reader r(in);
  SegmentHeader h;
  h.seq = r.u64();
  h.hard_state.term = r.u64();
  h.hard_state.vote = r.u64();
  h.hard_state.commit = r.u64();
  auto snap = read_snapshot_metadata(r);
  if (!snap) return std::nullopt;
  h.snapshot = std::move(*snap);
  h.compacted_index = r.u64();
  h.compacted_term = r.u64();
  h.prev_index = r.u64();
  h.prev_term = r.u64();
  if (!r.done()) return std::nullopt;
  return h;
}

std::string encode_snapshot_marker(const SnapshotMarker& m) {
  std::string out;
  put_u8(out, m.keep_suffix ? 1 : 0);
  encode_snapshot_metadata(out, m.metadata);
  return out;
}

std::optional<SnapshotMarker> decode_snapshot_marker(std::string_view in) {
  Reader r(in);
  SnapshotMarker m;
  const std::uint8_t keep = r.u8();
  if (keep > 1) return std::nullopt;
  m.keep_suffix = keep == 1;
  auto snap = read_snapshot_metadata(r);
  if (!snap || !r.done()) return std::nullopt;
  m.metadata = std::move(*snap);
  return m;
}

std::string encode_compact_marker(const CompactMarker& m) {
  std::string out;
  put_u64(out, m.index);
  put_u64(out, m.term);
  return out;
}

std::optional<CompactMarker> decode_compact_marker(std::string_view in) {
  Reader r(in);
  CompactMarker m;
  m.index = r.u64();
  m.term = r.u64();
  if (!r.done()) return std::nullopt;
  return m;
}

}  // namespace storage
