// Fleet: one SSH session per inventory node, opened in parallel and kept for the whole run (each
// connect costs a TCP + key exchange + auth round trip; steps reuse the session), and the
// gather-facts round that every verb starts with.
//
// A node that cannot be reached keeps a null session and its error; the others are unaffected.
// Thread-safety: each session is used by one thread at a time: for_each() gives node i's session
// to exactly one thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "certs/result.h"
#include "provision/inventory.h"
#include "provision/ssh/session.h"
#include "provision/steps/node_facts.h"

namespace provision::steps {

ssh::ConnectionSpec connection_spec(const NodeSpec& node, bool accept_new_host_keys);

struct ProbedNode {
  std::optional<NodeFacts> facts;
  std::string error;              // connect or probe failure
  double workstation_time_s = 0;  // the workstation clock at the middle of the probe
  double rtt_s = 0;
  double elapsed_s = 0;  // connect + probe
};

class Fleet {
 public:
  explicit Fleet(const Inventory& inv) : inv_(inv), sessions_(inv.nodes.size()) {}

  // Connects to every node and runs the probe (node_facts.h) on each, all in parallel.
  std::vector<ProbedNode> connect_and_probe(bool accept_new_host_keys);
  // Connects only (for reset and diagnostics); returns an error per node ("" when connected).
  std::vector<std::string> connect(bool accept_new_host_keys);

  ssh::Session* session(size_t i) { return sessions_[i].get(); }

  // Runs fn(i, session) for every i in `which` at once (threads), returning when all are done.
  void for_each(const std::vector<size_t>& which,
                const std::function<void(size_t, ssh::Session&)>& fn);

  // Runs `script` as root on node i; an Error names the node and what the script printed.
  certs::Result<ssh::CommandResult> run_script(size_t i, const std::string& what,
                                               const std::string& script,
                                               const std::string& stdin_data = "",
                                               int timeout_ms = 120000);

 private:
  const Inventory& inv_;
  std::vector<std::unique_ptr<ssh::Session>> sessions_;
};

// Seconds since the Unix epoch, with sub-second precision.
double unix_now_s();

}  // namespace provision::steps
