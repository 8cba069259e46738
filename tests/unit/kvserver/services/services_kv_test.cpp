// KV and Auth services through real gRPC on loopback, over FakeNode (a test double for the
// consensus layer; the e2e tests use the real cluster): field-by-field answers and etcd's exact
// error codes and texts.
#include <catch2/catch.hpp>

#include "kvserver/kv/types.h"
#include "tests/unit/kvserver/services/test_server.h"

using kvserver::services::testing::FakeNode;
using kvserver::services::testing::TestServer;

namespace {

etcdserverpb::PutResponse put(etcdserverpb::KV::Stub& kv, const std::string& key,
                              const std::string& value, bool prev_kv = false) {
  grpc::ClientContext ctx;
  etcdserverpb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_prev_kv(prev_kv);
  etcdserverpb::PutResponse resp;
  grpc::Status st = kv.Put(&ctx, req, &resp);
  REQUIRE(st.ok());
  return resp;
}

// Adds the compare value(key) == value to a txn.
void add_value_equals(etcdserverpb::TxnRequest& req, const std::string& key,
                      const std::string& value) {
  auto* cmp = req.add_compare();
  cmp->set_key(key);
  cmp->set_target(etcdserverpb::Compare::VALUE);
  cmp->set_result(etcdserverpb::Compare::EQUAL);
  cmp->set_value(value);
}

void check_header(const etcdserverpb::ResponseHeader& h, int64_t revision) {
  CHECK(h.cluster_id() == FakeNode::kClusterId);
  CHECK(h.member_id() == FakeNode::kMemberId);
  CHECK(h.raft_term() == FakeNode::kTerm);
  CHECK(h.revision() == revision);
}

}  // namespace

TEST_CASE("Put then Range answers every field of header and key-value") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  auto p1 = put(*kv, "foo", "bar");
  check_header(p1.header(), 2);  // the store starts at revision 1
  CHECK_FALSE(p1.has_prev_kv());
  auto p2 = put(*kv, "foo", "baz", /*prev_kv=*/true);
  check_header(p2.header(), 3);
  REQUIRE(p2.has_prev_kv());
  CHECK(p2.prev_kv().value() == "bar");
  CHECK(p2.prev_kv().mod_revision() == 2);

  grpc::ClientContext ctx;
  etcdserverpb::RangeRequest req;
  req.set_key("foo");
  etcdserverpb::RangeResponse resp;
  REQUIRE(kv->Range(&ctx, req, &resp).ok());
  check_header(resp.header(), 3);
  REQUIRE(resp.kvs_size() == 1);
  const auto& kvp = resp.kvs(0);
  CHECK(kvp.key() == "foo");
  CHECK(kvp.value() == "baz");
  CHECK(kvp.create_revision() == 2);
  CHECK(kvp.mod_revision() == 3);
  CHECK(kvp.version() == 2);
  CHECK(kvp.lease() == 0);
  CHECK(resp.count() == 1);
  CHECK_FALSE(resp.more());
}

TEST_CASE("Range with prefix, limit, sort, serializable and an old revision") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  for (const char* k : {"a/1", "a/2", "a/3", "b/1"})
    put(*kv, k, std::string("v-") + k);

  grpc::ClientContext ctx;
  etcdserverpb::RangeRequest req;
  req.set_key("a/");
  req.set_range_end(kv::prefix_end("a/"));
  req.set_limit(2);
  req.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
  req.set_serializable(true);
  etcdserverpb::RangeResponse resp;
  REQUIRE(kv->Range(&ctx, req, &resp).ok());
  REQUIRE(resp.kvs_size() == 2);
  CHECK(resp.kvs(0).key() == "a/3");
  CHECK(resp.kvs(1).key() == "a/2");
  CHECK(resp.more());
  CHECK(resp.count() == 3);

  grpc::ClientContext ctx2;
  etcdserverpb::RangeRequest old;
  old.set_key("a/");
  old.set_range_end(kv::prefix_end("a/"));
  old.set_revision(3);  // after a/1 (rev 2) and a/2 (rev 3)
  old.set_keys_only(true);
  etcdserverpb::RangeResponse old_resp;
  REQUIRE(kv->Range(&ctx2, old, &old_resp).ok());
  check_header(old_resp.header(), 5);  // the header carries the current revision
  REQUIRE(old_resp.kvs_size() == 2);
  CHECK(old_resp.kvs(1).key() == "a/2");
  CHECK(old_resp.kvs(1).value().empty());
}

TEST_CASE("DeleteRange answers deleted and prev_kvs") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  put(*kv, "p/x", "1");
  put(*kv, "p/y", "2");
  grpc::ClientContext ctx;
  etcdserverpb::DeleteRangeRequest req;
  req.set_key("p/");
  req.set_range_end(kv::prefix_end("p/"));
  req.set_prev_kv(true);
  etcdserverpb::DeleteRangeResponse resp;
  REQUIRE(kv->DeleteRange(&ctx, req, &resp).ok());
  check_header(resp.header(), 4);
  CHECK(resp.deleted() == 2);
  REQUIRE(resp.prev_kvs_size() == 2);
  CHECK(resp.prev_kvs(0).key() == "p/x");
  CHECK(resp.prev_kvs(1).value() == "2");
}

