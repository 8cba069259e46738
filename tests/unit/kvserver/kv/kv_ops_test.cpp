// Txn semantics (kv_ops.cpp) against etcd 3.4's: compares, branches, one revision, nested txns.
#include <catch2/catch.hpp>

#include "kvserver/kv/kv_store.h"
#include "tests/unit/kvserver/kv/kv_test_util.h"

using namespace kv;
using namespace kv::test;

namespace {
TxnResponse run(KvStore& s, const TxnRequest& t) {
  return s.txn(t).value();
}

Compare cmp_version(const std::string& key, CompareResult r, int64_t v) {
  Compare c = cmp(key, CompareTarget::kVersion, r);
  c.version = v;
  return c;
}
}  // namespace

TEST_CASE("compares on a missing key see version 0, create 0, mod 0, lease 0") {
  KvStore s;
  for (auto target : {CompareTarget::kVersion, CompareTarget::kCreate, CompareTarget::kMod,
                      CompareTarget::kLease}) {
    TxnRequest t;
    t.compare.push_back(cmp("missing", target, CompareResult::kEqual));  // against 0
    CHECK(run(s, t).succeeded);
    t.compare[0].result = CompareResult::kGreater;
    CHECK_FALSE(run(s, t).succeeded);
  }
}

TEST_CASE("a value compare on a missing key is false, whatever the operator") {
  KvStore s;
  for (auto r : {CompareResult::kEqual, CompareResult::kNotEqual, CompareResult::kLess,
                 CompareResult::kGreater}) {
    TxnRequest t;
    t.compare.push_back(cmp("missing", CompareTarget::kValue, r));
    t.compare[0].value = "";
    CHECK_FALSE(run(s, t).succeeded);
  }
}

TEST_CASE("compares on value, version, create, mod and lease of an existing key") {
  KvStore s;
  int64_t lease = s.lease_grant(7, 100, 0).value().id;
  put(s, "k", "bbb", lease);  // 2
  put(s, "k", "ccc", lease);  // 3
  auto holds = [&s](Compare c) {
    TxnRequest t;
    t.compare.push_back(std::move(c));
    return run(s, t).succeeded;
  };
  Compare c = cmp("k", CompareTarget::kValue, CompareResult::kEqual);
  c.value = "ccc";
  CHECK(holds(c));
  c.result = CompareResult::kGreater;
  c.value = "bbb";
  CHECK(holds(c));
  c.result = CompareResult::kLess;
  CHECK_FALSE(holds(c));
  c.result = CompareResult::kNotEqual;
  CHECK(holds(c));

  CHECK(holds(cmp_version("k", CompareResult::kEqual, 2)));
  CHECK(holds(cmp_version("k", CompareResult::kLess, 3)));
  Compare cr = cmp("k", CompareTarget::kCreate, CompareResult::kEqual);
  cr.create_revision = 2;
  CHECK(holds(cr));
  Compare mod = cmp("k", CompareTarget::kMod, CompareResult::kGreater);
  mod.mod_revision = 2;
  CHECK(holds(mod));
  Compare le = cmp("k", CompareTarget::kLease, CompareResult::kEqual);
  le.lease = 7;
  CHECK(holds(le));
}

TEST_CASE("a compare with a range_end must hold for every key in the range") {
  KvStore s;
  put(s, "r/1", "x");
  put(s, "r/2", "x");
  put(s, "r/3", "x");
  put(s, "r/3", "x");  // version 2
  Compare c = cmp_version("r/", CompareResult::kEqual, 1);
  c.range_end = prefix_end("r/");
  TxnRequest t;
  t.compare.push_back(c);
  CHECK_FALSE(run(s, t).succeeded);
  t.compare[0].result = CompareResult::kGreater;
  t.compare[0].version = 0;
  CHECK(run(s, t).succeeded);
}

TEST_CASE("all of a txn's writes share one revision and its ranges see its earlier writes") {
  KvStore s;
  put(s, "old", "1");  // 2
  TxnRequest t;
  t.compare.push_back(cmp_version("old", CompareResult::kEqual, 1));
  t.success = {put_op("a", "1"), put_op("b", "2"), range_op("a", prefix_end("a")),
               delete_op("old")};
  auto r = run(s, t);
  CHECK(r.succeeded);
  CHECK(r.revision == 3);
  CHECK(s.revision() == 3);
  REQUIRE(r.responses.size() == 4);
  const auto& seen = std::get<RangeResponse>(r.responses[2].response);
  REQUIRE(seen.kvs.size() == 1);
  CHECK(seen.kvs[0].value == "1");
  CHECK(seen.kvs[0].mod_revision == 3);
  CHECK(std::get<DeleteRangeResponse>(r.responses[3].response).deleted == 1);
  CHECK(get(s, "a").kvs[0].mod_revision == 3);
  CHECK(get(s, "b").kvs[0].mod_revision == 3);
  CHECK(get(s, "old").kvs.empty());
  CHECK(get(s, "old", "", 2).kvs.size() == 1);
}

TEST_CASE("a failed compare runs the failure branch") {
  KvStore s;
  TxnRequest t;
  t.compare.push_back(cmp_version("k", CompareResult::kGreater, 0));  // k is missing
  t.success = {put_op("k", "success")};
  t.failure = {put_op("k", "failure"), range_op("k")};
  auto r = run(s, t);
  CHECK_FALSE(r.succeeded);
  CHECK(get(s, "k").kvs[0].value == "failure");
  CHECK(std::get<RangeResponse>(r.responses[1].response).kvs[0].value == "failure");
}

