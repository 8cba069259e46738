#include "kvserver/storage/storage.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "kvserver/storage/snapshot_file.h"
#include "tests/unit/kvserver/storage/test_util.h"

using namespace storage;
using storage_test::entry;
using storage_test::payload_for;
using storage_test::TempDir;

namespace {
std::vector<raft::Entry> make_entries(raft::Index from, raft::Index to, raft::Term term) {
  std::vector<raft::Entry> v;
  for (raft::Index i = from; i <= to; ++i)
    v.push_back(entry(i, term, payload_for(i, 300)));
  return v;
}
}  // namespace

TEST_CASE("storage creates a private data dir and recovers a snapshot with its log", "[storage]") {
  TempDir t;
  const StorageOptions o{t.sub("data"), 4096, true};
  raft::Snapshot snap;
  snap.metadata = {50, 2, {{1, 2, 3}, {}}};
  snap.data = "state machine image";
  {
    auto s = Storage::open(o);
    REQUIRE(s);
    CHECK((*s)->snapshot().empty());
    (*s)->save({2, 1, 50}, make_entries(1, 80, 2));
    (*s)->save_snapshot(snap);
    CHECK((*s)->first_index() == 51);
  }
  for (const char* d : {"data", "data/wal", "data/snap"})
    CHECK(storage_test::mode_of(t.sub(d)) == 0700);
  auto s = Storage::open(o);
  REQUIRE(s);
  CHECK((*s)->snapshot() == snap);
  CHECK((*s)->hard_state() == raft::HardState{2, 1, 50});
  CHECK((*s)->first_index() == 51);
  CHECK((*s)->last_index() == 80);
  CHECK((*s)->term(50) == 2);
  CHECK((*s)->entries(51, 81) == make_entries(51, 80, 2));

  // A second snapshot replaces the first file and releases more of the log.
  raft::Snapshot snap2 = snap;
  snap2.metadata.index = 75;
  (*s)->save_snapshot(snap2);
  CHECK_FALSE(std::filesystem::exists((*s)->snapshots().path_for(2, 50)));
  s = Storage::open(o);
  REQUIRE(s);
  CHECK((*s)->snapshot() == snap2);
  CHECK((*s)->entries(76, 81) == make_entries(76, 80, 2));
}

TEST_CASE("storage refuses to start when the snapshot the WAL names is damaged or gone",
          "[storage]") {
  TempDir t;
  const StorageOptions o{t.sub("data"), 1 << 20, true};
  raft::Snapshot snap;
  snap.metadata = {10, 1, {{1}, {}}};
  snap.data = std::string(1000, 's');
  std::string path;
  {
    auto s = Storage::open(o);
    REQUIRE(s);
    (*s)->save({1, 1, 10}, make_entries(1, 12, 1));
    (*s)->save_snapshot(snap);
    path = (*s)->snapshots().path_for(1, 10);
  }
  std::string bytes = storage_test::slurp(path);
  bytes[100] ^= 0x04;
  storage_test::spit(path, bytes);
  auto s = Storage::open(o);
  REQUIRE_FALSE(s);
  CHECK(s.error().message.find(path) != std::string::npos);
  CHECK(s.error().message.find("CRC32C mismatch") != std::string::npos);

  std::filesystem::remove(path);
  s = Storage::open(o);
  REQUIRE_FALSE(s);
  CHECK(s.error().message.find(path) != std::string::npos);
}

TEST_CASE("a crash between writing a snapshot file and marking it keeps the older snapshot",
          "[storage]") {
  TempDir t;
  const StorageOptions o{t.sub("data"), 1 << 20, true};
  raft::Snapshot older;
  older.metadata = {10, 1, {{1}, {}}};
  older.data = "older";
  {
    auto s = Storage::open(o);
    REQUIRE(s);
    (*s)->save({1, 1, 20}, make_entries(1, 20, 1));
    (*s)->save_snapshot(older);
  }
  // The newer file is durable but the WAL marker never made it: what a crash right after
  // SnapshotStore::save leaves.
  raft::Snapshot newer = older;
  newer.metadata.index = 20;
  newer.data = "newer";
  {
    auto store = SnapshotStore::open(t.sub("data/snap"));
    REQUIRE(store);
    store->save(newer);
  }
  auto s = Storage::open(o);
  REQUIRE(s);
  CHECK((*s)->snapshot() == older);
  CHECK((*s)->first_index() == 11);
  CHECK((*s)->entries(11, 21) == make_entries(11, 20, 1));
}
