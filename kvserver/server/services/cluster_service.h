// ClusterService: etcd's Cluster service (MemberList, MemberAdd, MemberRemove, MemberUpdate,
// MemberPromote) over NodeApi. Membership changes go through the Raft log one at a time (the node
// decides); every answer lists the membership after the change, which `etcdctl member add` turns
// into its ETCD_INITIAL_CLUSTER block.
//
// Thread-safety: any gRPC thread; NodeApi callbacks may finish calls from the node's threads.
#pragma once

#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"
#include "kvserver/server/node_api.h"

namespace kvserver::services {

class ClusterService final : public etcdserverpb::Cluster::CallbackService {
 public:
  explicit ClusterService(NodeApi& node) : node_(node) {}

  grpc::ServerUnaryReactor* MemberAdd(grpc::CallbackServerContext* ctx,
                                      const etcdserverpb::MemberAddRequest* req,
                                      etcdserverpb::MemberAddResponse* resp) override;
  grpc::ServerUnaryReactor* MemberRemove(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::MemberRemoveRequest* req,
                                         etcdserverpb::MemberRemoveResponse* resp) override;
  grpc::ServerUnaryReactor* MemberUpdate(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::MemberUpdateRequest* req,
                                         etcdserverpb::MemberUpdateResponse* resp) override;
  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* ctx,
                                       const etcdserverpb::MemberListRequest* req,
                                       etcdserverpb::MemberListResponse* resp) override;
  grpc::ServerUnaryReactor* MemberPromote(grpc::CallbackServerContext* ctx,
                                          const etcdserverpb::MemberPromoteRequest* req,
                                          etcdserverpb::MemberPromoteResponse* resp) override;

 private:
  NodeApi& node_;
};

}  // namespace kvserver::services
