// KvStore::hash takes the store's lock one slice of keys at a time, so applies go on while a large
// store is hashed (HashKV). These check that what happens between slices cannot change the answer:
// writes leave it as it was when the hash started; a compaction makes it start over.
#include "kvserver/kv/kv_store.h"

#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/kvserver/kv/kv_test_util.h"

using namespace kv;
using namespace kv::test;

namespace {

// Enough keys for several slices; every key written twice, so a compaction has versions to drop.
constexpr int kKeys = 10000;

std::string key_name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%05d", i);
  return buf;
}

void fill(KvStore& s) {
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kKeys; ++i)
      put(s, key_name(i), "v" + std::to_string(round));
  }
}

}  // namespace

TEST_CASE("a hash taken in slices is unchanged by puts and deletes between the slices") {
  KvStore s;
  fill(s);
  const int64_t rev = s.revision();
  const uint32_t before = s.hash(rev).value().hash;
  int slices = 0;
  auto write_ahead = [&] {
    // Touch keys the hash has not reached yet: overwrite, delete, and insert between them.
    ++slices;
    for (int i = kKeys - 1; i >= kKeys - 50; --i) {
      put(s, key_name(i), "late");
      put(s, key_name(i) + "x", "new key");
    }
    del(s, key_name(kKeys / 2 + slices));
  };
  SECTION("at an explicit revision") {
    auto h = s.hash(rev, write_ahead).value();
    CHECK(h.hash == before);
    CHECK(h.revision == rev);
  }
  SECTION("at revision 0, the current one when the hash starts") {
    auto h = s.hash(0, write_ahead).value();
    CHECK(h.hash == before);
    CHECK(h.revision == rev);
  }
  CHECK(slices >= 2);  // it was sliced, and the writes went in between
  CHECK(s.revision() > rev);
  CHECK(s.hash(0).value().hash != before);  // and they do change the hash of the current state
}

TEST_CASE("a compaction between the slices of a hash makes it start over") {
  KvStore s;
  fill(s);
  const int64_t rev = s.revision();
  const uint32_t before = s.hash(rev).value().hash;
  KvStore compacted;
  fill(compacted);
  REQUIRE(compacted.compact(rev - kKeys / 2).ok());
  const uint32_t after = compacted.hash(rev).value().hash;
  REQUIRE(after != before);  // the compaction drops versions the hash covers

  SECTION("once: the answer is the compacted store's") {
    bool compacted_once = false;
    auto h = s.hash(rev, [&] {
      if (!compacted_once) REQUIRE(s.compact(rev - kKeys / 2).ok());
      compacted_once = true;
    });
    CHECK(h.value().hash == after);
    CHECK(h.value().compact_revision == rev - kKeys / 2);
  }
  SECTION("between every slice: after a few tries it holds the lock throughout") {
    int calls = 0;
    auto h = s.hash(rev, [&] {
      ++calls;
      REQUIRE(s.compact(rev - kKeys + calls).ok());  // each one a little further
    });
    CHECK(calls <= 3);  // it gave up slicing instead of chasing compactions forever
    CHECK(h.value().hash == s.hash(rev).value().hash);  // the store as the last compaction left it
    CHECK(h.value().hash != before);
  }
  SECTION("past the asked revision: etcd's compacted error") {
    auto h = s.hash(rev - 1, [&] {
      if (s.compacted_revision() < rev) REQUIRE(s.compact(rev).ok());
    });
    REQUIRE_FALSE(h.ok());
    CHECK(h.error().code() == ErrorCode::kCompacted);
  }
}
