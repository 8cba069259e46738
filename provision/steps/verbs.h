// The verbs built from the steps: up, plan, status, reset. Each takes a loaded inventory, prints
// progress to `out` and problems to `err`, and returns the process exit code (0 ok; 1 the cluster
// or a node is not right - the message names the node and the step; 2 bad input).
//
// up:     preflight -> certs -> render -> push -> start -> verify (DESIGN.md §1), converging: a
//         re-run on a healthy cluster changes and restarts nothing.
// plan:   preflight's probe + the planner: what `up` would change on each node, touching nothing.
// status: the health table (gRPC over mTLS with the healthcheck client), no SSH unless a member is
//         sick (then its `systemctl status` and journal tail are shown).
// reset:  stop, disable and remove everything `up` put on every node.
// Thread-safety: one verb per process; they use threads internally.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

#include "provision/inventory.h"

namespace provision::steps {

struct VerbOptions {
  bool accept_new_host_keys = false;
  std::chrono::milliseconds verify_timeout = std::chrono::seconds(60);
  std::string output = "table";  // status: table | json
};

int run_up(const Inventory& inv, const VerbOptions& options, std::ostream& out, std::ostream& err);
int run_plan(const Inventory& inv, const VerbOptions& options, std::ostream& out,
             std::ostream& err);
int run_status(const Inventory& inv, const VerbOptions& options, std::ostream& out,
               std::ostream& err);
int run_reset(const Inventory& inv, const VerbOptions& options, std::ostream& out,
              std::ostream& err);

}  // namespace provision::steps
