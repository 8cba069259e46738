// LeaseService: etcd's Lease service over NodeApi.
//
// LeaseGrant/LeaseRevoke go through the Raft log (NodeApi::write). LeaseKeepAlive is a bidi stream:
// each request refreshes the lease on the leader (NodeApi::lease_keep_alive) and answers {ID, TTL};
// an unknown or expired lease answers TTL 0, as etcd does, and the stream carries on (etcdctl
// prints "lease ... expired or revoked"). LeaseTimeToLive answers TTL -1 for an unknown lease
// (etcd's rule, not an error). LeaseLeases lists the leases after a read barrier. A keep-alive
// stream with `hasleader: true` metadata follows the watch stream's no-leader rule
// (leader_monitor.h).
//
// Thread-safety: any gRPC thread; NodeApi callbacks may finish calls from the node's threads.
#pragma once

#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"
#include "kvserver/server/node_api.h"
#include "kvserver/server/services/leader_monitor.h"
#include "kvserver/server/services/read_pool.h"

namespace kvserver::services {

class LeaseService final : public etcdserverpb::Lease::CallbackService {
 public:
  LeaseService(NodeApi& node, LeaderMonitor& monitor, ReadPool& reads)
      : node_(node), monitor_(monitor), reads_(reads) {}

  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* ctx,
                                       const etcdserverpb::LeaseGrantRequest* req,
                                       etcdserverpb::LeaseGrantResponse* resp) override;
  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::LeaseRevokeRequest* req,
                                        etcdserverpb::LeaseRevokeResponse* resp) override;
  grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                          etcdserverpb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* LeaseTimeToLive(grpc::CallbackServerContext* ctx,
                                            const etcdserverpb::LeaseTimeToLiveRequest* req,
                                            etcdserverpb::LeaseTimeToLiveResponse* resp) override;
  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::LeaseLeasesRequest* req,
                                        etcdserverpb::LeaseLeasesResponse* resp) override;

 private:
  NodeApi& node_;
  LeaderMonitor& monitor_;
  ReadPool& reads_;
};

}  // namespace kvserver::services
