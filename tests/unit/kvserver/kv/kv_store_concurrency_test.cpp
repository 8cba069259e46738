// Readers on many threads during applies: every read sees one committed revision, never half a txn.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "kvserver/kv/kv_store.h"
#include "tests/unit/kvserver/kv/kv_test_util.h"

using namespace kv;
using namespace kv::test;

TEST_CASE("concurrent ranges during txns always see a whole txn and a consistent revision") {
  KvStore s;
  constexpr int kKeys = 10;
  constexpr int kTxns = 2000;
  auto key = [](int i) { return "c/" + std::to_string(i); };
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> bad{0};

  auto reader = [&] {
    int64_t last_header = 0;
    while (!done.load()) {
      RangeResponse r = get(s, "c/", prefix_end("c/"));
      ++reads;
      // Header revisions never go backwards for one reader.
      if (r.revision < last_header) ++bad;
      last_header = r.revision;
      if (r.kvs.empty()) continue;  // before the first txn
      if (r.kvs.size() != kKeys) {
        ++bad;
        continue;
      }
      for (const auto& kv : r.kvs) {
        // All keys were written by the same txn: same value, same mod revision, and that
        // revision is the one the header reports (only these txns write).
        if (kv.value != r.kvs[0].value || kv.mod_revision != r.kvs[0].mod_revision ||
            kv.mod_revision != r.revision) {
          ++bad;
        }
      }
      // A historical read at an older revision is just as whole.
      if (r.revision > 3) {
        RangeResponse old = get(s, "c/", prefix_end("c/"), r.revision - 1);
        for (const auto& kv : old.kvs) {
          if (kv.mod_revision != r.revision - 1) ++bad;
        }
      }
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i)
    readers.emplace_back(reader);

  for (int n = 0; n < kTxns; ++n) {
    TxnRequest t;
    for (int i = 0; i < kKeys; ++i)
      t.success.push_back(put_op(key(i), std::to_string(n)));
    s.txn(t).value();
    // Let readers in between writes now and then, so interleavings really happen.
    if (n % 100 == 0) {
      int target = reads.load() + 4;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (reads.load() < target && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
    }
  }
  done = true;
  for (auto& t : readers)
    t.join();
  CHECK(bad.load() == 0);
  CHECK(reads.load() > 0);
  CHECK(s.revision() == kTxns + 1);
  auto final = get(s, "c/", prefix_end("c/"));
  CHECK(final.kvs.size() == kKeys);
  CHECK(final.kvs[0].value == std::to_string(kTxns - 1));
}
