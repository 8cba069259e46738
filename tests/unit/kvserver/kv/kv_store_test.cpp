// KvStore's KV semantics against etcd 3.4's: revisions, ranges, deletes, compaction, hash.
#include "kvserver/kv/kv_store.h"

#include <catch2/catch.hpp>

#include "tests/unit/kvserver/kv/kv_test_util.h"

using namespace kv;
using namespace kv::test;

namespace {
const std::string kAll(1, '\0');

std::vector<std::string> strs(std::initializer_list<const char*> l) {
  return std::vector<std::string>(l.begin(), l.end());
}
}  // namespace

TEST_CASE("revisions start at 1 and each put bumps them, versions count within a generation") {
  KvStore s;
  CHECK(s.revision() == 1);
  CHECK(put(s, "a", "1").revision == 2);
  CHECK(put(s, "a", "2").revision == 3);
  auto r = get(s, "a");
  REQUIRE(r.kvs.size() == 1);
  CHECK(r.kvs[0].value == "2");
  CHECK(r.kvs[0].create_revision == 2);
  CHECK(r.kvs[0].mod_revision == 3);
  CHECK(r.kvs[0].version == 2);
  CHECK(r.revision == 3);
  CHECK(r.count == 1);
}

TEST_CASE("a delete ends the generation: the next put starts at version 1 with a new create rev") {
  KvStore s;
  put(s, "a", "v1");     // 2
  put(s, "a", "v2");     // 3
  auto d = del(s, "a");  // 4
  put(s, "a", "v3");     // 5
  CHECK(d.deleted == 1);
  CHECK(d.revision == 4);
  REQUIRE(d.prev_kvs.size() == 1);
  CHECK(d.prev_kvs[0].value == "v2");

  auto at2 = get(s, "a", "", 2);
  REQUIRE(at2.kvs.size() == 1);
  CHECK(at2.kvs[0].value == "v1");
  CHECK(at2.kvs[0].version == 1);
  CHECK(at2.revision == 5);  // the header carries the current revision, not the one read at
  auto at3 = get(s, "a", "", 3);
  CHECK(at3.kvs[0].version == 2);
  CHECK(get(s, "a", "", 4).kvs.empty());
  CHECK(get(s, "a", "", 4).count == 0);
  auto now = get(s, "a");
  REQUIRE(now.kvs.size() == 1);
  CHECK(now.kvs[0].create_revision == 5);
  CHECK(now.kvs[0].version == 1);
  CHECK(now.kvs[0].value == "v3");
}

TEST_CASE("reads above the current revision are a future revision error") {
  KvStore s;
  put(s, "a", "1");
  RangeRequest req;
  req.key = "a";
  req.revision = 3;
  auto r = s.range(req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kFutureRevision);
  CHECK(r.error().message() == "etcdserver: mvcc: required revision is a future revision");
}

TEST_CASE(
    "range_end: empty is one key, a NUL byte is every key >= key, prefix_end selects a prefix") {
  KvStore s;
  for (const char* k : {"a", "ab", "abc", "b", "b/1", "b/2", "c"})
    put(s, k, "x");
  CHECK(keys_of(get(s, "ab")) == strs({"ab"}));
  CHECK(keys_of(get(s, "b", kAll)) == strs({"b", "b/1", "b/2", "c"}));
  CHECK(keys_of(get(s, kAll, kAll)) == strs({"a", "ab", "abc", "b", "b/1", "b/2", "c"}));
  CHECK(keys_of(get(s, "b/", prefix_end("b/"))) == strs({"b/1", "b/2"}));
  CHECK(keys_of(get(s, "a", prefix_end("a"))) == strs({"a", "ab", "abc"}));
  CHECK(keys_of(get(s, "ab", "b")) == strs({"ab", "abc"}));
  CHECK(get(s, "nope").kvs.empty());
  RangeRequest empty;  // etcd refuses an empty key outright
  empty.range_end = kAll;
  CHECK(s.range(empty).error().message() == "etcdserver: key is not provided");
  CHECK(get(s, "d", kAll).count == 0);
}

TEST_CASE("limit cuts the answer, sets more, and count still counts the whole range") {
  KvStore s;
  for (int i = 0; i < 10; ++i)
    put(s, "k" + std::to_string(i), "v");
  RangeRequest req;
  req.key = "k";
  req.range_end = prefix_end("k");
  req.limit = 3;
  auto r = s.range(req).value();
  CHECK(keys_of(r) == strs({"k0", "k1", "k2"}));
  CHECK(r.more);
  CHECK(r.count == 10);

  req.limit = 10;
  r = s.range(req).value();
  CHECK(r.kvs.size() == 10);
  CHECK_FALSE(r.more);

  req.limit = 0;
  req.count_only = true;
  r = s.range(req).value();
  CHECK(r.kvs.empty());
  CHECK(r.count == 10);
}

