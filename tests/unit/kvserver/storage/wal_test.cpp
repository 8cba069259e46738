// The WAL's write and read sides, and what survives a restart (recovery of damage: wal_open_test).
#include "kvserver/storage/wal.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <vector>

#include "kvserver/storage/file_util.h"
#include "tests/unit/kvserver/storage/test_util.h"

using namespace storage;
using storage_test::entry;
using storage_test::payload_for;
using storage_test::TempDir;

namespace {

std::unique_ptr<Wal> open_ok(const WalOptions& o) {
  auto r = Wal::open(o);
  if (!r) FAIL("Wal::open: " << r.error().message);
  return std::move(*r);
}

std::vector<raft::Entry> make_entries(raft::Index from, raft::Index to, raft::Term term,
                                      std::size_t bytes) {
  std::vector<raft::Entry> v;
  for (raft::Index i = from; i <= to; ++i)
    v.push_back(entry(i, term, payload_for(i, bytes)));
  return v;
}

std::vector<raft::Entry> all(const Wal& w) {
  return w.entries(w.first_index(), w.last_index() + 1);
}

}  // namespace

TEST_CASE("a new WAL is empty, in a 0700 directory, and reopens empty", "[wal]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 1 << 20, true};
  {
    auto w = open_ok(o);
    CHECK(w->first_index() == 1);
    CHECK(w->last_index() == 0);
    CHECK(w->hard_state().empty());
    CHECK(w->term(0) == 0);
  }
  CHECK(storage_test::mode_of(o.dir) == 0700);
  auto w = open_ok(o);
  CHECK(w->last_index() == 0);
  CHECK(w->segment_count() == 1);
}

TEST_CASE("entries and hard state round-trip and survive a restart", "[wal]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 1 << 20, true};
  const auto first = make_entries(1, 50, 1, 100);
  const auto second = make_entries(51, 80, 2, 3000);
  {
    auto w = open_ok(o);
    w->save({1, 2, 0}, first);
    w->save({2, 3, 40}, second);
    CHECK(w->last_index() == 80);
    CHECK(w->term(50) == 1);
    CHECK(w->term(51) == 2);
    CHECK(w->entries(1, 51) == first);
  }
  auto w = open_ok(o);
  CHECK(w->hard_state() == raft::HardState{2, 3, 40});
  CHECK(w->first_index() == 1);
  CHECK(w->last_index() == 80);
  auto got = all(*w);
  std::vector<raft::Entry> want = first;
  want.insert(want.end(), second.begin(), second.end());
  CHECK(got == want);
  CHECK(w->repaired_tail().empty());
  // And the reopened WAL keeps appending where it left off.
  w->save({2, 3, 80}, make_entries(81, 81, 2, 10));
  w.reset();
  w = open_ok(o);
  CHECK(w->last_index() == 81);
  CHECK(w->hard_state().commit == 80);
}

TEST_CASE("one save is one fdatasync however many entries it holds (group commit)", "[wal]") {
  TempDir t;
  auto w = open_ok({t.sub("wal"), 64 << 20, true});
  const std::uint64_t before = w->sync_count();
  w->save({1, 1, 0}, make_entries(1, 256, 1, 256));
  CHECK(w->sync_count() == before + 1);
  w->save({1, 1, 0}, {});  // nothing new: no sync at all
  CHECK(w->sync_count() == before + 1);
  w->save({1, 1, 5}, {});  // hard state alone still syncs
  CHECK(w->sync_count() == before + 2);
}

TEST_CASE("with unsafe-no-fsync saves skip their fdatasync and still read back", "[wal]") {
  struct SwitchOn {  // off again however the test ends: the switch is process-wide
    SwitchOn() { set_unsafe_no_fsync(true); }
    ~SwitchOn() { set_unsafe_no_fsync(false); }
  };
  TempDir t;
  {
    SwitchOn on;
    auto w = open_ok({t.sub("wal"), 64 << 20, true});
    const std::uint64_t skipped = skipped_syncs();
    w->save({1, 1, 0}, make_entries(1, 8, 1, 256));
    w->save({1, 1, 8}, make_entries(9, 16, 1, 256));
    CHECK(skipped_syncs() >= skipped + 2);
  }
  const std::uint64_t skipped = skipped_syncs();
  auto w = open_ok({t.sub("wal"), 64 << 20, true});
  CHECK(w->last_index() == 16);
  CHECK(all(*w) == make_entries(1, 16, 1, 256));
  w->save({1, 1, 16}, make_entries(17, 17, 1, 256));
  CHECK(skipped_syncs() == skipped);  // off again: nothing skipped
}

