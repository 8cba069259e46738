#include "provision/cluster/prober.h"

#include <algorithm>
#include <thread>

#include "provision/pki_layout.h"
#include "provision/render.h"

namespace provision::cluster {

using Clock = std::chrono::steady_clock;

std::vector<Endpoint> inventory_endpoints(const Inventory& inv) {
  std::vector<Endpoint> out;
  for (const auto& n : inv.nodes)
    out.push_back({n.name, https_url(n.address, n.server.client_port)});
  return out;
}

certs::Result<TlsMaterial> healthcheck_tls(const Inventory& inv) {
  const std::string base = inv.pki.dir + "/clients/healthcheck";
  auto tls = load_tls_material(ca_cert_path(inv), base + ".crt", base + ".key");
  if (!tls) {
    return certs::Error(tls.error().message +
                        " - the healthcheck client certificate is made by `provision up` or "
                        "`provision certs generate -i INVENTORY`");
  }
  return tls;
}

certs::Result<ClusterProber> ClusterProber::open(std::vector<Endpoint> endpoints,
                                                 const TlsMaterial& tls) {
  ClusterProber p;
  for (const auto& e : endpoints) {
    auto c = EtcdClient::open(e.url, tls);
    if (!c) return certs::Error("node " + e.node + ": " + c.error().message);
    p.clients_.push_back(std::shared_ptr<EtcdClient>(std::move(*c)));
  }
  p.endpoints_ = std::move(endpoints);
  return p;
}

ClusterReport ClusterProber::probe(std::chrono::milliseconds per_call) {
  ClusterReport report;
  report.endpoints.resize(endpoints_.size());
  {
    std::vector<std::jthread> threads;
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      threads.emplace_back([this, i, per_call, &report] {
        EndpointReport& r = report.endpoints[i];
        r.node = endpoints_[i].node;
        r.endpoint = endpoints_[i].url;
        // Status first: it answers at once even without a leader, whereas a linearizable read
        // sent before the first election blocks until its deadline and would hide a leader
        // elected a moment later. The read is only worth sending once a leader is known.
        auto st = clients_[i]->status(per_call);
        if (!st) {
          r.error = st.error().message;
          return;
        }
        r.status = *st;
        if (st->leader == 0) {
          r.error = r.endpoint + ": no leader yet (Maintenance.Status)";
          return;
        }
        const auto start = Clock::now();
        certs::Status h = clients_[i]->health(per_call);
        r.took_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        r.healthy = h.ok();
        if (!h) r.error = h.error().message;
        if (!st->errors.empty() && r.error.empty()) r.error = st->errors.front();
      });
    }
  }
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (!report.endpoints[i].status) continue;
    auto members = clients_[i]->member_list(per_call);
    if (members) {
      report.members = std::move(*members);
      break;
    }
  }
  return report;
}

ClusterReport ClusterProber::wait_healthy(Clock::time_point deadline,
                                          std::chrono::milliseconds per_call) {
  // While polling, calls are kept short: a linearizable read sent before the first election
  // waits until its deadline, and a 2 s wait would hide a leader elected 0.1 s later.
  const auto poll = std::min(per_call, std::chrono::milliseconds(600));
  for (;;) {
    const auto round_start = Clock::now();
    if (round_start >= deadline) return probe(per_call);  // the answer, with full patience
    ClusterReport report = probe(poll);
    if (evaluate(report).ok) return report;
    // Poll at most every 100 ms: a fast failure (connection refused) must not spin.
    std::this_thread::sleep_until(std::min(round_start + std::chrono::milliseconds(100), deadline));
  }
}

}  // namespace provision::cluster
