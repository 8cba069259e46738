// The inventory: one YAML file that says what cluster to build, where, and how to reach it.
//
// load_inventory() reads and validates it completely before anything is written anywhere: a bad
// inventory yields one line per problem, each naming FILE:LINE:COLUMN and what to do, and nothing
// else happens. inventory.example.yaml documents every field.
//
// Invariants of a loaded Inventory:
//   - node names and addresses are unique; addresses are canonical IPs; names are usable as
//     directory names and etcd member names ([A-Za-z0-9._-]);
//   - every node's `ssh` and `server` are the effective settings: global values with that node's
//     overrides applied (so callers never merge);
//   - paths on the workstation (pki.dir, server.binary, ssh files) are absolute: relative ones are
//     resolved against the inventory file's directory, "~" against $HOME;
//   - clients include "admin" and "healthcheck" (provision itself uses the latter).
// Thread-safety: a plain value.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "certs/key.h"
#include "certs/result.h"

namespace provision {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct ClusterSpec {
  std::string name;
  std::string token;  // empty: generated once and kept in <pki.dir>/cluster-token
};

struct PkiSpec {
  std::string dir;
  certs::KeyType key_type = certs::KeyType::kEcdsaP256;
  seconds ca_validity = std::chrono::hours(24 * 365 * 10);
  seconds cert_validity = std::chrono::hours(24 * 365);
  seconds renew_before = std::chrono::hours(24 * 90);
};

enum class Flavor { kKvserver, kEtcd };
std::string flavor_name(Flavor flavor);

struct ServerSpec {
  Flavor flavor = Flavor::kKvserver;
  std::string binary;  // workstation path of the server binary to copy
  int client_port = 2379;
  int peer_port = 2380;
  int heartbeat_ms = 100;
  int election_ms = 1000;
  std::vector<std::string> extra_flags;
  // Remote paths. Empty until loaded; then the flavour's defaults unless set
  // (kvserver: /usr/local/bin, /etc/kvserver, /var/lib/kvserver, kvserver.service;
  //  etcd: /usr/local/bin, /etc/etcd, /var/lib/etcd, etcd.service).
  std::string bin_dir;
  std::string config_dir;
  std::string data_dir;
  std::string unit;
};

struct SshSpec {
  std::string user = "root";
  int port = 22;
  std::string identity_file;  // empty: ssh-agent or libssh's default keys
  bool use_agent = false;
  std::string known_hosts = "~/.ssh/known_hosts";
  bool sudo = false;
  milliseconds connect_timeout = std::chrono::seconds(10);
};

struct SourcePosition {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
};

struct NodeSpec {
  std::string name;
  std::string address;  // canonical IPv4 or IPv6
  std::vector<std::string> dns;
  std::vector<std::string> extra_sans;  // DNS names or IPs
  SshSpec ssh;                          // effective (global + overrides)
  ServerSpec server;                    // effective (global + overrides)
  SourcePosition position;              // where the node is defined, for messages
};

struct ClientSpec {
  std::string name;  // file name under <pki.dir>/clients/
  std::string cn;
  std::string o;  // optional organization ("system:masters" for Kubernetes admin clients)
};

struct Inventory {
  std::string path;  // the file it was read from
  ClusterSpec cluster;
  PkiSpec pki;
  ServerSpec server;  // global defaults (nodes hold the effective copies)
  SshSpec ssh;
  std::vector<NodeSpec> nodes;
  std::vector<ClientSpec> clients;

  const NodeSpec* find_node(const std::string& name) const;
  // "inventory.yaml:12: node h2" - the prefix for messages about a node.
  std::string where(const NodeSpec& node) const;
};

certs::Result<Inventory> load_inventory(const std::string& path);
// For tests and `provision` subcommands that take YAML from elsewhere; `path` is used in messages
// and as the base for relative paths.
certs::Result<Inventory> parse_inventory(const std::string& yaml, const std::string& path);

}  // namespace provision
