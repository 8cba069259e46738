// MvccStore on its own: version bookkeeping, history chunks, compaction of the log, encoding.
#include "kvserver/kv/mvcc_store.h"

#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace kv;

namespace {
// One write txn at the next revision.
void put1(MvccStore& s, const std::string& key, const std::string& value) {
  int64_t rev = s.current_revision() + 1;
  s.put(key, value, 0, rev);
  s.commit(rev);
}
void del1(MvccStore& s, const std::string& key) {
  int64_t rev = s.current_revision() + 1;
  REQUIRE(s.remove_range(key, "", rev, [](auto&, auto&) {}) == 1);
  s.commit(rev);
}
}  // namespace

TEST_CASE("writes at the pending revision are visible there before commit, not at current") {
  MvccStore s;
  s.put("a", "1", 0, 2);
  CHECK(s.get("a", 2) != nullptr);
  CHECK(s.get("a", 1) == nullptr);
  CHECK(s.current_revision() == 1);
  s.put("b", "1", 0, 2);  // a second key in the same txn
  s.commit(2);
  CHECK(s.current_revision() == 2);
  CHECK(s.get("b", 2)->mod_revision == 2);
}

TEST_CASE("history: a key's events from a revision, with prev_kv from the retained versions") {
  MvccStore s;
  put1(s, "a", "1");  // 2
  put1(s, "b", "1");  // 3
  put1(s, "a", "2");  // 4
  del1(s, "a");       // 5
  auto h = s.history(3, "a", "", true, 100);
  REQUIRE(h.events.size() == 2);
  CHECK(h.events[0].kv.value == "2");
  CHECK(h.events[0].prev_kv->value == "1");
  CHECK(h.events[1].type == EventType::kDelete);
  CHECK(h.through_revision == 5);
  auto all = s.history(1, "", std::string(1, '\0'), false, 100);
  REQUIRE(all.events.size() == 4);
  CHECK_FALSE(all.events[1].prev_kv);  // not asked for
}

TEST_CASE("history chunks stop at revision boundaries once max_events is reached") {
  MvccStore s;
  for (int r = 0; r < 5; ++r) {  // revisions 2..6, three keys each
    int64_t rev = s.current_revision() + 1;
    for (const char* k : {"x", "y", "z"})
      s.put(k, std::to_string(r), 0, rev);
    s.commit(rev);
  }
  auto h = s.history(2, "", std::string(1, '\0'), false, 4);
  CHECK(h.events.size() == 6);  // a revision is never split: 3 + 3
  CHECK(h.through_revision == 3);
  auto rest = s.history(4, "", std::string(1, '\0'), false, 100);
  CHECK(rest.events.size() == 9);
  CHECK(rest.through_revision == 6);
  auto one = s.history(2, "y", "", false, 2);
  CHECK(one.events.size() == 2);
  CHECK(one.through_revision == 3);
}

