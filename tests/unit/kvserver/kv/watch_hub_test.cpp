// Watch delivery through KvStore's hub: order, grouping, replay, compaction, slow watchers.
#include "kvserver/kv/watch_hub.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "kvserver/kv/kv_store.h"
#include "tests/unit/kvserver/kv/kv_test_util.h"

using namespace kv;
using namespace kv::test;

namespace {

WatchRequest watch_key(const std::string& key, const std::string& range_end = "",
                       int64_t start = 0) {
  WatchRequest w;
  w.key = key;
  w.range_end = range_end;
  w.start_revision = start;
  return w;
}

// Everything the watcher has now, in order.
std::vector<Event> drain(WatchHub& hub, WatchId id, std::vector<WatchResponse>* batches = nullptr) {
  std::vector<Event> out;
  while (auto r = hub.poll(id)) {
    for (auto& e : r->events)
      out.push_back(e);
    if (batches) batches->push_back(*r);
  }
  return out;
}

}  // namespace

TEST_CASE("a watcher gets puts and deletes in revision order, with prev_kv when asked") {
  KvStore s;
  int notified = 0;
  WatchRequest req = watch_key("k");
  req.prev_kv = true;
  WatchId id = s.watch_hub().watch(req, [&](WatchId) { ++notified; });
  CHECK_FALSE(s.watch_hub().poll(id));
  put(s, "k", "1");
  put(s, "other", "x");
  put(s, "k", "2");
  del(s, "k");
  CHECK(notified == 1);  // once, when its buffer turned non-empty
  auto evs = drain(s.watch_hub(), id);
  REQUIRE(evs.size() == 3);
  CHECK(evs[0].type == EventType::kPut);
  CHECK(evs[0].kv.value == "1");
  CHECK_FALSE(evs[0].prev_kv);
  CHECK(evs[1].kv.mod_revision == 4);
  REQUIRE(evs[1].prev_kv);
  CHECK(evs[1].prev_kv->value == "1");
  CHECK(evs[2].type == EventType::kDelete);
  CHECK(evs[2].kv.key == "k");
  CHECK(evs[2].kv.mod_revision == 5);
  CHECK(evs[2].kv.value.empty());
  REQUIRE(evs[2].prev_kv);
  CHECK(evs[2].prev_kv->value == "2");
}

TEST_CASE("a txn's events reach a watcher together, under the txn's revision") {
  KvStore s;
  WatchId id = s.watch_hub().watch(watch_key("t/", prefix_end("t/")), nullptr);
  TxnRequest t;
  t.success = {put_op("t/a", "1"), put_op("x", "1"), put_op("t/b", "2")};
  s.txn(t).value();
  std::vector<WatchResponse> batches;
  auto evs = drain(s.watch_hub(), id, &batches);
  REQUIRE(batches.size() == 1);
  CHECK(batches[0].revision == 2);
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].kv.key == "t/a");
  CHECK(evs[1].kv.key == "t/b");
  CHECK(evs[0].kv.mod_revision == evs[1].kv.mod_revision);
}

TEST_CASE("filters drop puts or deletes") {
  KvStore s;
  WatchRequest noput = watch_key("k");
  noput.filter_put = true;
  WatchRequest nodel = watch_key("k");
  nodel.filter_delete = true;
  WatchId a = s.watch_hub().watch(noput, nullptr);
  WatchId b = s.watch_hub().watch(nodel, nullptr);
  put(s, "k", "1");
  del(s, "k");
  auto ea = drain(s.watch_hub(), a);
  auto eb = drain(s.watch_hub(), b);
  REQUIRE(ea.size() == 1);
  CHECK(ea[0].type == EventType::kDelete);
  REQUIRE(eb.size() == 1);
  CHECK(eb[0].type == EventType::kPut);
}

