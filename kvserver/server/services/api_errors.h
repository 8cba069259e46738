// Error mapping for the etcd v3 services: kv::Error (the state machine's expected failures) and
// ApiError (node_api.h: node-level failures) to grpc::Status with etcd 3.4's code AND text, since
// etcdctl matches both (ETCD-FACTS.md "Errors").
//
// The node loop may use to_api_error() to answer write() with the state machine's error, so one
// table decides every code. Thread-safety: pure functions.
#pragma once

#include <grpcpp/support/status.h>

#include "kvserver/kv/errors.h"
#include "kvserver/server/node_api.h"

namespace kvserver::services {

// The gRPC code etcd answers `code` with, and its exact text.
ApiError to_api_error(const kv::Error& error);
grpc::Status to_grpc_status(const ApiError& error);
inline grpc::Status to_grpc_status(const kv::Error& error) {
  return to_grpc_status(to_api_error(error));
}

// etcd's answers that no lower layer produces.
inline ApiError auth_not_enabled() {
  return {ApiCode::kFailedPrecondition, "etcdserver: authentication is not enabled"};
}
inline ApiError lease_not_found() {
  return {ApiCode::kNotFound, "etcdserver: requested lease not found"};
}

}  // namespace kvserver::services