TEST_CASE("a txn without writes does not bump the revision") {
  KvStore s;
  put(s, "a", "1");
  TxnRequest t;
  t.success = {range_op("a"), delete_op("missing")};
  auto r = run(s, t);
  CHECK(r.succeeded);  // no compares: success
  CHECK(r.revision == 2);
  CHECK(s.revision() == 2);
}

TEST_CASE("nested txns choose their branch from the state before the outer txn") {
  KvStore s;
  TxnRequest inner;
  inner.compare.push_back(cmp_version("x", CompareResult::kEqual, 0));  // x missing before
  inner.success = {put_op("inner", "saw-missing-x")};
  inner.failure = {put_op("inner", "saw-x")};
  TxnRequest outer;
  outer.success = {put_op("x", "1"), RequestOp{inner}};
  auto r = run(s, outer);
  CHECK(r.succeeded);
  REQUIRE(r.responses.size() == 2);
  CHECK(std::get<TxnResponse>(r.responses[1].response).succeeded);
  CHECK(get(s, "inner").kvs[0].value == "saw-missing-x");
  CHECK(get(s, "inner").kvs[0].mod_revision == get(s, "x").kvs[0].mod_revision);
}

TEST_CASE("a txn writing one key twice is refused and changes nothing") {
  KvStore s;
  TxnRequest t;
  t.success = {put_op("a", "1"), put_op("a", "2")};
  auto r = s.txn(t);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "etcdserver: duplicate key given in txn request");
  t.success = {delete_op("a", prefix_end("a")), put_op("ab", "2")};
  CHECK(s.txn(t).error().code() == ErrorCode::kDuplicateKey);
  // The same key in the branch that does not run is fine.
  t.success = {put_op("a", "1")};
  t.failure = {put_op("a", "2")};
  CHECK(s.txn(t).ok());
  CHECK(s.revision() == 2);
}

TEST_CASE("a txn whose put names an unknown lease fails whole, before any write") {
  KvStore s;
  TxnRequest t;
  t.success = {put_op("a", "1"), put_op("b", "2", 99)};
  auto r = s.txn(t);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == ErrorCode::kLeaseNotFound);
  CHECK(get(s, "a").kvs.empty());
  CHECK(s.revision() == 1);
}

TEST_CASE("a txn range at a compacted or future revision fails the txn") {
  KvStore s;
  put(s, "a", "1");
  put(s, "a", "2");
  REQUIRE(s.compact(3).ok());
  RangeRequest rr;
  rr.key = "a";
  rr.revision = 2;
  TxnRequest t;
  t.success = {put_op("b", "1"), RequestOp{rr}};
  CHECK(s.txn(t).error().code() == ErrorCode::kCompacted);
  std::get<RangeRequest>(t.success[1].request).revision = 9;
  CHECK(s.txn(t).error().code() == ErrorCode::kFutureRevision);
  CHECK(s.revision() == 3);
}

TEST_CASE("more than 128 operations in a branch is refused") {
  KvStore s;
  TxnRequest t;
  for (int i = 0; i <= 128; ++i)
    t.success.push_back(range_op("k" + std::to_string(i)));
  CHECK(s.txn(t).error().message() == "etcdserver: too many operations in txn request");
}

TEST_CASE("is_read_only: ranges only in both branches, as etcd's isTxnReadonly") {
  TxnRequest t;
  CHECK(is_read_only(t));
  t.success = {range_op("a")};
  t.failure = {range_op("b", "c")};
  CHECK(is_read_only(t));
  TxnRequest with_put = t;
  with_put.failure.push_back(put_op("b", "1"));  // even in the branch that will not run
  CHECK_FALSE(is_read_only(with_put));
  TxnRequest with_delete = t;
  with_delete.success.push_back(delete_op("a"));
  CHECK_FALSE(is_read_only(with_delete));
  TxnRequest nested = t;
  nested.success.push_back(RequestOp{t});  // a nested txn counts as a write, as in etcd
  CHECK_FALSE(is_read_only(nested));
}

TEST_CASE("read_txn answers a read-only txn as txn would, without a write") {
  KvStore s;
  put(s, "a", "1");  // 2
  put(s, "a", "2");  // 3
  put(s, "b", "x");  // 4
  for (bool holds : {true, false}) {
    TxnRequest t;
    t.compare.push_back(cmp_version("a", CompareResult::kEqual, holds ? 2 : 7));
    t.success = {range_op("a"), range_op("a", "c")};
    t.failure = {range_op("b")};
    RangeRequest old = std::get<RangeRequest>(range_op("a").request);
    old.revision = 2;
    t.success.push_back(RequestOp{old});
    auto read = s.read_txn(t);
    REQUIRE(read.ok());
    auto through_log = run(s, t);  // the same txn applied as a write changes nothing either
    CHECK(read->succeeded == holds);
    CHECK(read->revision == 4);
    REQUIRE(read->responses.size() == through_log.responses.size());
    for (std::size_t i = 0; i < read->responses.size(); ++i) {
      const auto& a = std::get<RangeResponse>(read->responses[i].response);
      const auto& b = std::get<RangeResponse>(through_log.responses[i].response);
      CHECK(a.kvs == b.kvs);
      CHECK(a.count == b.count);
      CHECK(a.revision == b.revision);
    }
    if (holds) CHECK(std::get<RangeResponse>(read->responses[2].response).kvs[0].value == "1");
    CHECK(s.revision() == 4);
  }
  SECTION("a compacted read revision is etcd's error") {
    REQUIRE(s.compact(3).ok());
    TxnRequest t;
    RangeRequest old = std::get<RangeRequest>(range_op("a").request);
    old.revision = 2;
    t.success = {RequestOp{old}};
    auto read = s.read_txn(t);
    REQUIRE_FALSE(read.ok());
    CHECK(read.error().code() == ErrorCode::kCompacted);
  }
}
