// MaintenanceService: etcd's Maintenance service over NodeApi.
//
// Status: the member's view (NodeApi::status()) plus our version string; etcdctl's `endpoint
// status` prints it. Alarm: kvserver raises no alarms, so GET answers none and (DE)ACTIVATE are
// accepted no-ops. Defragment: a no-op success (the store has no free pages to give back).
// Hash/HashKV: the store's hash (kv_store.h). MoveLeader: NodeApi::move_leader. Snapshot: a server
// stream of the image NodeApi::snapshot_image() hands over, framed as services.h says, read from
// its file and sent in chunks of `chunk_bytes`, each with remaining_bytes = bytes still to come
// before the final sha256 chunk.
//
// Thread-safety: any gRPC thread; NodeApi callbacks may finish calls from the node's threads.
#pragma once

#include <cstddef>
#include <string>

#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"
#include "kvserver/server/node_api.h"

namespace kvserver::services {

class MaintenanceService final : public etcdserverpb::Maintenance::CallbackService {
 public:
  MaintenanceService(NodeApi& node, std::string version, std::size_t chunk_bytes)
      : node_(node), version_(std::move(version)), chunk_bytes_(chunk_bytes) {}

  grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* ctx,
                                  const etcdserverpb::AlarmRequest* req,
                                  etcdserverpb::AlarmResponse* resp) override;
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const etcdserverpb::StatusRequest* req,
                                   etcdserverpb::StatusResponse* resp) override;
  grpc::ServerUnaryReactor* Defragment(grpc::CallbackServerContext* ctx,
                                       const etcdserverpb::DefragmentRequest* req,
                                       etcdserverpb::DefragmentResponse* resp) override;
  grpc::ServerUnaryReactor* Hash(grpc::CallbackServerContext* ctx,
                                 const etcdserverpb::HashRequest* req,
                                 etcdserverpb::HashResponse* resp) override;
  grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* ctx,
                                   const etcdserverpb::HashKVRequest* req,
                                   etcdserverpb::HashKVResponse* resp) override;
  grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* Snapshot(
      grpc::CallbackServerContext* ctx, const etcdserverpb::SnapshotRequest* req) override;
  grpc::ServerUnaryReactor* MoveLeader(grpc::CallbackServerContext* ctx,
                                       const etcdserverpb::MoveLeaderRequest* req,
                                       etcdserverpb::MoveLeaderResponse* resp) override;

 private:
  NodeApi& node_;
  const std::string version_;
  const std::size_t chunk_bytes_;
};

}  // namespace kvserver::services