TEST_CASE("a conflicting suffix is replaced, and the replacement survives a restart", "[wal]") {
  TempDir t;
  // Small segments so the conflict reaches back into an earlier segment.
  const WalOptions o{t.sub("wal"), 4096, true};
  {
    auto w = open_ok(o);
    w->save({1, 1, 0}, make_entries(1, 40, 1, 200));
    REQUIRE(w->segment_count() > 2);
    w->save({2, 2, 0}, make_entries(6, 8, 2, 50));  // follower truncates on conflict at 6
    CHECK(w->last_index() == 8);
    CHECK(w->term(5) == 1);
    CHECK(w->term(6) == 2);
  }
  auto w = open_ok(o);
  CHECK(w->last_index() == 8);
  auto got = all(*w);
  REQUIRE(got.size() == 8);
  CHECK(got[4] == entry(5, 1, payload_for(5, 200)));
  CHECK(got[5] == entry(6, 2, payload_for(6, 50)));
  CHECK(got[7] == entry(8, 2, payload_for(8, 50)));
}

TEST_CASE("segments roll at the size limit and all of them replay", "[wal]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 8192, true};
  {
    auto w = open_ok(o);
    for (raft::Index i = 1; i <= 100; i += 10)
      w->save({1, 1, i}, make_entries(i, i + 9, 1, 500));
    CHECK(w->segment_count() >= 100 * 500 / 8192);
  }
  std::size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(o.dir)) {
    ++files;
    // Preallocated, and never more than one segment's worth (no record is bigger than one).
    CHECK(std::filesystem::file_size(f.path()) == 8192);
  }
  auto w = open_ok(o);
  CHECK(w->segment_count() == files);
  CHECK(all(*w) == make_entries(1, 100, 1, 500));
}

TEST_CASE("an entry bigger than a segment gets a segment of its own", "[wal]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 4096, true};
  {
    auto w = open_ok(o);
    w->save({1, 1, 0}, make_entries(1, 3, 1, 100));
    w->save({1, 1, 0}, make_entries(4, 4, 1, 20000));
    w->save({1, 1, 0}, make_entries(5, 6, 1, 100));
  }
  auto w = open_ok(o);
  auto got = all(*w);
  REQUIRE(got.size() == 6);
  CHECK(got[3].data == payload_for(4, 20000));
  CHECK(got[5].data == payload_for(6, 100));
}

TEST_CASE("entries() honours max_bytes but always returns at least one entry", "[wal]") {
  TempDir t;
  auto w = open_ok({t.sub("wal"), 1 << 20, true});
  w->save({1, 1, 0}, make_entries(1, 20, 1, 1000));
  CHECK(w->entries(1, 21, 0).size() == 1);
  const auto some = w->entries(1, 21, 5000);
  CHECK(some.size() >= 4);
  CHECK(some.size() <= 5);
  CHECK(some == make_entries(1, some.size(), 1, 1000));
  CHECK(w->entries(7, 7).empty());
  CHECK(w->entries(20, 21) == make_entries(20, 20, 1, 1000));
}

