// Lease, Cluster and Maintenance services through real gRPC on loopback, over FakeNode (a test
// double for the consensus layer; the e2e tests use the real cluster).
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/unit/kvserver/services/test_server.h"

using kvserver::services::testing::FakeNode;
using kvserver::services::testing::TestServer;

namespace {

int64_t grant(etcdserverpb::Lease::Stub& lease, int64_t ttl) {
  grpc::ClientContext ctx;
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(ttl);
  etcdserverpb::LeaseGrantResponse resp;
  REQUIRE(lease.LeaseGrant(&ctx, req, &resp).ok());
  CHECK(resp.ttl() == ttl);
  CHECK(resp.header().member_id() == FakeNode::kMemberId);
  REQUIRE(resp.id() != 0);
  return resp.id();
}

etcdserverpb::LeaseTimeToLiveResponse ttl_of(etcdserverpb::Lease::Stub& lease, int64_t id) {
  grpc::ClientContext ctx;
  etcdserverpb::LeaseTimeToLiveRequest req;
  req.set_id(id);
  req.set_keys(true);
  etcdserverpb::LeaseTimeToLiveResponse resp;
  REQUIRE(lease.LeaseTimeToLive(&ctx, req, &resp).ok());
  return resp;
}

}  // namespace

TEST_CASE("Lease: grant, attach, time-to-live with keys, list, revoke deletes the keys") {
  TestServer server;
  auto lease = etcdserverpb::Lease::NewStub(server.channel());
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  int64_t id = grant(*lease, 60);
  {
    grpc::ClientContext ctx;
    etcdserverpb::PutRequest req;
    req.set_key("leased");
    req.set_value("v");
    req.set_lease(id);
    etcdserverpb::PutResponse resp;
    REQUIRE(kv->Put(&ctx, req, &resp).ok());
  }
  auto t = ttl_of(*lease, id);
  CHECK(t.id() == id);
  CHECK(t.grantedttl() == 60);
  CHECK(t.ttl() > 55);
  CHECK(t.ttl() <= 60);
  REQUIRE(t.keys_size() == 1);
  CHECK(t.keys(0) == "leased");
  {
    grpc::ClientContext ctx;
    etcdserverpb::LeaseLeasesResponse resp;
    REQUIRE(lease->LeaseLeases(&ctx, etcdserverpb::LeaseLeasesRequest{}, &resp).ok());
    REQUIRE(resp.leases_size() == 1);
    CHECK(resp.leases(0).id() == id);
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::LeaseRevokeRequest req;
    req.set_id(id);
    etcdserverpb::LeaseRevokeResponse resp;
    REQUIRE(lease->LeaseRevoke(&ctx, req, &resp).ok());
    CHECK(resp.header().revision() == 3);  // put: 2; a grant writes no revision; revoke: 3
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::RangeRequest req;
    req.set_key("leased");
    etcdserverpb::RangeResponse resp;
    REQUIRE(kv->Range(&ctx, req, &resp).ok());
    CHECK(resp.kvs_size() == 0);
  }
  // Unknown lease: TimeToLive answers TTL -1 (etcd), Revoke answers NotFound with etcd's text.
  CHECK(ttl_of(*lease, id).ttl() == -1);
  grpc::ClientContext ctx;
  etcdserverpb::LeaseRevokeRequest req;
  req.set_id(id);
  etcdserverpb::LeaseRevokeResponse resp;
  auto st = lease->LeaseRevoke(&ctx, req, &resp);
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(st.error_message() == "etcdserver: requested lease not found");
}

TEST_CASE("Lease: keep-alive stream answers TTLs in order, and an expired lease answers TTL 0") {
  TestServer server;
  auto lease = etcdserverpb::Lease::NewStub(server.channel());
  int64_t long_id = grant(*lease, 30);
  int64_t short_id = grant(*lease, 1);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto s = lease->LeaseKeepAlive(&ctx);
  for (int i = 0; i < 3; ++i) {
    etcdserverpb::LeaseKeepAliveRequest req;
    req.set_id(long_id);
    REQUIRE(s->Write(req));
    etcdserverpb::LeaseKeepAliveResponse resp;
    REQUIRE(s->Read(&resp));
    CHECK(resp.id() == long_id);
    CHECK(resp.ttl() == 30);
    CHECK(resp.header().cluster_id() == FakeNode::kClusterId);
  }
  // The 1 s lease expires and the apply thread revokes it: poll TimeToLive with a deadline.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ttl_of(*lease, short_id).ttl() != -1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // poll interval, not a sync point
  }
  REQUIRE(ttl_of(*lease, short_id).ttl() == -1);
  etcdserverpb::LeaseKeepAliveRequest req;
  req.set_id(short_id);
  REQUIRE(s->Write(req));
  etcdserverpb::LeaseKeepAliveResponse resp;
  REQUIRE(s->Read(&resp));
  CHECK(resp.id() == short_id);
  CHECK(resp.ttl() == 0);
  s->WritesDone();
  CHECK(s->Finish().ok());
}

