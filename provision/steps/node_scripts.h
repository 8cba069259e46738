// The shell scripts provision runs on a node, one per step, each one remote command (a round trip
// costs ~0.25 s, so a step never sends several where one will do). POSIX sh, run as root (through
// `sudo -n` when the inventory says so).
//
// push_script(): the changed files arrive concatenated on stdin, in plan order; each is cut off
// with `head -c SIZE` into a temp file next to its target, checked against its sha256, given its
// mode and owner; only when every file arrived intact are they renamed over their targets (rename
// is atomic: a target is the old file or the new one). Any failure removes the temp files and
// leaves every target as it was.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "provision/inventory.h"
#include "provision/steps/planner.h"

namespace provision::steps {

struct PushCommand {
  std::string script;
  std::string stdin_data;  // the bytes of every written file, in order
};

PushCommand push_script(const NodeSpec& node, const NodePlan& plan);

// daemon-reload (when the unit changed), enable (when not yet), start --no-block.
std::string start_script(const NodeSpec& node, const NodePlan& plan);
// daemon-reload and a blocking restart: with Type=notify it returns once the new process said
// READY=1, so the health poll that follows sees the new member, not the old one.
std::string restart_script(const NodeSpec& node, const NodePlan& plan);
// Stop, disable and remove everything `up` put on the node (unit, certs, binary, data dir).
std::string reset_script(const NodeSpec& node);
// `systemctl status` and the last journal lines of the unit, for failure reports.
std::string diagnose_script(const NodeSpec& node);

}  // namespace provision::steps
