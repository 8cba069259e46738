// Snapshot round trips: the restored store has the same hash, ranges, history and leases.
#include <catch2/catch.hpp>

#include "kvserver/kv/kv_store.h"
#include "tests/unit/kvserver/kv/kv_test_util.h"

using namespace kv;
using namespace kv::test;

namespace {
const std::string kAll(1, '\0');

// A store with history worth keeping: several generations, deletes, a compaction, leases.
void build(KvStore& s) {
  int64_t l1 = s.lease_grant(0, 60, 0).value().id;
  int64_t l2 = s.lease_grant(77, 120, 0).value().id;
  for (int i = 0; i < 50; ++i) {
    put(s, "k" + std::to_string(i % 13), "v" + std::to_string(i), i % 5 == 0 ? l1 : 0);
  }
  del(s, "k1");
  del(s, "k2", "k4");
  put(s, std::string("bin\0\xff", 5), std::string("\0\1\2", 3), l2);
  REQUIRE(s.compact(30).ok());
  TxnRequest t;
  t.success = {put_op("t1", "x", l2), put_op("t2", "y"), delete_op("k5")};
  s.txn(t).value();
}

void same_reads(const KvStore& a, const KvStore& b) {
  for (int64_t rev = a.compacted_revision(); rev <= a.revision(); ++rev) {
    INFO("revision " << rev);
    CHECK(get(a, kAll, kAll, rev).kvs == get(b, kAll, kAll, rev).kvs);
    CHECK(a.hash(rev).value().hash == b.hash(rev).value().hash);
  }
}
}  // namespace

TEST_CASE("snapshot then restore gives identical revisions, ranges, hashes and leases") {
  KvStore a;
  build(a);
  std::string snap = a.snapshot();
  KvStore b;
  REQUIRE(b.restore(snap, 0).ok());
  CHECK(b.revision() == a.revision());
  CHECK(b.compacted_revision() == a.compacted_revision());
  same_reads(a, b);
  CHECK(b.lease_ids() == a.lease_ids());
  for (int64_t id : a.lease_ids()) {
    auto la = a.lease_time_to_live(id, true, 0).value();
    auto lb = b.lease_time_to_live(id, true, 0).value();
    CHECK(la.keys == lb.keys);
    CHECK(la.granted_ttl == lb.granted_ttl);
  }
  CHECK(b.snapshot() == snap);
  CHECK(b.size_bytes() > 0);

  // Both go on identically: same writes, same revisions, same hashes, same lease behaviour.
  std::vector<int64_t> granted;
  for (KvStore* s : {&a, &b}) {
    put(*s, "after", "1");
    REQUIRE(s->lease_revoke(77).ok());
    granted.push_back(s->lease_grant(0, 5, 0).value().id);
  }
  CHECK(granted[0] == granted[1]);
  CHECK(a.lease_ids() == b.lease_ids());
  CHECK(a.revision() == b.revision());
  same_reads(a, b);
}

TEST_CASE("restoring over a store with keys of its own leaves only the snapshot's") {
  KvStore a;
  build(a);
  KvStore b;
  for (int i = 0; i < 1000; ++i)
    put(b, "mine/" + std::to_string(i), std::string(100, 'x'));  // freed by b's reclaimer
  REQUIRE(b.restore(a.snapshot(), 0).ok());
  same_reads(a, b);
  CHECK(b.snapshot() == a.snapshot());
  CHECK(b.size_bytes() == a.size_bytes());
}

TEST_CASE("a restored store replays watch history below its revision") {
  KvStore a;
  build(a);
  KvStore b;
  REQUIRE(b.restore(a.snapshot(), 0).ok());
  WatchRequest w;
  w.key = "t";
  w.range_end = prefix_end("t");
  w.start_revision = a.compacted_revision();
  WatchId id = b.watch_hub().watch(w, nullptr);
  auto r = b.watch_hub().poll(id);
  REQUIRE(r);
  REQUIRE(r->events.size() == 2);
  CHECK(r->events[0].kv.key == "t1");
  CHECK(r->events[1].kv.key == "t2");
}

TEST_CASE("restore rejects corrupt or foreign bytes and keeps the current state") {
  KvStore a;
  build(a);
  std::string snap = a.snapshot();
  KvStore b;
  put(b, "mine", "1");
  std::string flipped = snap;
  flipped[flipped.size() / 2] ^= 0x01;
  CHECK(b.restore(flipped, 0).error().code() == ErrorCode::kBadSnapshot);
  CHECK(b.restore(snap.substr(0, snap.size() - 1), 0).error().code() == ErrorCode::kBadSnapshot);
  CHECK(b.restore("not a snapshot", 0).error().code() == ErrorCode::kBadSnapshot);
  CHECK(b.restore("", 0).error().code() == ErrorCode::kBadSnapshot);
  CHECK(keys_of(get(b, kAll, kAll)) == std::vector<std::string>{"mine"});
}

TEST_CASE("a watcher open across a restore catches up from the new history") {
  KvStore a;
  for (int i = 0; i < 5; ++i)
    put(a, "k", std::to_string(i));  // 2..6
  KvStore b;
  put(b, "k", "0");  // 2
  WatchRequest w;
  w.key = "k";
  WatchId id = b.watch_hub().watch(w, nullptr);  // from 3
  REQUIRE(b.restore(a.snapshot(), 0).ok());
  std::vector<int64_t> revs;
  while (auto r = b.watch_hub().poll(id)) {
    for (const auto& e : r->events)
      revs.push_back(e.kv.mod_revision);
  }
  CHECK(revs == std::vector<int64_t>{3, 4, 5, 6});
  put(b, "k", "live");
  auto r = b.watch_hub().poll(id);
  REQUIRE(r);
  CHECK(r->events.at(0).kv.mod_revision == 7);
}