TEST_CASE("Cluster: MemberList, and MemberAdd answers the new member and the whole membership") {
  TestServer server;
  auto cluster = etcdserverpb::Cluster::NewStub(server.channel());
  {
    grpc::ClientContext ctx;
    etcdserverpb::MemberListResponse resp;
    REQUIRE(cluster->MemberList(&ctx, etcdserverpb::MemberListRequest{}, &resp).ok());
    REQUIRE(resp.members_size() == 1);
    CHECK(resp.members(0).id() == FakeNode::kMemberId);
    CHECK(resp.members(0).name() == "node-1");
    CHECK(resp.header().cluster_id() == FakeNode::kClusterId);
  }
  grpc::ClientContext ctx;
  etcdserverpb::MemberAddRequest req;
  req.add_peerurls("https://10.0.0.2:2380");
  req.set_islearner(true);
  etcdserverpb::MemberAddResponse resp;
  REQUIRE(cluster->MemberAdd(&ctx, req, &resp).ok());
  CHECK(resp.member().peerurls(0) == "https://10.0.0.2:2380");
  CHECK(resp.member().islearner());
  CHECK(resp.member().name().empty());
  REQUIRE(resp.members_size() == 2);
  CHECK(resp.members(1).id() == resp.member().id());

  grpc::ClientContext pctx;
  etcdserverpb::MemberPromoteRequest preq;
  preq.set_id(FakeNode::kMemberId);  // not a learner
  etcdserverpb::MemberPromoteResponse presp;
  auto st = cluster->MemberPromote(&pctx, preq, &presp);
  CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(st.error_message() ==
        "etcdserver: can only promote a learner member which is in sync with leader");
}

TEST_CASE("Maintenance: Status fields, no alarms, defragment, HashKV") {
  TestServer server;
  auto m = etcdserverpb::Maintenance::NewStub(server.channel());
  {
    grpc::ClientContext ctx;
    etcdserverpb::StatusResponse resp;
    REQUIRE(m->Status(&ctx, etcdserverpb::StatusRequest{}, &resp).ok());
    auto s = server.node().status();
    CHECK(resp.version() == "3.4.0");
    CHECK(resp.header().member_id() == FakeNode::kMemberId);
    CHECK(resp.leader() == resp.header().member_id());
    CHECK(resp.raftterm() == s.raft_term);
    CHECK(resp.raftindex() == s.raft_index);
    CHECK(resp.raftappliedindex() == s.raft_applied_index);
    CHECK(resp.dbsize() == s.db_size);
    CHECK_FALSE(resp.islearner());
    CHECK(resp.errors_size() == 0);
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::AlarmResponse resp;
    REQUIRE(m->Alarm(&ctx, etcdserverpb::AlarmRequest{}, &resp).ok());
    CHECK(resp.alarms_size() == 0);
    CHECK(resp.header().raft_term() == FakeNode::kTerm);
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::DefragmentResponse resp;
    CHECK(m->Defragment(&ctx, etcdserverpb::DefragmentRequest{}, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::HashKVResponse resp;
    REQUIRE(m->HashKV(&ctx, etcdserverpb::HashKVRequest{}, &resp).ok());
    auto h = server.node().store().hash(0);
    REQUIRE(h.ok());
    CHECK(resp.hash() == h->hash);
    CHECK(resp.compact_revision() == h->compact_revision);
  }
}

TEST_CASE(
    "Maintenance: Snapshot streams 32 KiB chunks, remaining_bytes counts down, size % 512 == 32") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  for (int i = 0; i < 200; ++i) {  // ~200 KiB of values: several chunks
    grpc::ClientContext ctx;
    etcdserverpb::PutRequest req;
    req.set_key("snap/" + std::to_string(i));
    req.set_value(std::string(1024, static_cast<char>('a' + i % 26)));
    etcdserverpb::PutResponse resp;
    REQUIRE(kv->Put(&ctx, req, &resp).ok());
  }
  auto m = etcdserverpb::Maintenance::NewStub(server.channel());
  grpc::ClientContext ctx;
  auto reader = m->Snapshot(&ctx, etcdserverpb::SnapshotRequest{});
  etcdserverpb::SnapshotResponse chunk;
  std::string file;
  std::vector<uint64_t> remaining;
  std::vector<std::size_t> sizes;
  while (reader->Read(&chunk)) {
    file += chunk.blob();
    remaining.push_back(chunk.remaining_bytes());
    sizes.push_back(chunk.blob().size());
    CHECK(chunk.header().member_id() == FakeNode::kMemberId);
  }
  REQUIRE(reader->Finish().ok());
  REQUIRE(sizes.size() >= 3);
  CHECK(file.size() % 512 == 32);
  CHECK(sizes.back() == 32);  // the sha256 chunk
  CHECK(remaining.back() == 0);
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    CHECK(sizes[i] <= 32 * 1024);
    uint64_t after = 0;
    for (std::size_t j = i + 1; j + 1 < sizes.size(); ++j)
      after += sizes[j];
    CHECK(remaining[i] == after);  // bytes still to come before the sha256 chunk
  }
  auto image = kvserver::services::unframe_snapshot(file);
  REQUIRE(image.ok());
  CHECK(image.value() == server.node().store().snapshot());
}