TEST_CASE("Txn picks a branch by its compares and answers nested responses") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  put(*kv, "k", "v1");
  for (bool expect_success : {true, false}) {
    grpc::ClientContext ctx;
    etcdserverpb::TxnRequest req;
    add_value_equals(req, "k", "v1");
    auto* ok_put = req.add_success()->mutable_request_put();
    ok_put->set_key("k");
    ok_put->set_value("v2");
    auto* nested = req.add_success()->mutable_request_txn();
    nested->add_success()->mutable_request_range()->set_key("k");
    req.add_failure()->mutable_request_range()->set_key("k");
    etcdserverpb::TxnResponse resp;
    REQUIRE(kv->Txn(&ctx, req, &resp).ok());
    CHECK(resp.succeeded() == expect_success);
    check_header(resp.header(), 3);  // the first txn wrote (rev 3); the second only read
    if (expect_success) {
      REQUIRE(resp.responses_size() == 2);
      CHECK(resp.responses(0).has_response_put());
      REQUIRE(resp.responses(1).has_response_txn());
      const auto& inner = resp.responses(1).response_txn();
      CHECK(inner.succeeded());
      REQUIRE(inner.responses_size() == 1);
      // A txn's ranges see its earlier writes.
      CHECK(inner.responses(0).response_range().kvs(0).value() == "v2");
    } else {
      REQUIRE(resp.responses_size() == 1);
      CHECK(resp.responses(0).response_range().kvs(0).value() == "v2");
    }
  }
}

TEST_CASE(
    "a Txn that only reads is served as a read: no write reaches the node, a linearizable one "
    "waits for the read barrier and a serializable one does not") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  put(*kv, "k", "v1");
  const std::size_t writes = server.node().writes_applied();
  auto read_txn = [&](bool serializable, etcdserverpb::TxnResponse* resp) {
    grpc::ClientContext ctx;
    etcdserverpb::TxnRequest req;
    add_value_equals(req, "k", "v1");
    auto* range = req.add_success()->mutable_request_range();
    range->set_key("k");
    range->set_serializable(serializable);
    auto* other = req.add_failure()->mutable_request_range();
    other->set_key("nothing");
    other->set_serializable(serializable);
    return kv->Txn(&ctx, req, resp);
  };
  for (bool serializable : {false, true}) {
    etcdserverpb::TxnResponse resp;
    REQUIRE(read_txn(serializable, &resp).ok());
    CHECK(resp.succeeded());
    check_header(resp.header(), 2);
    REQUIRE(resp.responses_size() == 1);
    REQUIRE(resp.responses(0).response_range().kvs_size() == 1);
    CHECK(resp.responses(0).response_range().kvs(0).value() == "v1");
  }
  CHECK(server.node().writes_applied() == writes);
  // Without a leader the barrier is refused, so only the serializable txn is answered.
  server.node().set_leader(false);
  etcdserverpb::TxnResponse resp;
  grpc::Status st = read_txn(false, &resp);
  CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(st.error_message() == "etcdserver: no leader");
  CHECK(read_txn(true, &resp).ok());
}

TEST_CASE("Errors carry etcd's gRPC code and exact text") {
  TestServer server({.max_request_bytes = 4096});
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  for (int i = 0; i < 4; ++i)
    put(*kv, "c", std::to_string(i));  // revisions 2..5
  {
    grpc::ClientContext ctx;
    etcdserverpb::CompactionRequest req;
    req.set_revision(4);
    req.set_physical(true);
    etcdserverpb::CompactionResponse resp;
    REQUIRE(kv->Compact(&ctx, req, &resp).ok());
    check_header(resp.header(), 5);
  }
  auto range_at = [&](int64_t rev) {
    grpc::ClientContext ctx;
    etcdserverpb::RangeRequest req;
    req.set_key("c");
    req.set_revision(rev);
    etcdserverpb::RangeResponse resp;
    return kv->Range(&ctx, req, &resp);
  };
  auto compacted = range_at(3);
  CHECK(compacted.error_code() == grpc::StatusCode::OUT_OF_RANGE);
  CHECK(compacted.error_message() == "etcdserver: mvcc: required revision has been compacted");
  auto future = range_at(99);
  CHECK(future.error_code() == grpc::StatusCode::OUT_OF_RANGE);
  CHECK(future.error_message() == "etcdserver: mvcc: required revision is a future revision");
  CHECK(range_at(4).ok());

  {
    grpc::ClientContext ctx;
    etcdserverpb::PutRequest req;
    req.set_key("big");
    req.set_value(std::string(5000, 'x'));
    etcdserverpb::PutResponse resp;
    auto st = kv->Put(&ctx, req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(st.error_message() == "etcdserver: request is too large");
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::PutRequest req;
    req.set_key("leased");
    req.set_lease(12345);
    etcdserverpb::PutResponse resp;
    auto st = kv->Put(&ctx, req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(st.error_message() == "etcdserver: requested lease not found");
  }
  {
    auto auth = etcdserverpb::Auth::NewStub(server.channel());
    grpc::ClientContext ctx;
    etcdserverpb::AuthenticateRequest req;
    req.set_name("root");
    etcdserverpb::AuthenticateResponse resp;
    auto st = auth->Authenticate(&ctx, req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK(st.error_message() == "etcdserver: authentication is not enabled");
  }
}

TEST_CASE("Without a leader linearizable reads and writes fail, serializable reads still work") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  put(*kv, "x", "1");
  server.node().set_leader(false);
  {
    grpc::ClientContext ctx;
    etcdserverpb::RangeRequest req;
    req.set_key("x");
    etcdserverpb::RangeResponse resp;
    auto st = kv->Range(&ctx, req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
    CHECK(st.error_message() == "etcdserver: no leader");
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::RangeRequest req;
    req.set_key("x");
    req.set_serializable(true);
    etcdserverpb::RangeResponse resp;
    REQUIRE(kv->Range(&ctx, req, &resp).ok());
    CHECK(resp.kvs(0).value() == "1");
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::PutRequest req;
    req.set_key("x");
    etcdserverpb::PutResponse resp;
    auto st = kv->Put(&ctx, req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
    CHECK(st.error_message() == "etcdserver: no leader");
  }
}
