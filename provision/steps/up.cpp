// `provision up`: preflight -> certs -> render -> push -> start -> verify (verbs.h).
#include <algorithm>
#include <future>
#include <ostream>
#include <sstream>

#include "provision/pki_generate.h"
#include "provision/steps/common_steps.h"
#include "provision/steps/desired.h"
#include "provision/steps/node_scripts.h"
#include "provision/steps/planner.h"
#include "provision/steps/verbs.h"

namespace provision::steps {

namespace {

using Clock = std::chrono::steady_clock;

std::string bytes_text(size_t n) {
  std::ostringstream o;
  o.precision(3);
  if (n >= 1000 * 1000) {
    o << static_cast<double>(n) / 1e6 << " MB";
  } else if (n >= 1000) {
    o << static_cast<double>(n) / 1e3 << " kB";
  } else {
    o << n << " B";
  }
  return o.str();
}

void fail(std::ostream& err, const std::string& step, const std::vector<std::string>& errors) {
  for (const auto& e : errors) {
    std::istringstream in(e);
    for (std::string line; std::getline(in, line);)
      err << "provision: " << step << ": " << line << "\n";
  }
}

}  // namespace

int run_up(const Inventory& inv, const VerbOptions& options, std::ostream& out, std::ostream& err) {
  const auto run_start = Clock::now();
  Progress progress(out);
  Fleet fleet(inv);
  std::vector<NodeFacts> facts;

  // The binary is the one large input: read and hash it while preflight waits on the network.
  std::future<certs::Result<Binaries>> binaries =
      std::async(std::launch::async, [&inv] { return load_binaries(inv); });

  // 1. preflight: nothing is written anywhere until every node passed.
  if (!preflight_step(inv, fleet, options, progress, err, &facts)) return 1;

  // 2. certs (workstation only; the CA key never leaves it).
  progress.begin("certs");
  GenerateOptions gen;
  gen.now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  auto outcomes = generate_pki(inv, gen);
  if (!outcomes) {
    fail(err, "certs", {outcomes.error().message});
    return 1;
  }
  size_t created = 0, reissued = 0;
  for (const auto& o : *outcomes) {
    if (o.action == FileAction::kKept) continue;
    (o.action == FileAction::kCreated ? created : reissued)++;
    progress.line("-", describe(o));
  }
  auto token = cluster_token(inv, nullptr);
  if (!token) {
    fail(err, "certs", {token.error().message});
    return 1;
  }
  progress.done(created + reissued == 0
                    ? "unchanged (" + std::to_string(outcomes->size()) + " files kept)"
                    : std::to_string(created) + " created, " + std::to_string(reissued) +
                          " reissued");

  // 3. render + plan: pure, from the facts gathered at preflight.
  progress.begin("render");
  certs::Result<Binaries> loaded = binaries.get();
  if (!loaded) {
    fail(err, "render", {loaded.error().message});
    return 1;
  }
  auto inputs = load_desired(inv, *token, false, &*loaded);
  if (!inputs) {
    fail(err, "render", {inputs.error().message});
    return 1;
  }
  std::vector<NodePlan> plans = plan_cluster(*inputs, facts);
  size_t to_change = 0;
  for (const auto& p : plans) {
    to_change += p.changes_anything() ? 1 : 0;
    const bool unit_written = std::any_of(p.writes.begin(), p.writes.end(), [](const FileWrite& w) {
      return w.file.label == "unit" && w.change != Change::kFixMetadata;
    });
    progress.line(p.node, std::string(unit_written ? "unit to write" : "unit unchanged") +
                              " (initial-cluster-state " +
                              (p.state == ClusterState::kNew ? "new" : "existing") + ")");
  }
  progress.done(std::to_string(to_change) + " of " + std::to_string(plans.size()) +
                " node(s) need changes");

  // 4. push: only the files that differ, each node in one command.
  progress.begin("push");
  std::vector<size_t> push_nodes;
  for (size_t i = 0; i < plans.size(); ++i) {
    if (!plans[i].writes.empty() || plans[i].fix_data_dir) {
      push_nodes.push_back(i);
    } else {
      progress.line(inv.nodes[i].name, "unchanged");
    }
  }
  std::vector<std::string> errors(plans.size());
  fleet.for_each(push_nodes, [&](size_t i, ssh::Session&) {
    const auto start = Clock::now();
    PushCommand cmd = push_script(inv.nodes[i], plans[i]);
    auto r = fleet.run_script(i, "push", cmd.script, cmd.stdin_data, 600000);
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    if (!r) {
      errors[i] = r.error().message;
      progress.line(inv.nodes[i].name, "FAILED", s);
      return;
    }
    size_t written = 0;
    for (const auto& w : plans[i].writes)
      written += w.change == Change::kFixMetadata ? 0 : 1;
    progress.line(inv.nodes[i].name,
                  "wrote " + std::to_string(written) + " file(s), " +
                      bytes_text(cmd.stdin_data.size()) +
                      (plans[i].writes.size() > written ? ", fixed modes" : ""),
                  s);
  });
  std::vector<std::string> failed;
  for (const auto& e : errors)
    if (!e.empty()) failed.push_back(e);
  progress.done(failed.empty() ? std::to_string(push_nodes.size()) + " node(s) updated"
                               : "FAILED on " + std::to_string(failed.size()) + " node(s)");
  if (!failed.empty()) {
    fail(err, "push", failed);
    err << "provision: push failed: no service was started or restarted; fix the node and run "
           "`provision up` again\n";
    return 1;
  }

  // 5. start: every stopped member at once (Type=notify blocks until quorum: --no-block), then
  // the running members whose files changed, one at a time, each gated on cluster health.
  progress.begin("start");
  std::vector<size_t> start_nodes, restart_nodes;
  for (size_t i = 0; i < plans.size(); ++i) {
    if (plans[i].action == ServiceAction::kStart) start_nodes.push_back(i);
    if (plans[i].action == ServiceAction::kRestart) restart_nodes.push_back(i);
    if (plans[i].action == ServiceAction::kNone) progress.line(inv.nodes[i].name, "unchanged");
  }
  fleet.for_each(start_nodes, [&](size_t i, ssh::Session&) {
    const auto start = Clock::now();
    auto r = fleet.run_script(i, "start", start_script(inv.nodes[i], plans[i]), "", 60000);
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    if (!r) errors[i] = r.error().message;
    progress.line(inv.nodes[i].name, r ? "started (--no-block)" : "FAILED", s);
  });
  for (const auto& e : errors)
    if (!e.empty()) failed.push_back(e);
  if (!failed.empty()) {
    progress.done("FAILED");
    fail(err, "start", failed);
    std::vector<std::string> names;
    for (size_t i : start_nodes)
      if (!errors[i].empty()) names.push_back(inv.nodes[i].name);
    diagnose(inv, fleet, names, err);
    return 1;
  }
  const auto deadline_for = [&] { return Clock::now() + options.verify_timeout; };
  for (size_t i : restart_nodes) {
    // Never take a member down while the cluster is not healthy: that could cost the quorum.
    std::ostringstream sink;
    auto before = verify_step(inv, &fleet, deadline_for(), nullptr, "table", sink, err);
    if (!before.ok) {
      progress.done("FAILED");
      err << "provision: start: not restarting " << inv.nodes[i].name
          << ": the cluster is not healthy before its restart (" << before.summary << ")\n";
      return 1;
    }
    const auto start = Clock::now();
    auto r = fleet.run_script(i, "restart", restart_script(inv.nodes[i], plans[i]), "",
                              static_cast<int>(options.verify_timeout.count()));
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    progress.line(inv.nodes[i].name, r ? "restarted (files changed)" : "FAILED", s);
    if (!r) {
      progress.done("FAILED");
      fail(err, "start", {r.error().message});
      diagnose(inv, fleet, {inv.nodes[i].name}, err);
      return 1;
    }
    auto after = verify_step(inv, &fleet, deadline_for(), nullptr, "table", sink, err);
    if (!after.ok) {
      progress.done("FAILED");
      err << "provision: start: the cluster did not become healthy after restarting "
          << inv.nodes[i].name << "; stopping the rolling restart here\n";
      return 1;
    }
  }
  progress.done(start_nodes.empty() && restart_nodes.empty()
                    ? "unchanged: nothing started or restarted"
                    : std::to_string(start_nodes.size()) + " started, " +
                          std::to_string(restart_nodes.size()) + " restarted");

  // 6. verify.
  auto verdict = verify_step(inv, &fleet, deadline_for(), &progress, "table", out, err);
  const double total = std::chrono::duration<double>(Clock::now() - run_start).count();
  std::ostringstream t;
  t.precision(2);
  t << std::fixed << total;
  if (!verdict.ok) {
    err << "provision: up failed at step verify after " << t.str() << " s\n";
    return 1;
  }
  out << "\nup: " << (to_change == 0 ? "unchanged, " : "") << verdict.summary << " in " << t.str()
      << " s\n";
  return 0;
}

}  // namespace provision::steps
