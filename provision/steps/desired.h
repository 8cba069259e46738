// What each node should hold, read from the workstation: the server binary, ca.crt, the node's
// server and peer certificate and key, and its systemd unit (rendered both with
// initial-cluster-state "new" and "existing"; planner.h picks one per node). The CA key is never
// among them: it stays on the workstation.
//
// Remote layout (paths from the node's effective ServerSpec):
//   <bin_dir>/<etcd|kvserver>                                  0755 root:root
//   <config_dir>/ca.crt, server.crt, peer.crt                  0644 root:root
//   <config_dir>/server.key, peer.key                          0600 root:root
//   /etc/systemd/system/<unit>                                 0644 root:root
//   <data_dir>                                                 directory 0700
// Thread-safety: plain values; load_desired reads files.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "certs/result.h"
#include "provision/inventory.h"

namespace provision::steps {

struct DesiredFile {
  std::string label;  // "binary", "ca.crt", "server.key", "unit": for progress lines
  std::string remote_path;
  std::shared_ptr<const std::string> bytes;  // shared: every node gets the same binary
  std::string sha256;
  int mode = 0644;
};

struct NodeInputs {
  const NodeSpec* node = nullptr;
  std::vector<DesiredFile> fixed;  // binary, ca.crt, certs and keys
  DesiredFile unit_new;            // --initial-cluster-state=new
  DesiredFile unit_existing;       // --initial-cluster-state=existing
};

// "etcd" or "kvserver": the file name the unit templates start from bin_dir.
std::string binary_name(Flavor flavor);
std::string unit_path(const NodeSpec& node);
std::string remote_binary_path(const NodeSpec& node);

// <config_dir>/.binary.sha256: "SIZE MTIME SHA256" of the binary as pushed (node_facts.h).
std::string binary_manifest_path(const NodeSpec& node);

// Every remote file provision manages on `node` (the probe reports on these).
std::vector<std::string> managed_paths(const NodeSpec& node);

// Reads the binary (once per distinct path), ca.crt and each node's certs and keys, and renders
// the units. Errors name the file and what makes it (`certs generate`, the build).
// With `allow_missing_certs` (for `plan`, which must not create a PKI), a certificate or key not
// generated yet is a DesiredFile with no bytes and sha256 kNotGenerated: it differs from anything
// on a node, so the plan shows it as to be written.
// The server binaries (read once per distinct path, with their sha256): the one large input,
// so `up` reads and hashes it while preflight waits on the network.
struct LoadedBinary {
  std::shared_ptr<const std::string> bytes;
  std::string sha256;
};
using Binaries = std::map<std::string, LoadedBinary>;  // workstation path -> contents
certs::Result<Binaries> load_binaries(const Inventory& inv);

// `binaries`: from load_binaries(), or null to read them here.
certs::Result<std::vector<NodeInputs>> load_desired(const Inventory& inv, const std::string& token,
                                                    bool allow_missing_certs = false,
                                                    const Binaries* binaries = nullptr);

constexpr const char* kNotGenerated = "(not generated yet)";

}  // namespace provision::steps
