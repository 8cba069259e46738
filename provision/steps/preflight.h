// Preflight: everything that would make `up` fail half-way, checked before anything is written.
// Local checks (no node needed): the server binary exists and is executable; each node's existing
// server/peer certificate lists the node's address in its SANs. Remote checks, from the node's
// probe (node_facts.h): systemd is PID 1's init, the client and peer ports are free or held by our
// own server, the node's clock is within 1 s of the workstation's.
//
// Every problem is one line naming the node and what to do. Thread-safety: pure functions apart
// from check_local() reading files.
#pragma once

#include <string>
#include <vector>

#include "provision/inventory.h"
#include "provision/steps/node_facts.h"

namespace provision::steps {

constexpr double kMaxClockSkewS = 1.0;

// Problems found on the workstation side (binary, certificate SANs). Empty: all good.
std::vector<std::string> check_local(const Inventory& inv);

// Problems with one node. `workstation_time_s` is the workstation clock at the middle of the probe
// round trip, `rtt_s` the round trip (the skew allowance grows by half of it).
std::vector<std::string> check_node(const NodeSpec& node, const NodeFacts& facts,
                                    double workstation_time_s, double rtt_s);

// "+0.012 s": the node's clock minus the workstation's.
std::string skew_text(double skew_s);

}  // namespace provision::steps
