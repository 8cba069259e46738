#include "provision/steps/common_steps.h"

#include <ostream>
#include <sstream>

#include "provision/cluster/prober.h"
#include "provision/steps/node_scripts.h"
#include "provision/steps/preflight.h"

namespace provision::steps {

namespace {
void print_lines(std::ostream& err, const std::string& prefix, const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    err << prefix << line << "\n";
}
}  // namespace

bool preflight_step(const Inventory& inv, Fleet& fleet, const VerbOptions& options,
                    Progress& progress, std::ostream& err, std::vector<NodeFacts>* facts) {
  progress.begin("preflight");
  std::vector<std::string> problems = check_local(inv);
  if (!problems.empty()) {
    for (const auto& p : problems)
      err << "provision: " << p << "\n";
    err << "provision: preflight failed on the workstation; no node was contacted or changed\n";
    return false;
  }
  std::vector<ProbedNode> probed = fleet.connect_and_probe(options.accept_new_host_keys);
  size_t ok = 0;
  for (size_t i = 0; i < probed.size(); ++i) {
    const NodeSpec& node = inv.nodes[i];
    const ProbedNode& p = probed[i];
    if (!p.facts) {
      progress.line(node.name, "FAILED", p.elapsed_s);
      problems.push_back(p.error);
      continue;
    }
    auto node_problems = check_node(node, *p.facts, p.workstation_time_s, p.rtt_s);
    if (!node_problems.empty()) {
      progress.line(node.name, "FAILED", p.elapsed_s);
      problems.insert(problems.end(), node_problems.begin(), node_problems.end());
      continue;
    }
    ++ok;
    progress.line(node.name,
                  "ok: systemd, ports " + std::to_string(node.server.client_port) + "/" +
                      std::to_string(node.server.peer_port) + " free or ours, clock " +
                      skew_text(p.facts->node_time_s - p.workstation_time_s) + ", unit " +
                      (p.facts->unit_active.empty() ? "absent" : p.facts->unit_active),
                  p.elapsed_s);
  }
  progress.done(std::to_string(ok) + "/" + std::to_string(probed.size()) + " nodes ready");
  if (!problems.empty()) {
    for (const auto& p : problems)
      print_lines(err, "provision: ", p);
    err << "provision: preflight failed on " << (probed.size() - ok) << " of " << probed.size()
        << " node(s); nothing was changed on any node\n";
    return false;
  }
  if (facts != nullptr) {
    facts->clear();
    for (auto& p : probed)
      facts->push_back(std::move(*p.facts));
  }
  return true;
}

void diagnose(const Inventory& inv, Fleet& fleet, const std::vector<std::string>& nodes,
              std::ostream& err) {
  std::vector<size_t> which;
  for (size_t i = 0; i < inv.nodes.size(); ++i)
    for (const auto& n : nodes)
      if (inv.nodes[i].name == n && fleet.session(i) != nullptr) which.push_back(i);
  std::vector<std::string> texts(inv.nodes.size());
  fleet.for_each(which, [&](size_t i, ssh::Session&) {
    auto r = fleet.run_script(i, "systemctl status", diagnose_script(inv.nodes[i]), "", 20000);
    texts[i] = r ? r->stdout_text : r.error().message;
  });
  for (size_t i : which) {
    err << "---- node " << inv.nodes[i].name << ": systemctl status " << inv.nodes[i].server.unit
        << " and journal tail ----\n";
    print_lines(err, "  ", texts[i]);
  }
}

cluster::Verdict verify_step(const Inventory& inv, Fleet* fleet,
                             std::chrono::steady_clock::time_point deadline, Progress* progress,
                             const std::string& output, std::ostream& out, std::ostream& err) {
  if (progress) progress->begin("verify");
  cluster::Verdict verdict;
  auto tls = cluster::healthcheck_tls(inv);
  if (!tls) {
    verdict.summary = tls.error().message;
    err << "provision: verify: " << verdict.summary << "\n";
    return verdict;
  }
  auto prober = cluster::ClusterProber::open(cluster::inventory_endpoints(inv), *tls);
  if (!prober) {
    verdict.summary = prober.error().message;
    err << "provision: verify: " << verdict.summary << "\n";
    return verdict;
  }
  cluster::ClusterReport report = prober->wait_healthy(deadline, std::chrono::milliseconds(2000));
  verdict = cluster::evaluate(report);
  if (progress) progress->done(verdict.ok ? verdict.summary : "NOT healthy");
  if (output == "json") {
    out << cluster::render_health_json(report, verdict) << "\n";
  } else {
    out << "\n" << cluster::render_health_table(report);
  }
  if (!verdict.ok) {
    err << "provision: verify: the cluster is not healthy: " << verdict.summary << "\n";
    if (fleet != nullptr) diagnose(inv, *fleet, verdict.failing_nodes, err);
  }
  return verdict;
}

}  // namespace provision::steps
