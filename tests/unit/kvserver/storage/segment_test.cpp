#include "kvserver/storage/segment.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <vector>

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

namespace {

// Bytes of [from, to) that the filesystem holds as allocated-but-unwritten extents (FIEMAP, after
// a sync). Fails the test when the filesystem under TMPDIR cannot tell (no FIEMAP).
std::uint64_t unwritten_bytes(const std::string& path, std::uint64_t from, std::uint64_t to) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  constexpr int kMaxExtents = 64;
  std::vector<char> buf(sizeof(fiemap) + kMaxExtents * sizeof(fiemap_extent), 0);
  auto* fm = reinterpret_cast<fiemap*>(buf.data());
  fm->fm_start = from;
  fm->fm_length = to - from;
  fm->fm_flags = FIEMAP_FLAG_SYNC;
  fm->fm_extent_count = kMaxExtents;
  const int rc = ::ioctl(fd, FS_IOC_FIEMAP, fm);
  const int err = errno;
  ::close(fd);
  INFO("FIEMAP on " << path << ": " << std::strerror(err)
                    << " (this test needs a filesystem with extents, like ext4 or xfs, under "
                       "TMPDIR)");
  REQUIRE(rc == 0);
  std::uint64_t n = 0;
  for (std::uint32_t i = 0; i < fm->fm_mapped_extents; ++i) {
    const fiemap_extent& e = fm->fm_extents[i];
    if ((e.fe_flags & FIEMAP_EXTENT_UNWRITTEN) == 0) continue;
    const std::uint64_t a = std::max<std::uint64_t>(e.fe_logical, from);
    const std::uint64_t b = std::min<std::uint64_t>(e.fe_logical + e.fe_length, to);
    if (b > a) n += b - a;
  }
  return n;
}

}  // namespace

TEST_CASE("appends zero-fill the preallocated space a chunk ahead, never past it", "[segment]") {
  TempDir t;
  constexpr std::uint64_t kCapacity = 4 * kZeroAheadBytes;
  Segment s = Segment::create(t.path(), 1, kCapacity, true);
  // The control: fallocate leaves the space unwritten.
  CHECK(unwritten_bytes(s.path(), 0, kCapacity) == kCapacity);

  const std::string record(1000, 'r');
  s.append(record);
  // The first chunk is written (data, then zeros); the rest is still only allocated.
  CHECK(unwritten_bytes(s.path(), 0, kZeroAheadBytes) == 0);
  CHECK(unwritten_bytes(s.path(), kZeroAheadBytes, kCapacity) == kCapacity - kZeroAheadBytes);

  // Past half the chunk, the next one is filled before the data reaches it.
  while (s.write_offset() + kZeroAheadBytes / 2 <= kZeroAheadBytes)
    s.append(record);
  CHECK(unwritten_bytes(s.path(), 0, 2 * kZeroAheadBytes) == 0);
  CHECK(unwritten_bytes(s.path(), 2 * kZeroAheadBytes, kCapacity) ==
        kCapacity - 2 * kZeroAheadBytes);

  // Up to the end: the file never grows, and the zeros never overwrite data.
  while (s.write_offset() + record.size() <= kCapacity)
    s.append(record);
  const std::uint64_t appended = s.write_offset();
  s.sync();
  CHECK(std::filesystem::file_size(s.path()) == kCapacity);
  auto all = s.read(0, appended);
  REQUIRE(all);
  CHECK(all->find('\0') == std::string::npos);

  // After a truncate the dropped tail is unwritten again, and refilled from the new end.
  s.truncate_to(3000, kCapacity, true);
  CHECK(unwritten_bytes(s.path(), 4096, kCapacity) == kCapacity - 4096);
  s.append(record);
  CHECK(unwritten_bytes(s.path(), 0, kZeroAheadBytes) == 0);
}

TEST_CASE("without preallocation nothing is zero-filled", "[segment]") {
  TempDir t;
  Segment s = Segment::create(t.path(), 1, 4 * kZeroAheadBytes, false);
  s.append("abc");
  s.sync();
  CHECK(std::filesystem::file_size(s.path()) == 3);
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
