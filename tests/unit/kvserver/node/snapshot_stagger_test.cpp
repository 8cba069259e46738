// staggered_snapshot_due: each member of a cluster waits for a different share of log beyond the
// last snapshot's size, the same share whatever order it lists the members in.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "kvserver/server/node/snapshot_stagger.h"

using kvserver::node::staggered_snapshot_due;

TEST_CASE("three members snapshot a sixth of a snapshot's worth of log apart", "[stagger]") {
  const uint64_t bytes = 600'000'000;
  const std::vector<uint64_t> ids{0x9a, 0x11, 0x5c};  // not sorted: ranks are by id
  CHECK(staggered_snapshot_due(bytes, 0x11, ids) == bytes);
  CHECK(staggered_snapshot_due(bytes, 0x5c, ids) == bytes + bytes / 6);
  CHECK(staggered_snapshot_due(bytes, 0x9a, ids) == bytes + 2 * bytes / 6);
}

TEST_CASE("every member gets its own threshold, below 1.5 snapshots, in any list order",
          "[stagger]") {
  const uint64_t bytes = 123'456'789;
  std::vector<uint64_t> ids{7, 3, 42, 19, 1000};
  std::set<uint64_t> due;
  for (uint64_t self : ids)
    due.insert(staggered_snapshot_due(bytes, self, ids));
  CHECK(due.size() == ids.size());
  CHECK(*due.begin() == bytes);
  CHECK(*due.rbegin() < bytes + bytes / 2);
  // Each member computes its own from its applied membership: the order it holds them in must not
  // matter.
  std::vector<uint64_t> reversed(ids.rbegin(), ids.rend());
  for (uint64_t self : ids)
    CHECK(staggered_snapshot_due(bytes, self, reversed) ==
          staggered_snapshot_due(bytes, self, ids));
}

TEST_CASE("a lone member, or one not in the membership, is not staggered", "[stagger]") {
  CHECK(staggered_snapshot_due(1000, 5, {5}) == 1000);
  CHECK(staggered_snapshot_due(1000, 5, {1, 2, 3}) == 1000);
  CHECK(staggered_snapshot_due(1000, 5, {}) == 1000);
  CHECK(staggered_snapshot_due(0, 3, {1, 2, 3}) == 0);
}

TEST_CASE("a store too large to multiply does not overflow", "[stagger]") {
  const uint64_t huge = UINT64_MAX / 2;
  const uint64_t due = staggered_snapshot_due(huge, 3, {1, 2, 3});
  CHECK(due > huge);
  CHECK(due == huge + huge / 6 * 2);
}