TEST_CASE("a start revision in the past replays history, then continues live") {
  KvStore s;
  put(s, "p/1", "a");  // 2
  put(s, "q", "a");    // 3
  del(s, "p/1");       // 4
  put(s, "p/2", "b");  // 5
  int notified = 0;
  WatchRequest req = watch_key("p/", prefix_end("p/"), 3);
  req.prev_kv = true;
  WatchId id = s.watch_hub().watch(req, [&](WatchId) { ++notified; });
  CHECK(notified == 1);  // told to poll at once: history is waiting
  auto evs = drain(s.watch_hub(), id);
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].type == EventType::kDelete);
  CHECK(evs[0].kv.mod_revision == 4);
  REQUIRE(evs[0].prev_kv);
  CHECK(evs[0].prev_kv->value == "a");
  CHECK(evs[1].kv.key == "p/2");
  put(s, "p/3", "c");  // 6, live
  evs = drain(s.watch_hub(), id);
  REQUIRE(evs.size() == 1);
  CHECK(evs[0].kv.mod_revision == 6);
  CHECK(s.watch_hub().unsynced_count() == 0);

  WatchId single = s.watch_hub().watch(watch_key("p/1", "", 1), nullptr);
  evs = drain(s.watch_hub(), single);
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].kv.mod_revision == 2);
  CHECK(evs[1].type == EventType::kDelete);
}

TEST_CASE("a watch starting below the compacted revision is cancelled with compact_revision") {
  KvStore s;
  for (int i = 0; i < 5; ++i)
    put(s, "k", std::to_string(i));  // 2..6
  REQUIRE(s.compact(5).ok());
  WatchId id = s.watch_hub().watch(watch_key("k", "", 3), nullptr);
  auto r = s.watch_hub().poll(id);
  REQUIRE(r);
  CHECK(r->canceled);
  CHECK(r->compact_revision == 5);
  CHECK(r->events.empty());
  CHECK_FALSE(s.watch_hub().poll(id));
  CHECK(s.watch_hub().watcher_count() == 0);

  WatchId ok = s.watch_hub().watch(watch_key("k", "", 5), nullptr);  // at the boundary: allowed
  auto evs = drain(s.watch_hub(), ok);
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].kv.mod_revision == 5);
  CHECK(evs[1].kv.mod_revision == 6);
}

TEST_CASE("cancel stops delivery") {
  KvStore s;
  WatchId id = s.watch_hub().watch(watch_key("k"), nullptr);
  CHECK(s.watch_hub().cancel(id));
  CHECK_FALSE(s.watch_hub().cancel(id));
  put(s, "k", "1");
  CHECK_FALSE(s.watch_hub().poll(id));
  CHECK_FALSE(s.watch_hub().has_watchers());
}

TEST_CASE("progress: a synced watcher with nothing pending has seen the published revision") {
  KvStore::Options opts;
  opts.watch.max_pending_events = 2;
  KvStore s(opts);
  WatchHub& hub = s.watch_hub();
  WatchId id = hub.watch(watch_key("k"), [](WatchId) {});
  put(s, "other", "x");  // not its key: it has still seen revision 2
  REQUIRE(hub.progress(id) == std::optional<int64_t>(2));
  put(s, "k", "1");
  CHECK_FALSE(hub.progress(id));  // an event waits to be polled
  CHECK(drain(hub, id).size() == 1);
  CHECK(hub.progress(id) == std::optional<int64_t>(3));
  for (int i = 0; i < 3; ++i)
    put(s, "k", std::to_string(i));  // past max_pending_events: unsynced
  CHECK_FALSE(hub.progress(id));
  CHECK(drain(hub, id).size() == 3);  // caught up from history, synced again
  CHECK(hub.progress(id) == std::optional<int64_t>(6));
  WatchId replay = hub.watch(watch_key("k", "", 1), [](WatchId) {});
  CHECK_FALSE(hub.progress(replay));  // starts in the past: not synced until it has caught up
  hub.cancel(id);
  CHECK_FALSE(hub.progress(id));
}

TEST_CASE("a slow watcher falls back to history and catches up without gaps or repeats") {
  KvStore::Options opts;
  opts.watch.max_pending_events = 4;
  KvStore s(opts);
  WatchId id = s.watch_hub().watch(watch_key("", std::string(1, '\0')), nullptr);
  for (int i = 0; i < 100; ++i)
    put(s, "k" + std::to_string(i % 7), std::to_string(i));
  CHECK(s.watch_hub().unsynced_count() == 1);  // the apply thread stopped buffering for it
  std::vector<WatchResponse> batches;
  auto evs = drain(s.watch_hub(), id, &batches);
  REQUIRE(evs.size() == 100);
  for (std::size_t i = 0; i < evs.size(); ++i) {
    CHECK(evs[i].kv.mod_revision == static_cast<int64_t>(i) + 2);
    CHECK(evs[i].kv.value == std::to_string(i));
  }
  CHECK(batches.size() > 1);  // history came in bounded chunks
  for (const auto& b : batches)
    CHECK(b.events.size() <= 4);
  CHECK(s.watch_hub().unsynced_count() == 0);
  put(s, "k0", "live");
  evs = drain(s.watch_hub(), id);
  REQUIRE(evs.size() == 1);
  CHECK(evs[0].kv.value == "live");
}

