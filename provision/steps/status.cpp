// `provision status`: the health table (verbs.h).
#include <ostream>

#include "provision/steps/common_steps.h"
#include "provision/steps/verbs.h"

namespace provision::steps {

int run_status(const Inventory& inv, const VerbOptions& options, std::ostream& out,
               std::ostream& err) {
  // One round is the answer: status reports, it does not wait for a cluster to heal.
  auto verdict = verify_step(inv, nullptr, std::chrono::steady_clock::now(), nullptr,
                             options.output, out, err);
  if (verdict.ok) {
    if (options.output != "json") out << "\nstatus: " << verdict.summary << "\n";
    return 0;
  }
  if (!verdict.failing_nodes.empty()) {
    // Only now is SSH worth its cost: show the sick members' own account.
    Fleet fleet(inv);
    auto errors = fleet.connect(options.accept_new_host_keys);
    for (size_t i = 0; i < errors.size(); ++i)
      if (!errors[i].empty()) err << "provision: " << errors[i] << "\n";
    diagnose(inv, fleet, verdict.failing_nodes, err);
  }
  return 1;
}

}  // namespace provision::steps