TEST_CASE("remove_range deletes the live keys of a range at one revision, each seen once") {
  MvccStore s;
  for (const char* k : {"a", "b1", "b2", "b3", "c"})
    put1(s, k, std::string("v-") + k);
  put1(s, "b2", "v-b2-again");  // b2 has two versions; the callback sees the last
  del1(s, "b3");                // already deleted: not deleted again
  const int64_t rev = s.current_revision() + 1;
  std::vector<std::string> seen;
  std::size_t n = s.remove_range("b", "c", rev, [&](const std::string& key, const Version& last) {
    seen.push_back(key + "=" + last.value);
  });
  s.commit(rev);
  CHECK(n == 2);
  CHECK(seen == std::vector<std::string>{"b1=v-b1", "b2=v-b2-again"});
  CHECK(s.get("b1", rev) == nullptr);
  CHECK(s.get("b2", rev) == nullptr);
  CHECK(s.get("b2", rev - 1)->value == "v-b2-again");  // history before the delete stays
  CHECK(s.get("a", rev) != nullptr);                   // outside the range
  CHECK(s.get("c", rev) != nullptr);                   // range_end is exclusive
  // Both tombstones are in the log at `rev`, in key order: one revision, two delete events.
  auto h = s.history(rev, "", std::string(1, '\0'), false, 100);
  REQUIRE(h.events.size() == 2);
  CHECK(h.events[0].kv.key == "b1");
  CHECK(h.events[1].kv.key == "b2");
  CHECK(h.events[0].type == EventType::kDelete);
  // A single key (empty range_end): a live one once, then nothing left to delete.
  CHECK(s.remove_range("a", "", rev + 1, [](auto&, auto&) {}) == 1);
  s.commit(rev + 1);
  CHECK(s.remove_range("a", "", rev + 2, [](auto&, auto&) {}) == 0);
  // The whole key space ("\0" as range_end): only "c" is still live.
  seen.clear();
  CHECK(s.remove_range("", std::string(1, '\0'), rev + 2,
                       [&](const std::string& key, const Version&) { seen.push_back(key); }) == 1);
  CHECK(seen == std::vector<std::string>{"c"});
}

TEST_CASE("compaction drops the log before it and the versions nobody can read any more") {
  MvccStore s;
  for (int i = 0; i < 10; ++i)
    put1(s, "hot", std::to_string(i));  // 2..11
  put1(s, "dead", "x");                 // 12
  del1(s, "dead");                      // 13
  put1(s, "hot", "last");               // 14
  CHECK(s.key_count() == 2);
  std::size_t before = s.size_bytes();
  REQUIRE(s.compact(13).ok());
  CHECK(s.key_count() == 1);  // the deleted key is gone with its tombstone
  CHECK(s.size_bytes() < before);
  CHECK(s.get("hot", 13)->value == "9");
  auto h = s.history(13, "", std::string(1, '\0'), false, 100);
  REQUIRE(h.events.size() == 1);  // the tombstone at 13 was dropped; only 14 remains
  CHECK(h.events[0].kv.mod_revision == 14);
}

TEST_CASE("compaction hands what it drops to the caller - the store reads as if it freed it") {
  const std::string long_value(100, 'v');  // owns heap memory: handed over
  MvccStore kept_by_caller;
  MvccStore freed_inline;
  for (MvccStore* s : {&kept_by_caller, &freed_inline}) {
    put1(*s, "hot", long_value + "1");  // 2
    put1(*s, "hot", "short");           // 3: a short value owns no heap: not handed over
    put1(*s, "hot", long_value + "2");  // 4
    put1(*s, "dead", long_value);       // 5
    del1(*s, "dead");                   // 6
    put1(*s, "gone", "x");              // 7
    del1(*s, "gone");                   // 8
    put1(*s, "hot", "last");            // 9
  }
  MvccStore::Dropped dropped;
  REQUIRE(kept_by_caller.compact(8, &dropped).ok());
  REQUIRE(freed_inline.compact(8).ok());

  REQUIRE(dropped.keys.size() == 2);  // "dead" and "gone", each with its versions
  CHECK(dropped.keys[0].key() == "dead");
  CHECK(dropped.keys[0].mapped().size() == 2);
  CHECK(dropped.keys[0].mapped()[0].value == long_value);
  CHECK(dropped.keys[1].key() == "gone");
  REQUIRE(dropped.values.size() == 1);  // "hot" at 2; at 3 too short; at 4 still read at 8
  CHECK(dropped.values[0] == long_value + "1");

  for (MvccStore* s : {&kept_by_caller, &freed_inline}) {
    CHECK(s->key_count() == 1);
    CHECK(s->get("hot", 8)->value == long_value + "2");
    CHECK(s->get("dead", 9) == nullptr);
    CHECK(s->history(8, "", std::string(1, '\0'), false, 100).events.size() == 1);
  }
  CHECK(kept_by_caller.size_bytes() == freed_inline.size_bytes());
  Writer a, b;
  kept_by_caller.serialize(a);
  freed_inline.serialize(b);
  CHECK(a.out() == b.out());
}

