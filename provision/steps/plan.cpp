// `provision plan`: what `up` would change on each node, touching nothing (verbs.h).
#include <ostream>

#include "provision/pki_generate.h"
#include "provision/steps/common_steps.h"
#include "provision/steps/desired.h"
#include "provision/steps/planner.h"
#include "provision/steps/verbs.h"

namespace provision::steps {

int run_plan(const Inventory& inv, const VerbOptions& options, std::ostream& out,
             std::ostream& err) {
  Progress progress(out);
  Fleet fleet(inv);
  std::vector<NodeFacts> facts;
  if (!preflight_step(inv, fleet, options, progress, err, &facts)) return 1;
  // The plan compares against the PKI on this workstation as it is; `up` would first converge it
  // (`provision certs generate` shows what that changes).
  auto token = cluster_token(inv, nullptr);
  if (!token) {
    err << "provision: plan: " << token.error().message << "\n";
    return 2;
  }
  auto inputs = load_desired(inv, *token, /*allow_missing_certs=*/true);
  if (!inputs) {
    err << "provision: plan: " << inputs.error().message << "\n";
    return 2;
  }
  std::vector<NodePlan> plans = plan_cluster(*inputs, facts);
  out << "\n";
  size_t changing = 0;
  for (size_t i = 0; i < plans.size(); ++i) {
    auto lines = describe(plans[i], inv.nodes[i].server.unit);
    if (lines.empty()) {
      out << inv.nodes[i].name << ": unchanged\n";
      continue;
    }
    ++changing;
    out << inv.nodes[i].name << ":\n";
    for (const auto& l : lines)
      out << "  " << l << "\n";
  }
  out << "\nplan: " << changing << " of " << plans.size() << " node(s) would change\n";
  return 0;
}

}  // namespace provision::steps
