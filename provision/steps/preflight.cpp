#include "provision/steps/preflight.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "certs/file_io.h"
#include "certs/inspect.h"
#include "certs/pem.h"
#include "provision/steps/desired.h"

namespace provision::steps {

std::string skew_text(double skew_s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.3f s", skew_s);
  return buf;
}

std::vector<std::string> check_local(const Inventory& inv) {
  std::vector<std::string> problems;
  std::vector<std::string> checked;
  for (const auto& node : inv.nodes) {
    const std::string& bin = node.server.binary;
    if (std::find(checked.begin(), checked.end(), bin) == checked.end()) {
      checked.push_back(bin);
      if (!certs::file_exists(bin)) {
        problems.push_back(inv.where(node) + ": preflight: the " + flavor_name(node.server.flavor) +
                           " binary " + bin +
                           " does not exist on this workstation - build it or fix server.binary");
      } else if (access(bin.c_str(), X_OK) != 0) {
        problems.push_back(inv.where(node) + ": preflight: " + bin +
                           " is not executable - chmod +x it or fix server.binary");
      }
    }
    for (const char* kind : {"server", "peer"}) {
      const std::string path = inv.pki.dir + "/" + node.name + "/" + kind + ".crt";
      if (!certs::file_exists(path)) continue;  // the certs step will create it
      auto pem = certs::read_file(path);
      if (!pem) continue;
      auto cert = certs::certificate_from_pem(*pem, path);
      if (!cert) continue;  // unreadable: the certs step re-issues it
      const certs::CertInfo info = certs::inspect(cert->get());
      if (std::find(info.sans.ips.begin(), info.sans.ips.end(), node.address) ==
          info.sans.ips.end()) {
        problems.push_back(inv.where(node) + ": preflight: " + path + " is not valid for the " +
                           "node's address " + node.address + " (its SANs: " +
                           info.sans.to_string() + "); peers and clients would refuse it - run " +
                           "`provision certs generate -i " + inv.path + "` to re-issue it");
      }
    }
  }
  return problems;
}

std::vector<std::string> check_node(const NodeSpec& node, const NodeFacts& facts,
                                    double workstation_time_s, double rtt_s) {
  std::vector<std::string> problems;
  const std::string where = "node " + node.name + " (" + node.address + "): preflight: ";
  if (!facts.systemd) {
    problems.push_back(where + "systemd is not running there (/run/systemd/system is missing); " +
                       "provision needs a systemd host");
  }
  const double skew = facts.node_time_s - workstation_time_s;
  if (std::fabs(skew) > kMaxClockSkewS + rtt_s / 2) {
    problems.push_back(where + "its clock is " + skew_text(skew) +
                       " off the workstation's (limit 1 s): certificates and leases depend on " +
                       "it - enable NTP (timedatectl set-ntp true) on the node");
  }
  const std::string ours = binary_name(node.server.flavor);
  for (int port : {node.server.client_port, node.server.peer_port}) {
    for (const auto& l : facts.listeners) {
      if (l.port != port) continue;
      const bool is_ours =
          !l.processes.empty() && std::all_of(l.processes.begin(), l.processes.end(),
                                              [&](const std::string& p) { return p == ours; });
      if (is_ours) continue;
      std::string who = "an unknown process";
      if (!l.processes.empty()) {
        who = "";
        for (const auto& p : l.processes)
          who += (who.empty() ? "`" : ", `") + p + "`";
      }
      const std::string field =
          port == node.server.client_port ? "server.client_port" : "server.peer_port";
      problems.push_back(where + "port " + std::to_string(port) + " is already in use by " + who +
                         " (" + l.address + ":" + std::to_string(port) + ") - stop it or set " +
                         field + " for this node");
      break;
    }
  }
  return problems;
}

}  // namespace provision::steps