TEST_CASE("a discarded store hands over every key with its versions") {
  MvccStore s;
  put1(s, "a", "1");
  put1(s, "a", "2");
  put1(s, "b", "1");
  MvccStore::Dropped d = MvccStore::discard(std::move(s));
  REQUIRE(d.maps.size() == 1);
  CHECK(d.maps[0].size() == 2);
  CHECK(d.maps[0].at("a").size() == 2);
  CHECK(d.keys.empty());
  CHECK(MvccStore::discard(MvccStore{}).empty());
}

TEST_CASE("serialize/deserialize round-trips keys, versions, log and revisions") {
  MvccStore s;
  put1(s, "a", "1");
  put1(s, "b", std::string("\0\xff", 2));
  del1(s, "a");
  put1(s, "a", "3");
  REQUIRE(s.compact(3).ok());
  Writer w;
  s.serialize(w);
  Reader r(w.out());
  auto back = MvccStore::deserialize(r);
  REQUIRE(back.ok());
  CHECK(r.at_end());
  CHECK(back->current_revision() == s.current_revision());
  CHECK(back->compact_revision() == s.compact_revision());
  CHECK(back->hash(s.current_revision()) == s.hash(s.current_revision()));
  CHECK(back->size_bytes() == s.size_bytes());
  auto h1 = s.history(3, "", std::string(1, '\0'), true, 100);
  auto h2 = back->history(3, "", std::string(1, '\0'), true, 100);
  REQUIRE(h1.events.size() == h2.events.size());
  for (std::size_t i = 0; i < h1.events.size(); ++i)
    CHECK(h1.events[i].kv == h2.events[i].kv);

  std::string cut = w.out().substr(0, w.out().size() - 1);
  Reader rc(cut);
  CHECK_FALSE(MvccStore::deserialize(rc).ok());
}

TEST_CASE("point lookups agree with a model through deletes, compaction, restore and a move") {
  // get() goes through the hash index, visit() over a range walks the ordered map: both must see
  // the same keys after every kind of change to the key set.
  std::map<std::string, std::string> model;  // live keys at the current revision
  MvccStore s;
  auto check_all = [&](const MvccStore& store) {
    for (int k = 0; k < 40; ++k) {
      std::string key = "k" + std::to_string(k);
      const Version* v = store.get(key, store.current_revision());
      auto m = model.find(key);
      INFO(key);
      REQUIRE((v != nullptr) == (m != model.end()));
      if (v) CHECK(v->value == m->second);
    }
    std::size_t live = 0;
    store.visit("", std::string(1, '\0'), store.current_revision(), [&](auto&, auto&) {
      ++live;
      return true;
    });
    CHECK(live == model.size());
  };
  uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1103515245u + 12345u; };
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 200; ++i) {
      std::string key = "k" + std::to_string((next() >> 8) % 40);
      if ((next() >> 8) % 3 == 0) {
        if (model.erase(key)) del1(s, key);
      } else {
        std::string value = std::to_string(round) + "." + std::to_string(i);
        put1(s, key, value);
        model[key] = value;
      }
    }
    check_all(s);
    // Compaction at the current revision erases every deleted key from the map (and the index).
    REQUIRE(s.compact(s.current_revision()).ok());
    CHECK(s.key_count() == model.size());
    check_all(s);
    // Keys that compaction erased come back as new keys.
    for (int k = 0; k < 40; k += 3) {
      std::string key = "k" + std::to_string(k);
      if (model.count(key)) continue;
      put1(s, key, "again");
      model[key] = "again";
    }
    check_all(s);
    Writer w;
    s.serialize(w);
    Reader r(w.out());
    auto back = MvccStore::deserialize(r);
    REQUIRE(back.ok());
    check_all(*back);
    s = std::move(*back);  // the restored store carries on, as after a snapshot install
  }
}