TEST_CASE("a snapshot of this log keeps it until compact drops the prefix", "[wal][snapshot]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 4096, true};
  {
    auto w = open_ok(o);
    w->save({3, 1, 60}, make_entries(1, 100, 3, 300));
    const std::size_t before = w->segment_count();
    w->mark_snapshot({60, 3, {{1, 2, 3}, {}}}, /*discard_log=*/false);
    CHECK(w->first_index() == 1);  // a snapshot alone drops nothing: slow followers still catch up
    CHECK(w->segment_count() == before);
    // Compact behind the snapshot, keeping 20 entries for followers that lag.
    const std::size_t released = w->compact(40);
    CHECK(released > 0);
    CHECK(w->segment_count() == before - released);
    CHECK(w->first_index() == 41);
    CHECK(w->term(40) == 3);
    CHECK(w->entries(41, 101) == make_entries(41, 100, 3, 300));
  }
  auto w = open_ok(o);
  CHECK(w->snapshot_metadata() == raft::SnapshotMetadata{60, 3, {{1, 2, 3}, {}}});
  CHECK(w->first_index() == 41);
  CHECK(w->last_index() == 100);
  CHECK(w->term(40) == 3);
  CHECK(w->hard_state() == raft::HardState{3, 1, 60});
  CHECK(all(*w) == make_entries(41, 100, 3, 300));
  // Keeps working after a restart on a compacted log.
  w->save({3, 1, 100}, make_entries(101, 110, 3, 300));
  w->mark_snapshot({105, 3, {{1, 2, 3}, {}}}, false);
  w->compact(105);
  w.reset();
  w = open_ok(o);
  CHECK(w->first_index() == 106);
  CHECK(all(*w) == make_entries(106, 110, 3, 300));
}

TEST_CASE("a snapshot marker and the compaction behind it take one fdatasync together",
          "[wal][snapshot]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 4096, true};
  const raft::SnapshotMetadata snap{60, 3, {{1, 2, 3}, {}}};
  {
    auto w = open_ok(o);
    w->save({3, 1, 60}, make_entries(1, 100, 3, 300));
    const std::size_t segments = w->segment_count();
    const std::uint64_t syncs = w->sync_count();
    const std::size_t released = w->mark_snapshot_and_compact(snap, 40);
    CHECK(w->sync_count() == syncs + 1);
    CHECK(released > 0);
    CHECK(w->segment_count() == segments - released);
    CHECK(w->snapshot_metadata() == snap);
    CHECK(w->first_index() == 41);
    // Nothing to drop (at or below the compacted index): the marker alone, still one sync.
    const raft::SnapshotMetadata later{80, 3, {{1, 2, 3}, {}}};
    CHECK(w->mark_snapshot_and_compact(later, 30) == 0);
    CHECK(w->sync_count() == syncs + 2);
    CHECK(w->first_index() == 41);
  }
  auto w = open_ok(o);
  CHECK(w->snapshot_metadata() == raft::SnapshotMetadata{80, 3, {{1, 2, 3}, {}}});
  CHECK(w->first_index() == 41);
  CHECK(all(*w) == make_entries(41, 100, 3, 300));
}

TEST_CASE("compacting up to the snapshot releases every segment but the current one",
          "[wal][snapshot]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 4096, true};
  auto w = open_ok(o);
  w->save({1, 1, 50}, make_entries(1, 50, 1, 400));
  REQUIRE(w->segment_count() > 3);
  w->mark_snapshot({50, 1, {{1}, {}}}, false);
  w->compact(50);
  CHECK(w->segment_count() == 1);
  CHECK(w->first_index() == 51);
  w->save({1, 1, 51}, make_entries(51, 51, 1, 10));
  w.reset();
  w = open_ok(o);
  CHECK(w->first_index() == 51);
  CHECK(all(*w) == make_entries(51, 51, 1, 10));
}

TEST_CASE("a leader's snapshot discards the whole log", "[wal][snapshot]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 1 << 20, true};
  {
    auto w = open_ok(o);
    w->save({2, 1, 5}, make_entries(1, 30, 2, 50));
    w->mark_snapshot({20, 5, {{1, 2, 3}, {4}}}, /*discard_log=*/true);
    CHECK(w->last_index() == 20);
    CHECK(w->first_index() == 21);
    // Entries the snapshot covers are skipped, like MemoryStorage does.
    w->save({5, 2, 20}, make_entries(19, 22, 5, 50));
  }
  auto w = open_ok(o);
  CHECK(w->snapshot_metadata().index == 20);
  CHECK(w->term(20) == 5);
  CHECK(all(*w) == make_entries(21, 22, 5, 50));
}
