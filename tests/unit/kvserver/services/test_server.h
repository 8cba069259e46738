// An in-process etcd-API server for the services tests: EtcdServices over a FakeNode (the test
// double for the consensus layer, see fake_node.h), on an insecure loopback port, with the client
// port options the real kvserver uses (keepalive allowance for etcdctl, request size).
//
// Thread-safety: construct and destroy on the test thread; gRPC serves from its own threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"
#include "kvserver/server/grpc_options.h"
#include "kvserver/server/services/services.h"
#include "tests/unit/kvserver/services/fake_node.h"

namespace kvserver::services::testing {

class TestServer {
 public:
  explicit TestServer(ServicesOptions options = {}) : services_(node_, options) {
    grpc::ServerBuilder builder;
    server::ClientPortOptions port_options;
    port_options.max_request_bytes = options.max_request_bytes;
    server::apply_client_port_options(builder, port_options);
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    services_.register_with(builder);
    server_ = builder.BuildAndStart();
  }
  // A deadline, as streams left open by a failed test would otherwise hold Shutdown forever.
  ~TestServer() { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2)); }

  FakeNode& node() { return node_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string endpoint() const { return "http://" + address(); }
  std::shared_ptr<grpc::Channel> channel() const {
    return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  }

 private:
  FakeNode node_;
  EtcdServices services_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace kvserver::services::testing