TEST_CASE("keys_only drops values and keeps the metadata") {
  KvStore s;
  put(s, "a", "value");
  RangeRequest req;
  req.key = "a";
  req.keys_only = true;
  auto r = s.range(req).value();
  REQUIRE(r.kvs.size() == 1);
  CHECK(r.kvs[0].value.empty());
  CHECK(r.kvs[0].mod_revision == 2);
  CHECK(r.kvs[0].version == 1);

  put(s, "b", "0");  // sorting by value still works when values are not returned
  req.key = "a";
  req.range_end = "c";
  req.sort_target = SortTarget::kValue;
  req.sort_order = SortOrder::kAscend;
  r = s.range(req).value();
  CHECK(keys_of(r) == strs({"b", "a"}));
  CHECK(r.kvs[1].value.empty());
}

TEST_CASE("sort order and target, with etcd's default of ascending for non-key targets") {
  KvStore s;
  put(s, "a", "3");  // 2
  put(s, "b", "1");  // 3
  put(s, "c", "2");  // 4
  put(s, "a", "0");  // 5: a now has the highest mod revision
  RangeRequest req;
  req.key = kAll;
  req.range_end = kAll;

  req.sort_order = SortOrder::kDescend;
  CHECK(keys_of(s.range(req).value()) == strs({"c", "b", "a"}));

  req.sort_target = SortTarget::kMod;
  CHECK(keys_of(s.range(req).value()) == strs({"a", "c", "b"}));

  req.sort_order = SortOrder::kNone;  // non-key target without an order: ascending
  CHECK(keys_of(s.range(req).value()) == strs({"b", "c", "a"}));

  req.sort_target = SortTarget::kValue;
  req.sort_order = SortOrder::kAscend;
  CHECK(keys_of(s.range(req).value()) == strs({"a", "b", "c"}));

  req.sort_target = SortTarget::kCreate;
  req.sort_order = SortOrder::kDescend;
  req.limit = 2;
  auto r = s.range(req).value();  // sorting happens before the limit cut
  CHECK(keys_of(r) == strs({"c", "b"}));
  CHECK(r.more);
  CHECK(r.count == 3);

  req.limit = 0;
  req.sort_target = SortTarget::kVersion;
  req.sort_order = SortOrder::kDescend;
  CHECK(s.range(req).value().kvs.front().key == "a");
}

TEST_CASE("min/max mod and create revision filters prune after the read, count is unfiltered") {
  KvStore s;
  put(s, "a", "x");  // 2
  put(s, "b", "x");  // 3
  put(s, "c", "x");  // 4
  put(s, "a", "y");  // 5
  RangeRequest req;
  req.key = kAll;
  req.range_end = kAll;
  req.min_mod_revision = 4;
  auto r = s.range(req).value();
  CHECK(keys_of(r) == strs({"a", "c"}));
  CHECK(r.count == 3);
  req.min_mod_revision = 0;
  req.max_create_revision = 3;
  CHECK(keys_of(s.range(req).value()) == strs({"a", "b"}));
  req.max_create_revision = 0;
  req.min_create_revision = 3;
  req.max_mod_revision = 3;
  CHECK(keys_of(s.range(req).value()) == strs({"b"}));
}

TEST_CASE("delete_range deletes every live key in the range at one revision") {
  KvStore s;
  for (const char* k : {"p/1", "p/2", "p/3", "q"})
    put(s, k, "v");  // 2..5
  auto d = del(s, "p/", prefix_end("p/"));
  CHECK(d.deleted == 3);
  CHECK(d.revision == 6);
  CHECK(d.prev_kvs.size() == 3);
  CHECK(keys_of(get(s, kAll, kAll)) == strs({"q"}));
  CHECK(get(s, "p/", prefix_end("p/"), 5).count == 3);
}

TEST_CASE("a delete that deletes nothing does not bump the revision") {
  KvStore s;
  put(s, "a", "v");
  auto d = del(s, "zzz");
  CHECK(d.deleted == 0);
  CHECK(d.revision == 2);
  CHECK(s.revision() == 2);
  del(s, "a");
  CHECK(del(s, "a").deleted == 0);  // already gone
  CHECK(s.revision() == 3);
}

