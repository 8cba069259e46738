// TEST-ONLY gRPC server for the server-shell tests: the real etcd services come with the Raft loop.
// It serves Maintenance.Status (answering fixed numbers, and "CN|peer address" of the caller in
// `version`, so a test sees which client certificate and which TCP connection a call used) and
// KV.Put (accepts anything; for message-size limits).
//
// Thread-safety: gRPC calls the services from its threads; they keep no state.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>

#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"

namespace kvserver::server::testing {

class TestOnlyStatusService final : public etcdserverpb::Maintenance::Service {
 public:
  grpc::Status Status(grpc::ServerContext* context, const etcdserverpb::StatusRequest*,
                      etcdserverpb::StatusResponse* response) override {
    std::string cn = "-";
    if (auto auth = context->auth_context()) {
      auto values = auth->FindPropertyValues("x509_common_name");
      if (!values.empty()) cn.assign(values[0].data(), values[0].size());
    }
    response->mutable_header()->set_cluster_id(0x1111);
    response->mutable_header()->set_member_id(0x2222);
    response->mutable_header()->set_raft_term(7);
    response->set_version(cn + "|" + context->peer());
    response->set_leader(0x2222);
    response->set_raftindex(42);
    response->set_raftterm(7);
    response->set_raftappliedindex(41);
    response->set_dbsize(20480);
    return grpc::Status::OK;
  }
};

class TestOnlyPutService final : public etcdserverpb::KV::Service {
 public:
  grpc::Status Put(grpc::ServerContext*, const etcdserverpb::PutRequest*,
                   etcdserverpb::PutResponse*) override {
    return grpc::Status::OK;
  }
};

// Listens on 127.0.0.1 with an ephemeral port; `configure` may add options to the builder.
struct TestServer {
  TestOnlyStatusService status_service;
  TestOnlyPutService put_service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;

  explicit TestServer(const std::shared_ptr<grpc::ServerCredentials>& creds,
                      const std::function<void(grpc::ServerBuilder&)>& configure = {}) {
    grpc::ServerBuilder builder;
    if (configure) configure(builder);
    builder.AddListeningPort("127.0.0.1:0", creds, &port);
    builder.RegisterService(&status_service);
    builder.RegisterService(&put_service);
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
    REQUIRE(port > 0);
  }
  ~TestServer() { server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1)); }
  std::string target() const { return "127.0.0.1:" + std::to_string(port); }
};

struct CallResult {
  grpc::Status status;
  std::string cn;
  std::string peer;  // the client's address as the server saw it: identifies the connection
};

inline CallResult call_status(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = etcdserverpb::Maintenance::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  etcdserverpb::StatusResponse resp;
  CallResult r;
  r.status = stub->Status(&ctx, etcdserverpb::StatusRequest(), &resp);
  const auto bar = resp.version().find('|');
  if (r.status.ok() && bar != std::string::npos) {
    r.cn = resp.version().substr(0, bar);
    r.peer = resp.version().substr(bar + 1);
  }
  return r;
}

}  // namespace kvserver::server::testing
