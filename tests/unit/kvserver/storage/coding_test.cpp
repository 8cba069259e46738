#include "kvserver/storage/coding.h"

#include <catch2/catch.hpp>

#include "kvserver/storage/wal_payloads.h"

using namespace storage;

TEST_CASE("entries round-trip and reject every truncation", "[coding]") {
  raft::Entry e{7, 42, raft::EntryType::kConfChange, std::string("conf\0change", 11)};
  std::string bytes;
  encode_entry(bytes, e);
  CHECK(bytes.size() == encoded_entry_size(e));
  auto back = decode_entry(bytes);
  REQUIRE(back);
  CHECK(*back == e);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    REQUIRE_FALSE(decode_entry(std::string_view(bytes).substr(0, n)));
  }
  CHECK_FALSE(decode_entry(bytes + "x"));  // trailing bytes are not silently ignored
  std::string bad_type = bytes;
  bad_type[16] = 9;
  CHECK_FALSE(decode_entry(bad_type));
}

TEST_CASE("hard state round-trips", "[coding]") {
  raft::HardState hs{5, 3, 99};
  std::string bytes;
  encode_hard_state(bytes, hs);
  auto back = decode_hard_state(bytes);
  REQUIRE(back);
  CHECK(*back == hs);
  CHECK_FALSE(decode_hard_state(bytes.substr(1)));
}

TEST_CASE("segment header, snapshot and compact markers round-trip", "[coding]") {
  SegmentHeader h;
  h.seq = 12;
  h.hard_state = {4, 2, 77};
  h.snapshot = {70, 3, {{1, 2, 3}, {9}}};
  h.compacted_index = 65;
  h.compacted_term = 2;
  h.prev_index = 80;
  h.prev_term = 4;
  auto hb = decode_segment_header(encode_segment_header(h));
  REQUIRE(hb);
  CHECK(*hb == h);

  SnapshotMarker m{{70, 3, {{1, 2}, {}}}, true};
  const std::string mbytes = encode_snapshot_marker(m);
  auto mb = decode_snapshot_marker(mbytes);
  REQUIRE(mb);
  CHECK(*mb == m);
  for (std::size_t n = 0; n < mbytes.size(); ++n) {
    REQUIRE_FALSE(decode_snapshot_marker(std::string_view(mbytes).substr(0, n)));
  }

  const CompactMarker c{65, 2};
  auto cb = decode_compact_marker(encode_compact_marker(c));
  REQUIRE(cb);
  CHECK(*cb == c);
  CHECK_FALSE(decode_compact_marker(encode_compact_marker(c).substr(1)));
}