TEST_CASE("put returns prev_kv when asked, and ignore_value / ignore_lease keep the old ones") {
  KvStore s;
  int64_t lease = s.lease_grant(0, 60, 0).value().id;
  put(s, "a", "old", lease);
  PutRequest p;
  p.key = "a";
  p.value = "new";
  p.prev_kv = true;
  p.ignore_lease = true;
  auto r = s.put(p).value();
  REQUIRE(r.prev_kv);
  CHECK(r.prev_kv->value == "old");
  CHECK(get(s, "a").kvs[0].lease == lease);

  PutRequest keep;
  keep.key = "a";
  keep.ignore_value = true;
  s.put(keep).value();
  auto now = get(s, "a").kvs[0];
  CHECK(now.value == "new");
  CHECK(now.lease == 0);  // ignore_value without ignore_lease takes the request's lease (none)
  CHECK(now.version == 3);
}

TEST_CASE("put's validation errors are etcd's and change nothing") {
  KvStore s;
  PutRequest p;
  p.key = "";
  CHECK(s.put(p).error().code() == ErrorCode::kEmptyKey);
  p.key = "missing";
  p.ignore_value = true;
  CHECK(s.put(p).error().message() == "etcdserver: key not found");
  p.value = "v";
  CHECK(s.put(p).error().message() == "etcdserver: value is provided");
  p = PutRequest{};
  p.key = "k";
  p.ignore_lease = true;
  p.lease = 5;
  CHECK(s.put(p).error().message() == "etcdserver: lease is provided");
  p.ignore_lease = false;
  auto r = s.put(p);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kLeaseNotFound);
  CHECK(r.error().message() == "etcdserver: requested lease not found");
  CHECK(s.revision() == 1);
}

TEST_CASE("compaction keeps reads at and after the compacted revision, refuses older ones") {
  KvStore s;
  put(s, "a", "1");  // 2
  put(s, "a", "2");  // 3
  put(s, "b", "1");  // 4
  del(s, "b");       // 5
  put(s, "a", "3");  // 6
  REQUIRE(s.compact(4).ok());
  CHECK(s.compacted_revision() == 4);

  auto at4 = get(s, kAll, kAll, 4);  // the latest version of each key at 4 survives
  CHECK(keys_of(at4) == strs({"a", "b"}));
  CHECK(at4.kvs[0].value == "2");
  CHECK(keys_of(get(s, kAll, kAll, 5)) == strs({"a"}));
  CHECK(get(s, "a", "", 6).kvs[0].value == "3");

  RangeRequest old;
  old.key = "a";
  old.revision = 3;
  auto r = s.range(old);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kCompacted);
  CHECK(r.error().message() == "etcdserver: mvcc: required revision has been compacted");

  CHECK(s.compact(4).error().code() == ErrorCode::kCompacted);  // again: already compacted
  CHECK(s.compact(3).error().code() == ErrorCode::kCompacted);
  CHECK(s.compact(7).error().code() == ErrorCode::kFutureRevision);
  CHECK(s.revision() == 6);  // compaction writes no revision
}

TEST_CASE("compaction past a delete drops the tombstone and the key entirely") {
  KvStore s;
  put(s, "gone", std::string(1000, 'x'));  // 2
  put(s, "kept", "v");                     // 3
  del(s, "gone");                          // 4
  std::size_t before = s.size_bytes();
  REQUIRE(s.compact(4).ok());
  CHECK(s.size_bytes() < before - 1000);
  CHECK(keys_of(get(s, kAll, kAll, 4)) == strs({"kept"}));
  put(s, "gone", "again");  // a fresh generation
  auto r = get(s, "gone");
  CHECK(r.kvs[0].create_revision == 5);
  CHECK(r.kvs[0].version == 1);
}

TEST_CASE("hash is stable for equal histories, differs otherwise, and honours the revision") {
  KvStore a;
  KvStore b;
  for (KvStore* s : {&a, &b}) {
    put(*s, "x", "1");
    put(*s, "y", "2");
  }
  CHECK(a.hash(0).value().hash == b.hash(0).value().hash);
  put(a, "z", "3");
  put(b, "z", "4");
  CHECK(a.hash(0).value().hash != b.hash(0).value().hash);
  CHECK(a.hash(3).value().hash == b.hash(3).value().hash);  // the differing write is at 4
  CHECK(a.hash(5).error().code() == ErrorCode::kFutureRevision);
  REQUIRE(a.compact(3).ok());
  auto h = a.hash(0).value();
  CHECK(h.compact_revision == 3);
  CHECK(h.revision == 4);
  CHECK(a.hash(2).error().code() == ErrorCode::kCompacted);
}
