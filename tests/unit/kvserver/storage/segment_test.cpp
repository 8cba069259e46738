#include "kvserver/storage/segment.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "kvserver/storage/file_util.h"
#include "tests/unit/kvserver/storage/test_util.h"

using namespace storage;
using storage_test::TempDir;

TEST_CASE("segment names are 16 hex digits and parse back", "[segment]") {
  CHECK(segment_file_name(0) == "0000000000000000.wal");
  CHECK(segment_file_name(0xabc) == "0000000000000abc.wal");
  for (std::uint64_t seq : {0ull, 1ull, 255ull, 0xdeadbeefull, ~0ull}) {
    REQUIRE(parse_segment_file_name(segment_file_name(seq)) == seq);
  }
  CHECK_FALSE(parse_segment_file_name("000000000000000g.wal"));
  CHECK_FALSE(parse_segment_file_name("0000000000000000.wal.tmp"));
  CHECK_FALSE(parse_segment_file_name("00.wal"));
}

TEST_CASE("a segment is preallocated, appends in place, reads back and truncates to zeros",
          "[segment]") {
  TempDir t;
  Segment s = Segment::create(t.path(), 3, 16384, true);
  CHECK(std::filesystem::file_size(s.path()) == 16384);
  CHECK(storage_test::mode_of(s.path()) == 0600);
  s.append("hello ");
  s.append("world");
  s.sync();
  CHECK(s.write_offset() == 11);
  auto r = s.read(0, 11);
  REQUIRE(r);
  CHECK(*r == "hello world");
  CHECK_FALSE(s.read(16380, 100));  // past the end: an Error, not a short read

  s.truncate_to(5, 16384, true);
  CHECK(s.write_offset() == 5);
  CHECK(std::filesystem::file_size(s.path()) == 16384);
  auto z = s.read(5, 6);
  REQUIRE(z);
  CHECK(*z == std::string(6, '\0'));  // the dropped bytes read back as zeros, not old data
}

TEST_CASE("ensure_dir creates 0700 directories and refuses a file in the way", "[file_util]") {
  TempDir t;
  REQUIRE(ensure_dir(t.sub("d")));
  CHECK(storage_test::mode_of(t.sub("d")) == 0700);
  REQUIRE(ensure_dir(t.sub("d")));  // existing: fine
  storage_test::spit(t.sub("f"), "x");
  auto st = ensure_dir(t.sub("f"));
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find(t.sub("f")) != std::string::npos);
  CHECK_FALSE(ensure_dir(t.sub("no/such/parent")));
}