TEST_CASE("a slow watcher whose history is compacted away is cancelled") {
  KvStore::Options opts;
  opts.watch.max_pending_events = 2;
  KvStore s(opts);
  WatchId id = s.watch_hub().watch(watch_key("k"), nullptr);
  for (int i = 0; i < 10; ++i)
    put(s, "k", std::to_string(i));  // 2..11
  REQUIRE(s.compact(8).ok());
  auto first = s.watch_hub().poll(id);  // what was buffered before it fell behind
  REQUIRE(first);
  CHECK(first->events.size() == 2);
  auto second = s.watch_hub().poll(id);
  REQUIRE(second);
  CHECK(second->canceled);
  CHECK(second->compact_revision == 8);
}

TEST_CASE("thousands of idle watchers: one write notifies only the watchers it concerns") {
  KvStore s;
  std::atomic<int> notified{0};
  for (int i = 0; i < 5000; ++i) {
    s.watch_hub().watch(watch_key("key" + std::to_string(i)), [&](WatchId) { ++notified; });
  }
  WatchId prefix = s.watch_hub().watch(watch_key("key4", prefix_end("key4")), nullptr);
  put(s, "key42", "v");
  CHECK(notified.load() == 1);
  CHECK(drain(s.watch_hub(), prefix).size() == 1);
  CHECK(s.watch_hub().watcher_count() == 5001);
}

TEST_CASE("a watcher polled from another thread during writes sees every revision once, in order") {
  KvStore::Options opts;
  opts.watch.max_pending_events = 8;  // small, so it keeps flipping between synced and unsynced
  KvStore s(opts);
  WatchId id = s.watch_hub().watch(watch_key("w/", prefix_end("w/")), nullptr);
  constexpr int kWrites = 3000;
  std::atomic<bool> done{false};
  std::vector<int64_t> seen;
  std::thread consumer([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      bool writer_done = done.load();
      auto r = s.watch_hub().poll(id);
      if (r) {
        for (const auto& e : r->events)
          seen.push_back(e.kv.mod_revision);
      } else if (writer_done) {
        break;  // writer finished before this empty poll: everything has been delivered
      } else {
        std::this_thread::yield();
      }
    }
  });
  for (int i = 0; i < kWrites; ++i) {
    TxnRequest t;  // two events per revision, which must stay together
    t.success = {put_op("w/a", std::to_string(i)), put_op("w/b", std::to_string(i))};
    s.txn(t).value();
  }
  done = true;
  consumer.join();
  REQUIRE(seen.size() == 2 * kWrites);
  for (int i = 0; i < kWrites; ++i) {
    CHECK(seen[2 * i] == i + 2);
    CHECK(seen[2 * i + 1] == i + 2);
  }
}

TEST_CASE("a lease revoke reaches a watcher as one batch of deletes at one revision") {
  KvStore s;
  int64_t lease = s.lease_grant(0, 10, 0).value().id;
  put(s, "l/a", "1", lease);
  put(s, "l/b", "1", lease);
  put(s, "l/c", "1");
  WatchId id = s.watch_hub().watch(watch_key("l/", prefix_end("l/")), nullptr);
  int64_t rev = s.lease_revoke(lease).value();
  std::vector<WatchResponse> batches;
  auto evs = drain(s.watch_hub(), id, &batches);
  REQUIRE(batches.size() == 1);
  CHECK(batches[0].revision == rev);
  REQUIRE(evs.size() == 2);
  for (const auto& e : evs) {
    CHECK(e.type == EventType::kDelete);
    CHECK(e.kv.mod_revision == rev);
  }
  CHECK(evs[0].kv.key == "l/a");
  CHECK(evs[1].kv.key == "l/b");
}
