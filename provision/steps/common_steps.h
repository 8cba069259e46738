// Steps shared by several verbs (verbs.h): preflight, verify and the failure diagnosis.
// Thread-safety: called from the verb's thread; they use the Fleet's threads internally.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

#include "provision/cluster/health_report.h"
#include "provision/inventory.h"
#include "provision/steps/fleet.h"
#include "provision/steps/progress.h"
#include "provision/steps/verbs.h"

namespace provision::steps {

// Local checks, then connect + probe + checks on every node. Prints a line per node; on any
// problem prints them all to `err` and returns false (nothing has been changed anywhere).
bool preflight_step(const Inventory& inv, Fleet& fleet, const VerbOptions& options,
                    Progress& progress, std::ostream& err, std::vector<NodeFacts>* facts);

// Polls every member until healthy with one leader or `deadline`; prints the table to `out`.
// Returns the verdict; on failure prints it and the sick nodes' diagnosis (when `fleet` has a
// session to them) to `err`.
cluster::Verdict verify_step(const Inventory& inv, Fleet* fleet,
                             std::chrono::steady_clock::time_point deadline, Progress* progress,
                             const std::string& output, std::ostream& out, std::ostream& err);

// `systemctl status` + journal tail of `nodes` (inventory names), printed to `err`.
void diagnose(const Inventory& inv, Fleet& fleet, const std::vector<std::string>& nodes,
              std::ostream& err);

}  // namespace provision::steps
