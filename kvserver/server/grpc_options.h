// The gRPC server settings kvserver's client port needs to behave like etcd 3.4's towards etcdctl.
//
// Contract (numbers from /work/shared/ETCD-FACTS.md and etcd's defaults):
//  - keepalive: etcdctl pings every 10 s, also on idle connections (watch streams). A default gRPC
//    C++ server answers pings without data more often than every 5 minutes with GOAWAY
//    "too_many_pings", which would break idle etcdctl watches. We accept pings every
//    min_ping_interval_ms (5 s, etcd's --grpc-keepalive-min-time) with or without calls.
//  - message size: receive up to max_request_bytes plus etcd's 512 KiB gRPC overhead allowance (so
//    the server, not the transport, answers "etcdserver: request is too large" at the exact limit);
//    send without a limit below 2 GiB, as etcd does (range results are not bounded by requests).
//
// Thread-safety: call while building a server, from one thread.
#pragma once

#include <cstdint>

#include <grpcpp/server_builder.h>

namespace kvserver::server {

// etcd's grpcOverheadBytes: headroom above --max-request-bytes for gRPC/protobuf framing.
constexpr uint64_t kGrpcOverheadBytes = 512 * 1024;
// etcd's --grpc-keepalive-min-time default.
constexpr int kMinPingIntervalMs = 5000;

struct ClientPortOptions {
  uint64_t max_request_bytes = 1572864;
  int min_ping_interval_ms = kMinPingIntervalMs;
};

void apply_client_port_options(grpc::ServerBuilder& builder, const ClientPortOptions& options);

}  // namespace kvserver::server
