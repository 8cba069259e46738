#include "kvserver/storage/storage.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "kvserver/storage/snapshot_file.h"
#include "tests/unit/kvserver/storage/test_util.h"

using namespace storage;
using storage_test::entry;
using storage_test::payload_for;
using storage_test::TempDir;

namespace {
// The WAL segment files in `dir`, oldest first.
std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> v;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    if (f.path().extension() == ".wal") v.push_back(f.path().string());
  std::sort(v.begin(), v.end());
  return v;
}

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
  const raft::ConfState cs{{1, 2, 3}, {}};
  {
    auto s = Storage::open(o);
    REQUIRE(s);
    CHECK((*s)->snapshot().value.empty());
    (*s)->set_conf_state(cs);
    (*s)->save({2, 1, 50}, make_entries(1, 80, 2));
    (*s)->create_snapshot(50, cs, "state machine image");
    (*s)->compact(45);
    CHECK((*s)->first_index() == 46);
  }
  for (const char* d : {"data", "data/wal", "data/snap"}) {
    CHECK(storage_test::mode_of(t.sub(d)) == 0700);
  }
  auto s = Storage::open(o);
  REQUIRE(s);
  const raft::Snapshot snap = (*s)->snapshot().value;
  CHECK(snap.metadata == raft::SnapshotMetadata{50, 2, cs});
  CHECK(snap.data == "state machine image");
  CHECK((*s)->initial_state().hard_state == raft::HardState{2, 1, 50});
  CHECK((*s)->initial_state().conf_state == cs);
  CHECK((*s)->first_index() == 46);
  CHECK((*s)->last_index() == 80);
  CHECK((*s)->term(45).value == 2);
  CHECK((*s)->entries(46, 81, UINT64_MAX).value == make_entries(46, 80, 2));

  // The raft::Storage error contract.
  CHECK((*s)->term(44).status == raft::Status::kCompacted);
  CHECK((*s)->term(81).status == raft::Status::kUnavailable);
  CHECK((*s)->entries(45, 50, UINT64_MAX).status == raft::Status::kCompacted);
  CHECK((*s)->entries(50, 82, UINT64_MAX).status == raft::Status::kUnavailable);
  // max_bytes counts data + 24 per entry, like raft::entry_size.
  const auto two = (*s)->entries(46, 81, 2 * (300 + 24));
  CHECK(two.value.size() == 2);

  // A newer snapshot replaces the older file.
  (*s)->create_snapshot(75, cs, "newer image");
  CHECK_FALSE(std::filesystem::exists((*s)->snapshots().path_for(2, 50)));
  s = Storage::open(o);
  REQUIRE(s);
  CHECK((*s)->snapshot().value.metadata.index == 75);
  CHECK((*s)->entries(46, 81, UINT64_MAX).value == make_entries(46, 80, 2));
}

TEST_CASE("a leader's snapshot replaces the log and survives a restart", "[storage]") {
  TempDir t;
  const StorageOptions o{t.sub("data"), 4096, true};
  raft::Snapshot leader;
  leader.metadata = {200, 7, {{1, 2, 3}, {}}};
  leader.data = std::string(10000, 'L');
  {
    auto s = Storage::open(o);
    REQUIRE(s);
    (*s)->save({3, 2, 10}, make_entries(1, 40, 3));
    CHECK((*s)->apply_snapshot(leader));
    CHECK_FALSE((*s)->apply_snapshot(leader));  // not newer: ignored
    CHECK((*s)->first_index() == 201);
    CHECK((*s)->last_index() == 200);
    CHECK((*s)->wal().segment_count() == 1);
    (*s)->save({7, 1, 200}, make_entries(201, 203, 7));
  }
  auto s = Storage::open(o);
  REQUIRE(s);
  CHECK((*s)->snapshot().value == leader);
  CHECK((*s)->term(200).value == 7);
  CHECK((*s)->entries(201, 204, UINT64_MAX).value == make_entries(201, 203, 7));
}

