#include "kvserver/server/services/services.h"

#include "kvserver/server/services/auth_service.h"
#include "kvserver/server/services/cluster_service.h"
#include "kvserver/server/services/kv_service.h"
#include "kvserver/server/services/leader_monitor.h"
#include "kvserver/server/services/lease_service.h"
#include "kvserver/server/services/maintenance_service.h"
#include "kvserver/server/services/progress_ticker.h"
#include "kvserver/server/services/read_pool.h"
#include "kvserver/server/services/watch_service.h"

namespace kvserver::services {

struct EtcdServices::Impl {
  Impl(NodeApi& node, const ServicesOptions& o)
      : monitor(node, o.election_timeout_ms),
        ticker(o.progress_notify_interval),
        reads(o.read_threads),
        kv(node, reads, o.max_request_bytes),
        watch(node, monitor, ticker),
        lease(node, monitor, reads),
        cluster(node),
        maintenance(node, o.version, o.snapshot_chunk_bytes) {}
  LeaderMonitor monitor;  // first: the stream services refer to it
  ProgressTicker ticker;  // likewise, for the watch service
  ReadPool reads;
  KvService kv;
  WatchService watch;
  LeaseService lease;
  ClusterService cluster;
  MaintenanceService maintenance;
  AuthService auth;
};

EtcdServices::EtcdServices(NodeApi& node, ServicesOptions options)
    : impl_(std::make_unique<Impl>(node, options)) {}

EtcdServices::~EtcdServices() = default;

void EtcdServices::register_with(grpc::ServerBuilder& builder) {
  builder.RegisterService(&impl_->kv);
  builder.RegisterService(&impl_->watch);
  builder.RegisterService(&impl_->lease);
  builder.RegisterService(&impl_->cluster);
  builder.RegisterService(&impl_->maintenance);
  builder.RegisterService(&impl_->auth);
}

}  // namespace kvserver::services
