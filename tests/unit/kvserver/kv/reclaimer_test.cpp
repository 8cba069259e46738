// Reclaimer: what a compaction dropped is freed on the reclaimer's thread, and none of it is lost
// at destruction.
#include "kvserver/kv/reclaimer.h"

#include <string>

#include <catch2/catch.hpp>

#include "tests/support/test_support.h"

using namespace kv;

namespace {
MvccStore::Dropped compact_many(MvccStore& s, int keys) {
  for (int i = 0; i < keys; ++i) {
    int64_t rev = s.current_revision() + 1;
    s.put("k" + std::to_string(i), std::string(100, 'v'), 0, rev);
    s.commit(rev);
  }
  int64_t rev = s.current_revision() + 1;
  REQUIRE(s.remove_range("k", "l", rev, [](auto&, auto&) {}) == static_cast<std::size_t>(keys));
  s.commit(rev);
  MvccStore::Dropped dropped;
  REQUIRE(s.compact(rev, &dropped).ok());
  REQUIRE(dropped.keys.size() == static_cast<std::size_t>(keys));
  return dropped;
}
}  // namespace

TEST_CASE("the reclaimer frees handed-over batches on its thread, in the background") {
  MvccStore s;
  Reclaimer r;
  CHECK(r.pending() == 0);
  r.give(MvccStore::Dropped{});  // nothing to free: not queued
  CHECK(r.pending() == 0);
  r.give(compact_many(s, 1000));
  r.give(compact_many(s, 10));
  CHECK(test_support::eventually([&] { return r.pending() == 0; }));
  CHECK(s.key_count() == 0);
}

TEST_CASE("a stopping reclaimer frees the batches still queued before it returns") {
  MvccStore s;
  Reclaimer r;
  for (int i = 0; i < 5; ++i)
    r.give(compact_many(s, 2000));
  r.stop();
  CHECK(r.pending() == 0);
  r.give(compact_many(s, 10));  // after stop: freed at once, on this thread
  CHECK(r.pending() == 0);
}
