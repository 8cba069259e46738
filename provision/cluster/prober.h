// ClusterProber: asks every inventory node's member, in parallel, what `etcdctl endpoint health`
// and `endpoint status` ask, and collects a ClusterReport (health_report.h). Clients (one gRPC
// channel each) are kept between probes so the verify loop reuses connections.
//
// Thread-safety: probe() may not be called concurrently with itself; it uses one thread per
// endpoint internally and joins them before returning.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "certs/result.h"
#include "provision/cluster/etcd_client.h"
#include "provision/cluster/health_report.h"
#include "provision/inventory.h"

namespace provision::cluster {

struct Endpoint {
  std::string node;
  std::string url;
};

// Every node's advertised client URL, in inventory order.
std::vector<Endpoint> inventory_endpoints(const Inventory& inv);

// TLS material of the healthcheck client (<pki.dir>/clients/healthcheck.{crt,key} + ca.crt).
certs::Result<TlsMaterial> healthcheck_tls(const Inventory& inv);

class ClusterProber {
 public:
  static certs::Result<ClusterProber> open(std::vector<Endpoint> endpoints, const TlsMaterial& tls);
  // One round: health + status on every endpoint (each bounded by `per_call`), then MemberList
  // from the first member that answered.
  ClusterReport probe(std::chrono::milliseconds per_call);
  // Probes (with calls of at most 600 ms) until evaluate() says ok or `deadline` passes; then
  // one last round with `per_call`, whose report is returned. A deadline already passed means
  // exactly one round with `per_call`.
  ClusterReport wait_healthy(std::chrono::steady_clock::time_point deadline,
                             std::chrono::milliseconds per_call);

 private:
  std::vector<Endpoint> endpoints_;
  std::vector<std::shared_ptr<EtcdClient>> clients_;
};

}  // namespace provision::cluster
