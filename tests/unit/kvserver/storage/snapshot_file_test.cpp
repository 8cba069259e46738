#include "kvserver/storage/snapshot_file.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/unit/kvserver/storage/test_util.h"

using namespace storage;
using storage_test::slurp;
using storage_test::spit;
using storage_test::TempDir;

namespace {
raft::Snapshot sample() {
  raft::Snapshot s;
  s.metadata = {1234, 7, {{1, 2, 3}, {4}}};
  s.data = storage_test::payload_for(3, 5000);
  return s;
}
}  // namespace

TEST_CASE("snapshot files round-trip through a durable rename", "[snapshot_file]") {
  TempDir t;
  auto store = SnapshotStore::open(t.sub("snap"));
  REQUIRE(store);
  CHECK(storage_test::mode_of(t.sub("snap")) == 0700);
  store->save(sample());
  const std::string path = store->path_for(7, 1234);
  CHECK(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  CHECK(storage_test::mode_of(path) == 0600);
  auto back = store->load(sample().metadata);
  REQUIRE(back);
  CHECK(*back == sample());
}

TEST_CASE("any flipped bit or cut in a snapshot file is detected", "[snapshot_file]") {
  const std::string good = encode_snapshot_file(sample());
  REQUIRE(decode_snapshot_file(good, "f"));
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ (1 << (i % 8)));
    auto r = decode_snapshot_file(bad, "/x/f.snap");
    REQUIRE_FALSE(r);
    REQUIRE(r.error().message.find("/x/f.snap") != std::string::npos);
  }
  for (std::size_t n = 0; n < good.size(); n += 97) {
    REQUIRE_FALSE(decode_snapshot_file(good.substr(0, n), "f"));
  }
}

TEST_CASE("loading checks the file on disk and that it is the snapshot asked for",
          "[snapshot_file]") {
  TempDir t;
  auto store = SnapshotStore::open(t.sub("snap"));
  REQUIRE(store);
  store->save(sample());
  const std::string path = store->path_for(7, 1234);
  std::string bytes = slurp(path);
  bytes[bytes.size() / 2] ^= 0x10;
  spit(path, bytes);
  auto r = store->load(sample().metadata);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("CRC32C mismatch") != std::string::npos);
  CHECK_FALSE(store->load({99, 1, {}}));  // no such file
}

TEST_CASE("old snapshot files and leftover temp files are removed", "[snapshot_file]") {
  TempDir t;
  auto store = SnapshotStore::open(t.sub("snap"));
  REQUIRE(store);
  raft::Snapshot a = sample(), b = sample();
  a.metadata.index = 100;
  b.metadata.index = 200;
  store->save(a);
  store->save(b);
  spit(store->path_for(7, 300) + ".tmp", "half written");
  CHECK(store->remove_older_than(200) == 2);
  CHECK_FALSE(std::filesystem::exists(store->path_for(7, 100)));
  CHECK(std::filesystem::exists(store->path_for(7, 200)));
}

TEST_CASE("write_snapshot_file writes the same bytes as encode_snapshot_file, or says why not",
          "[snapshot_file]") {
  TempDir t;
  const raft::Snapshot s = sample();
  const std::string path = t.sub("written.snap");
  REQUIRE(write_snapshot_file(path, s.metadata, s.data));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));  // renamed into place
  CHECK(slurp(path) == encode_snapshot_file(s));
  CHECK(storage_test::mode_of(path) == 0600);
  auto back = decode_snapshot_file(slurp(path), path);
  REQUIRE(back);
  CHECK(*back == s);

  // An error, not a stop: this runs in the snapshot writer's child.
  const std::string missing = t.sub("no-such-dir/x.snap");
  auto st = write_snapshot_file(missing, s.metadata, s.data);
  REQUIRE_FALSE(st);
  CHECK_THAT(st.error().message, Catch::Contains(missing) && Catch::Contains("No such file"));
}
