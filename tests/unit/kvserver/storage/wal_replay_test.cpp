// Replay rules on hand-built records (formats from record.h / wal_payloads.h): the cases a correct
// writer never produces, which must still be refused with the file and offset named.
#include "kvserver/storage/wal_replay.h"

#include <catch2/catch.hpp>

#include "kvserver/storage/coding.h"
#include "kvserver/storage/wal_payloads.h"

using namespace storage;

namespace {

std::string entry_payload(raft::Index i, raft::Term t) {
  std::string out;
  encode_entry(out, raft::Entry{t, i, raft::EntryType::kNormal, "d"});
  return out;
}

certs::Status header(WalReplay& r, std::uint64_t seq, raft::Index prev, raft::Term prev_term) {
  SegmentHeader h;
  h.seq = seq;
  h.prev_index = prev;
  h.prev_term = prev_term;
  return r.apply(seq, "seg", 0, RecordType::kSegmentHeader, encode_segment_header(h), 10);
}

certs::Status add(WalReplay& r, raft::Index i, raft::Term t, std::uint64_t offset = 100) {
  return r.apply(0, "seg", offset, RecordType::kEntry, entry_payload(i, t), 40);
}

}  // namespace

TEST_CASE("replay rebuilds the log and replaces conflicting suffixes", "[wal_replay]") {
  WalReplay r;
  REQUIRE(header(r, 0, 0, 0));
  for (raft::Index i = 1; i <= 5; ++i)
    REQUIRE(add(r, i, 1));
  REQUIRE(add(r, 3, 2));
  REQUIRE(r.finish());
  CHECK(r.log().last_index() == 3);
  CHECK(r.log().term_at(2) == 1);
  CHECK(r.log().term_at(3) == 2);
  CHECK(r.max_entry_index_by_segment().at(0) == 5);  // overwritten entries still pin the segment
}

TEST_CASE("replay refuses records a correct writer never writes", "[wal_replay]") {
  WalReplay r;
  SECTION("no header first") {
    auto s = r.apply(0, "seg", 0, RecordType::kEntry, entry_payload(1, 1), 40);
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find("seg at byte offset 0") != std::string::npos);
  }
  SECTION("a gap in the indexes") {
    REQUIRE(header(r, 0, 0, 0));
    REQUIRE(add(r, 1, 1));
    auto s = add(r, 3, 1, 777);
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find("seg at byte offset 777: entry 3: gap") != std::string::npos);
  }
  SECTION("a term going down") {
    REQUIRE(header(r, 0, 0, 0));
    REQUIRE(add(r, 1, 3));
    CHECK_FALSE(add(r, 2, 2));
  }
  SECTION("a segment that does not continue the one before") {
    REQUIRE(header(r, 0, 0, 0));
    REQUIRE(add(r, 1, 1));
    REQUIRE(add(r, 2, 1));
    auto s = header(r, 1, 5, 1);
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find("does not continue") != std::string::npos);
  }
  SECTION("a header whose seq differs from its file name") {
    SegmentHeader h;
    h.seq = 4;
    CHECK_FALSE(r.apply(3, "seg", 0, RecordType::kSegmentHeader, encode_segment_header(h), 10));
  }
  SECTION("a compact record beyond the snapshot") {
    REQUIRE(header(r, 0, 0, 0));
    REQUIRE(add(r, 1, 1));
    CHECK_FALSE(r.apply(0, "seg", 200, RecordType::kCompact, encode_compact_marker({1, 1}), 25));
  }
}

TEST_CASE("replay starting after released segments needs the compaction that allowed it",
          "[wal_replay]") {
  WalReplay missing;
  REQUIRE(header(missing, 7, 50, 2));  // entries 1..50 were in released segments
  REQUIRE(add(missing, 51, 2));
  auto s = missing.finish();
  REQUIRE_FALSE(s);
  CHECK(s.error().message.find("missing entries 1..50") != std::string::npos);

  WalReplay covered;
  REQUIRE(header(covered, 7, 50, 2));
  REQUIRE(add(covered, 51, 2));
  REQUIRE(covered.apply(7, "seg", 300, RecordType::kSnapshot,
                        encode_snapshot_marker({{51, 2, {}}, true}), 30));
  REQUIRE(covered.apply(7, "seg", 400, RecordType::kCompact, encode_compact_marker({50, 2}), 25));
  REQUIRE(covered.finish());
  CHECK(covered.log().base_index() == 50);
  CHECK(covered.log().term_at(50) == 2);
  CHECK(covered.log().last_index() == 51);
}
