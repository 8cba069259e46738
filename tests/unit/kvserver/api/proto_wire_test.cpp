// Wire-format checks for kvserver/api's etcd protos: the bytes must be exactly what etcd 3.4's own
// field numbers produce, because etcdctl decodes them. Expected bytes are hand-encoded from the
// protobuf wire format (tag = field_number << 3 | wire_type) and etcd's public field numbers.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

#include <grpcpp/grpcpp.h>

#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"
#include "kvserver/api/mvccpb/kv.pb.h"
#include "kvserver/api/raftpb/peer.grpc.pb.h"

namespace {
std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b)
    s.push_back(static_cast<char>(x));
  return s;
}
}  // namespace

TEST_CASE("PutRequest uses etcd's field numbers", "[api]") {
  etcdserverpb::PutRequest put;
  put.set_key("a");
  put.set_value("b");
  put.set_lease(5);
  put.set_prev_kv(true);
  // key=1 (len), value=2 (len), lease=3 (varint), prev_kv=4 (varint)
  CHECK(put.SerializeAsString() == bytes({0x0a, 1, 'a', 0x12, 1, 'b', 0x18, 5, 0x20, 1}));
}

TEST_CASE("Compare.range_end is field 64 and target_union is a oneof", "[api]") {
  etcdserverpb::Compare cmp;
  cmp.set_target(etcdserverpb::Compare::MOD);
  cmp.set_mod_revision(7);
  cmp.set_range_end("z");
  // target=2 -> 0x10 2; mod_revision=6 -> 0x30 7; range_end=64 (len) -> tag 0x82 0x04
  CHECK(cmp.SerializeAsString() == bytes({0x10, 2, 0x30, 7, 0x82, 0x04, 1, 'z'}));
  cmp.set_version(3);  // same oneof: replaces mod_revision
  CHECK(cmp.target_union_case() == etcdserverpb::Compare::kVersion);
  CHECK_FALSE(cmp.mod_revision() == 7);
}

TEST_CASE("StatusResponse decodes the fields etcdctl endpoint status prints", "[api]") {
  // header{member_id=2}, version="3.4.23", leader=2, raftIndex=9, raftTerm=4, raftAppliedIndex=9,
  // isLearner=true(10)
  const std::string wire = bytes({0x0a, 2,    0x10, 2,    0x12, 6,    '3', '.',  '4', '.',  '2',
                                  '3',  0x20, 2,    0x28, 9,    0x30, 4,   0x38, 9,   0x50, 1});
  etcdserverpb::StatusResponse status;
  REQUIRE(status.ParseFromString(wire));
  CHECK(status.header().member_id() == 2);
  CHECK(status.version() == "3.4.23");
  CHECK(status.leader() == 2);
  CHECK(status.raftindex() == 9);
  CHECK(status.raftterm() == 4);
  CHECK(status.raftappliedindex() == 9);
  CHECK(status.islearner());
}

TEST_CASE("WatchResponse.events is field 11 and Event kv is mvccpb", "[api]") {
  etcdserverpb::WatchResponse resp;
  auto* ev = resp.add_events();
  ev->set_type(mvccpb::Event::DELETE);
  ev->mutable_kv()->set_key("k");
  ev->mutable_kv()->set_mod_revision(3);
  // events=11 (len) -> 0x5a; Event{type=1 ->0x08 1, kv=2 (len) -> 0x12 {key=1 'k', mod_revision=3
  // -> 0x18 3}}
  CHECK(resp.SerializeAsString() == bytes({0x5a, 9, 0x08, 1, 0x12, 5, 0x0a, 1, 'k', 0x18, 3}));
}

TEST_CASE("service and method names match etcd's gRPC paths", "[api]") {
  CHECK(std::string(etcdserverpb::KV::service_full_name()) == "etcdserverpb.KV");
  CHECK(std::string(etcdserverpb::Maintenance::service_full_name()) == "etcdserverpb.Maintenance");
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  const auto* watch = pool->FindServiceByName("etcdserverpb.Watch");
  REQUIRE(watch != nullptr);
  const auto* method = watch->FindMethodByName("Watch");
  REQUIRE(method != nullptr);
  CHECK(method->client_streaming());
  CHECK(method->server_streaming());
  const auto* lease = pool->FindServiceByName("etcdserverpb.Lease");
  REQUIRE(lease != nullptr);
  for (const char* m :
       {"LeaseGrant", "LeaseRevoke", "LeaseKeepAlive", "LeaseTimeToLive", "LeaseLeases"}) {
    CHECK(lease->FindMethodByName(m) != nullptr);
  }
  const auto* snapshot = pool->FindMethodByName("etcdserverpb.Maintenance.Snapshot");
  REQUIRE(snapshot != nullptr);
  CHECK_FALSE(snapshot->client_streaming());
  CHECK(snapshot->server_streaming());
}

TEST_CASE("raft peer service: a client-streamed push of batches and of a snapshot", "[api]") {
  CHECK(std::string(kvserver::raftpb::RaftPeer::service_full_name()) == "kvserver.raftpb.RaftPeer");
  const auto* file = kvserver::raftpb::MessageBatch::descriptor()->file();
  const auto* peer = file->FindServiceByName("RaftPeer");
  REQUIRE(peer != nullptr);
  // Push: batches one way, one answer when the stream ends (no per-batch acks; peer.proto).
  const auto* push = peer->FindMethodByName("Push");
  REQUIRE(push != nullptr);
  CHECK(push->client_streaming());
  CHECK_FALSE(push->server_streaming());
  CHECK(peer->FindMethodByName("Stream") == nullptr);  // the acked stream it replaced
  const auto* snapshot = peer->FindMethodByName("Snapshot");
  REQUIRE(snapshot != nullptr);
  CHECK(snapshot->client_streaming());
  CHECK_FALSE(snapshot->server_streaming());

  kvserver::raftpb::MessageBatch batch;
  batch.set_seq(1);
  batch.add_messages(std::string("\x00\x01", 2));  // opaque bytes survive a round trip
  kvserver::raftpb::MessageBatch back;
  REQUIRE(back.ParseFromString(batch.SerializeAsString()));
  CHECK(back.messages(0) == std::string("\x00\x01", 2));
}

TEST_CASE("etcd_api links the shared Debian gRPC, for provision's client side", "[api]") {
  // This test binary links etcd_api exactly as provision will; kvserver links etcd_api_static.
  // A client stub, as provision will make (no call: nothing listens on port 1).
  auto stub = etcdserverpb::Maintenance::NewStub(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
  REQUIRE(stub != nullptr);
  // /proc/self/exe inside popen would be the shell; resolve it here, in this process.
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  FILE* pipe = popen(("ldd " + self + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0)
    out.append(buf, n);
  REQUIRE(pclose(pipe) == 0);
  CHECK_THAT(out, Catch::Contains("libgrpc++.so") && Catch::Contains("libprotobuf.so"));
}