TEST_CASE("storage refuses to start when the snapshot the WAL names is damaged or gone",
          "[storage]") {
  TempDir t;
  const StorageOptions o{t.sub("data"), 1 << 20, true};
  std::string path;
  {
    auto s = Storage::open(o);
    REQUIRE(s);
    (*s)->save({1, 1, 10}, make_entries(1, 12, 1));
    (*s)->create_snapshot(10, {{1}, {}}, std::string(1000, 's'));
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
  {
    auto s = Storage::open(o);
    REQUIRE(s);
    (*s)->save({1, 1, 20}, make_entries(1, 20, 1));
    (*s)->create_snapshot(10, {{1}, {}}, "older");
  }
  // The newer file is durable but the WAL marker never made it: what a crash right after
  // SnapshotStore::save leaves.
  raft::Snapshot newer;
  newer.metadata = {20, 1, {{1}, {}}};
  newer.data = "newer";
  {
    auto store = SnapshotStore::open(t.sub("data/snap"));
    REQUIRE(store);
    store->save(newer);
  }
  auto s = Storage::open(o);
  REQUIRE(s);
  CHECK((*s)->snapshot().value.metadata.index == 10);
  CHECK((*s)->snapshot().value.data == "older");
  CHECK((*s)->entries(1, 21, UINT64_MAX).value == make_entries(1, 20, 1));
}

TEST_CASE("a snapshot file written elsewhere is adopted, unless it is no longer news",
          "[storage]") {
  TempDir t;
  const StorageOptions o{t.sub("data"), 4096, true};
  const raft::ConfState cs{{1, 2, 3}, {}};
  auto s = Storage::open(o);
  REQUIRE(s);
  (*s)->set_conf_state(cs);
  (*s)->save({3, 1, 60}, make_entries(1, 60, 3));

  // Written durably under its final name (as the node's forked writer does), then adopted: the
  // WAL names it, so a restart finds it.
  const raft::SnapshotMetadata at40{40, 3, cs};
  const std::string path40 = (*s)->snapshots().path_for(3, 40);
  REQUIRE(write_snapshot_file(path40, at40, "image at 40"));
  CHECK((*s)->adopt_snapshot(at40));
  CHECK(std::filesystem::exists(path40));
  CHECK((*s)->snapshot_metadata() == at40);
  CHECK((*s)->snapshot().value.data == "image at 40");  // read back from the file

  // Not news: below the current snapshot, beyond the log, or a term the log does not have. Each
  // is refused and its file removed; the current snapshot's own file is never touched.
  for (const raft::SnapshotMetadata& stale :
       {raft::SnapshotMetadata{30, 3, cs}, raft::SnapshotMetadata{61, 3, cs},
        raft::SnapshotMetadata{50, 2, cs}}) {
    const std::string path = (*s)->snapshots().path_for(stale.term, stale.index);
    REQUIRE(write_snapshot_file(path, stale, "stale"));
    CHECK_FALSE((*s)->adopt_snapshot(stale));
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK((*s)->snapshot_metadata() == at40);
  }
  CHECK_FALSE((*s)->adopt_snapshot(at40));
  CHECK(std::filesystem::exists(path40));

  // Adopted with the log compacted behind it, as the node does.
  const raft::SnapshotMetadata at55{55, 3, cs};
  REQUIRE(write_snapshot_file((*s)->snapshots().path_for(3, 55), at55, "image at 55"));
  CHECK((*s)->adopt_snapshot(at55, 50));
  CHECK((*s)->first_index() == 51);
  (*s)->wait_for_removals();  // the older file goes on the remover's thread
  CHECK_FALSE(std::filesystem::exists(path40));

  s = Storage::open(o);
  REQUIRE(s);
  CHECK((*s)->snapshot().value == raft::Snapshot{at55, "image at 55"});
  CHECK((*s)->first_index() == 51);
  CHECK((*s)->last_index() == 60);
}

TEST_CASE(
    "segments released by an adopted snapshot go in the background, and one a crash left "
    "behind is replayed and released again",
    "[storage]") {
  TempDir t;
  const StorageOptions o{t.sub("data"), 4096, true};  // ~12 entries of 300 B per segment
  const raft::ConfState cs{{1, 2, 3}, {}};
  const std::string wal_dir = t.sub("data/wal");
  const std::string saved = t.sub("saved");
  std::filesystem::create_directory(saved);
  std::vector<std::string> left_behind;
  {
    auto s = Storage::open(o);
    REQUIRE(s);
    (*s)->save({3, 1, 200}, make_entries(1, 200, 3));
    const auto before = segment_files(wal_dir);
    REQUIRE(before.size() > 10);
    const raft::SnapshotMetadata at150{150, 3, cs};
    REQUIRE(write_snapshot_file((*s)->snapshots().path_for(3, 150), at150, "image at 150"));
    // Copies of every segment, to put back those a crash could have left: the remover deletes
    // oldest first, so what survives a crash is the newest of the released ones.
    for (const auto& f : before)
      std::filesystem::copy_file(f, saved + "/" + std::filesystem::path(f).filename().string());
    CHECK((*s)->adopt_snapshot(at150, 120));
    (*s)->wait_for_removals();
    const auto after = segment_files(wal_dir);
    CHECK(after.size() == (*s)->wal().segment_count());
    REQUIRE(after.size() + 3 < before.size());
    const std::size_t released = before.size() - after.size();
    for (std::size_t k = released - 3; k < released; ++k)
      left_behind.push_back(before[k]);
  }
  for (const auto& f : left_behind)
    std::filesystem::copy_file(saved + "/" + std::filesystem::path(f).filename().string(), f);

  auto s = Storage::open(o);
  REQUIRE(s);
  CHECK((*s)->snapshot_metadata().index == 150);
  CHECK((*s)->first_index() == 121);
  CHECK((*s)->entries(121, 201, UINT64_MAX).value == make_entries(121, 200, 3));
  // The next snapshot releases them again.
  const raft::SnapshotMetadata at190{190, 3, cs};
  REQUIRE(write_snapshot_file((*s)->snapshots().path_for(3, 190), at190, "image at 190"));
  CHECK((*s)->adopt_snapshot(at190, 185));
  (*s)->wait_for_removals();
  for (const auto& f : left_behind)
    CHECK_FALSE(std::filesystem::exists(f));
  CHECK(segment_files(wal_dir).size() == (*s)->wal().segment_count());
  CHECK((*s)->entries(186, 201, UINT64_MAX).value == make_entries(186, 200, 3));
}
