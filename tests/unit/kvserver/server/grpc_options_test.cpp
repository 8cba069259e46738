// Client-port gRPC options: idle keepalive pings are tolerated (etcdctl pings every 10 s, also on
// idle watch streams) and the receive limit is --max-request-bytes plus etcd's overhead allowance.
// Each check has a control server built without the options, showing the test can fail.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <grpcpp/grpcpp.h>

#include "kvserver/server/grpc_options.h"
#include "tests/unit/kvserver/server/test_status_server.h"

using kvserver::server::ClientPortOptions;
using kvserver::server::testing::call_status;
using kvserver::server::testing::TestServer;

namespace {

// A client that pings every second even without calls, like etcdctl's keepalive (sped up).
std::shared_ptr<grpc::Channel> pinging_channel(const TestServer& s) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  return grpc::CreateCustomChannel(s.target(), grpc::InsecureChannelCredentials(), args);
}

// Whether the channel leaves READY (i.e. the server closed the connection) within `wait`.
bool dropped_within(const std::shared_ptr<grpc::Channel>& channel, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::system_clock::now() + wait;
  while (channel->GetState(false) == GRPC_CHANNEL_READY) {
    if (!channel->WaitForStateChange(GRPC_CHANNEL_READY, deadline)) return false;
  }
  return true;
}

grpc::Status put_value_of(const TestServer& s, size_t bytes) {
  auto stub = etcdserverpb::KV::NewStub(
      grpc::CreateChannel(s.target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  etcdserverpb::PutRequest req;
  req.set_key("k");
  req.set_value(std::string(bytes, 'v'));
  etcdserverpb::PutResponse resp;
  return stub->Put(&ctx, req, &resp);
}

}  // namespace

TEST_CASE("idle keepalive pings keep the connection with our options and not without", "[grpc]") {
  TestServer ours(grpc::InsecureServerCredentials(), [](grpc::ServerBuilder& b) {
    // 300 ms instead of etcd's 5 s: the test pings every 1 s, with room for scheduling jitter.
    kvserver::server::apply_client_port_options(b, ClientPortOptions{1572864, 300});
  });
  TestServer control(grpc::InsecureServerCredentials());

  auto ours_channel = pinging_channel(ours);
  auto control_channel = pinging_channel(control);
  auto first = call_status(ours_channel);
  REQUIRE(first.status.ok());
  REQUIRE(call_status(control_channel).status.ok());

  // The control server (gRPC defaults) sends GOAWAY too_many_pings after a few idle pings.
  CHECK(dropped_within(control_channel, std::chrono::seconds(10)));
  // Ours keeps the same connection through several idle pings.
  CHECK_FALSE(dropped_within(ours_channel, std::chrono::seconds(4)));
  auto again = call_status(ours_channel);
  REQUIRE(again.status.ok());
  CHECK(again.peer == first.peer);
}

TEST_CASE("receive limit is max-request-bytes plus 512 KiB", "[grpc]") {
  const uint64_t max_request = 1000;
  TestServer ours(grpc::InsecureServerCredentials(), [&](grpc::ServerBuilder& b) {
    kvserver::server::apply_client_port_options(b, ClientPortOptions{max_request, 5000});
  });
  const size_t limit = max_request + kvserver::server::kGrpcOverheadBytes;
  CHECK(put_value_of(ours, limit - 100).ok());
  auto too_big = put_value_of(ours, limit + 1);
  CHECK(too_big.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Control: gRPC's default limit (4 MiB) would let 2 MiB through; ours does not.
  TestServer control(grpc::InsecureServerCredentials());
  CHECK(put_value_of(control, 2 << 20).ok());
  CHECK(put_value_of(ours, 2 << 20).error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
}
