// `provision reset`: remove everything `up` put on every node (verbs.h).
#include <ostream>
#include <sstream>

#include "provision/steps/common_steps.h"
#include "provision/steps/node_scripts.h"
#include "provision/steps/verbs.h"

namespace provision::steps {

int run_reset(const Inventory& inv, const VerbOptions& options, std::ostream& out,
              std::ostream& err) {
  Progress progress(out);
  progress.begin("reset");
  Fleet fleet(inv);
  std::vector<std::string> errors = fleet.connect(options.accept_new_host_keys);
  std::vector<size_t> all;
  for (size_t i = 0; i < inv.nodes.size(); ++i)
    all.push_back(i);
  std::vector<std::string> left(inv.nodes.size());
  fleet.for_each(all, [&](size_t i, ssh::Session&) {
    auto r = fleet.run_script(i, "reset", reset_script(inv.nodes[i]), "", 120000);
    if (!r) {
      errors[i] = r.error().message;
    } else {
      left[i] = r->stdout_text;
    }
  });
  size_t failed = 0;
  for (size_t i = 0; i < inv.nodes.size(); ++i) {
    if (!errors[i].empty()) {
      ++failed;
      progress.line(inv.nodes[i].name, "FAILED");
      err << "provision: reset: " << errors[i] << "\n";
    } else if (!left[i].empty()) {
      ++failed;
      progress.line(inv.nodes[i].name, "FAILED: something is left");
      err << "provision: reset: node " << inv.nodes[i].name << ": " << left[i];
    } else {
      progress.line(inv.nodes[i].name, "removed unit, certs, binary and data dir");
    }
  }
  progress.done(std::to_string(inv.nodes.size() - failed) + "/" + std::to_string(inv.nodes.size()) +
                " node(s) reset");
  return failed == 0 ? 0 : 1;
}

}  // namespace provision::steps
