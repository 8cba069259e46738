#include "provision/inventory.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "certs/file_io.h"
#include "certs/san.h"
#include "provision/duration.h"
#include "provision/yaml_reader.h"

namespace provision {
namespace {

using certs::Error;
using certs::Result;

const std::regex kNodeName("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$");
const std::regex kClusterName("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$");
const std::regex kDnsName(
    "^(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-"
    "Za-z0-9])?)*$");

// Resolves a workstation path: "~" -> $HOME, relative -> against the inventory's directory.
std::string resolve_path(const std::string& p, const std::string& base_dir) {
  if (p.empty()) return p;
  std::string out = p;
  if (out == "~" || out.starts_with("~/")) {
    const char* home = std::getenv("HOME");
    out = std::string(home ? home : "/root") + out.substr(1);
  }
  std::filesystem::path path(out);
  if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
  return path.lexically_normal().string();
}

void read_ssh(YamlReader& r, const YAML::Node& n, const std::string& ctx, SshSpec& ssh) {
  if (!r.check_map(n, ctx,
                   {"user", "port", "identity_file", "use_agent", "known_hosts", "sudo",
                    "connect_timeout"})) {
    return;
  }
  if (auto v = r.string(n, "user", ctx)) ssh.user = *v;
  if (auto v = r.integer(n, "port", ctx, 1, 65535)) ssh.port = *v;
  if (auto v = r.string(n, "identity_file", ctx)) ssh.identity_file = *v;
  if (auto v = r.boolean(n, "use_agent", ctx)) ssh.use_agent = *v;
  if (auto v = r.string(n, "known_hosts", ctx)) ssh.known_hosts = *v;
  if (auto v = r.boolean(n, "sudo", ctx)) ssh.sudo = *v;
  if (auto v = r.duration(n, "connect_timeout", ctx)) ssh.connect_timeout = *v;
}

void read_server(YamlReader& r, const YAML::Node& n, const std::string& ctx, ServerSpec& server) {
  if (!r.check_map(n, ctx,
                   {"flavor", "binary", "client_port", "peer_port", "heartbeat_ms", "election_ms",
                    "extra_flags", "bin_dir", "config_dir", "data_dir", "unit"})) {
    return;
  }
  if (auto v = r.string(n, "flavor", ctx)) {
    if (*v == "kvserver") {
      server.flavor = Flavor::kKvserver;
    } else if (*v == "etcd") {
      server.flavor = Flavor::kEtcd;
    } else {
      r.error(n["flavor"], ctx + ".flavor is '" + *v + "'; use kvserver or etcd");
    }
  }
  if (auto v = r.string(n, "binary", ctx)) server.binary = *v;
  if (auto v = r.integer(n, "client_port", ctx, 1, 65535)) server.client_port = *v;
  if (auto v = r.integer(n, "peer_port", ctx, 1, 65535)) server.peer_port = *v;
  if (auto v = r.integer(n, "heartbeat_ms", ctx, 10, 60000)) server.heartbeat_ms = *v;
  if (auto v = r.integer(n, "election_ms", ctx, 50, 600000)) server.election_ms = *v;
  if (auto v = r.strings(n, "extra_flags", ctx)) server.extra_flags = *v;
  for (auto [key, field] :
       {std::pair{"bin_dir", &server.bin_dir}, std::pair{"config_dir", &server.config_dir},
        std::pair{"data_dir", &server.data_dir}}) {
    if (auto v = r.string(n, key, ctx)) {
      if (!v->starts_with("/")) {
        r.error(n[key], ctx + "." + key + " is '" + *v + "'; remote paths must be absolute");
      } else {
        *field = *v;
      }
    }
  }
  if (auto v = r.string(n, "unit", ctx)) {
    if (!v->ends_with(".service") || v->find('/') != std::string::npos) {
      r.error(n["unit"], ctx + ".unit is '" + *v + "'; name a systemd unit like kvserver.service");
    } else {
      server.unit = *v;
    }
  }
}

// The flavour's remote defaults, for the fields neither the global section nor the node set.
void apply_flavor_defaults(ServerSpec& s) {
  bool etcd = s.flavor == Flavor::kEtcd;
  if (s.bin_dir.empty()) s.bin_dir = "/usr/local/bin";
  if (s.config_dir.empty()) s.config_dir = etcd ? "/etc/etcd" : "/etc/kvserver";
  if (s.data_dir.empty()) s.data_dir = etcd ? "/var/lib/etcd" : "/var/lib/kvserver";
  if (s.unit.empty()) s.unit = etcd ? "etcd.service" : "kvserver.service";
}

void read_cluster(YamlReader& r, const YAML::Node& n, ClusterSpec& cluster) {
  if (!n) {
    r.error("missing required section 'cluster' (with at least 'name')");
    return;
  }
  if (!r.check_map(n, "cluster", {"name", "token"})) return;
  if (auto v = r.string(n, "name", "cluster")) {
    if (std::regex_match(*v, kClusterName)) {
      cluster.name = *v;
    } else {
      r.error(n["name"], "cluster.name '" + *v +
                             "' must be lower-case letters, digits and '-', at most 63 characters");
    }
  } else {
    r.error(n, "cluster.name is required");
  }
  if (auto v = r.string(n, "token", "cluster")) cluster.token = *v;
}

void read_pki(YamlReader& r, const YAML::Node& n, PkiSpec& pki) {
  pki.dir = "pki";
  if (!r.check_map(n, "pki", {"dir", "key_type", "ca_validity", "cert_validity", "renew_before"})) {
    return;
  }
  if (auto v = r.string(n, "dir", "pki")) pki.dir = *v;
  if (auto v = r.string(n, "key_type", "pki")) {
    auto type = certs::parse_key_type(*v);
    if (type) {
      pki.key_type = *type;
    } else {
      r.error(n["key_type"], "pki.key_type: " + type.error().message);
    }
  }
  using std::chrono::duration_cast;
  if (auto v = r.duration(n, "ca_validity", "pki")) pki.ca_validity = duration_cast<seconds>(*v);
  if (auto v = r.duration(n, "cert_validity", "pki"))
    pki.cert_validity = duration_cast<seconds>(*v);
  if (auto v = r.duration(n, "renew_before", "pki")) pki.renew_before = duration_cast<seconds>(*v);
  if (pki.cert_validity > pki.ca_validity) {
    r.error(n, "pki.cert_validity (" + format_duration(pki.cert_validity) +
                   ") is longer than pki.ca_validity (" + format_duration(pki.ca_validity) +
                   "); leaves cannot outlive their CA");
  }
  if (pki.renew_before >= pki.cert_validity) {
    r.error(n, "pki.renew_before (" + format_duration(pki.renew_before) +
                   ") must be shorter than pki.cert_validity (" +
                   format_duration(pki.cert_validity) + "), or every run would re-issue");
  }
}

void read_san_list(YamlReader& r, const YAML::Node& n, const char* key, const std::string& ctx,
                   bool allow_ip, std::vector<std::string>& out) {
  auto values = r.strings(n, key, ctx);
  if (!values) return;
  for (size_t i = 0; i < values->size(); ++i) {
    const std::string& v = (*values)[i];
    auto ip = certs::canonical_ip(v);
    if (ip.ok() && allow_ip) {
      out.push_back(*ip);
    } else if (!ip.ok() && std::regex_match(v, kDnsName)) {
      out.push_back(v);
    } else {
      r.error(n[key][i], ctx + "." + key + ": '" + v + "' is not a valid " +
                             (allow_ip ? "DNS name or IP address" : "DNS name"));
    }
  }
}

void read_nodes(YamlReader& r, const YAML::Node& n, const Inventory& inv,
                std::vector<NodeSpec>& nodes) {
  if (!n) {
    r.error("missing required section 'nodes' (a list of {name, address})");
    return;
  }
  if (!r.check_list(n, "nodes")) return;
  if (n.size() == 0) r.error(n, "nodes is empty; list at least one node");
  std::map<std::string, int> names, addresses;
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node item = n[i];
    std::string ctx = "nodes[" + std::to_string(i) + "]";
    NodeSpec node;
    node.ssh = inv.ssh;
    node.server = inv.server;
    node.position = {item.Mark().line + 1, item.Mark().column + 1};
    if (!r.check_map(item, ctx, {"name", "address", "dns", "extra_sans", "ssh", "server"})) {
      if (!item || item.IsNull()) r.error(item, ctx + " is empty; give it a name and an address");
      continue;
    }
    if (auto v = r.string(item, "name", ctx)) {
      if (!std::regex_match(*v, kNodeName)) {
        r.error(item["name"], ctx + ".name '" + *v +
                                  "' must be letters, digits, '.', '_' or '-' (it names files)");
      } else if (auto [it, fresh] = names.emplace(*v, node.position.line); !fresh) {
        r.error(item["name"], "node name '" + *v + "' is used twice (also on line " +
                                  std::to_string(it->second) + "); node names must be unique");
      }
      node.name = *v;
    } else {
      r.error(item, ctx + ".name is required (a stable name; never derived from list order)");
    }
    std::string label = node.name.empty() ? ctx : "node " + node.name;
    if (auto v = r.string(item, "address", ctx)) {
      auto ip = certs::canonical_ip(*v);
      if (!ip) {
        r.error(item["address"], label + ": address '" + *v +
                                     "' is not an IPv4 or IPv6 address; write the IP other nodes "
                                     "and this workstation reach it at");
      } else {
        node.address = *ip;
        if (auto [it, fresh] = addresses.emplace(*ip, node.position.line); !fresh) {
          r.error(item["address"], label + ": address " + *ip + " is used twice (also on line " +
                                       std::to_string(it->second) + "); each node needs its own");
        }
      }
    } else {
      r.error(item, label + ": address is required");
    }
    read_san_list(r, item, "dns", ctx, false, node.dns);
    read_san_list(r, item, "extra_sans", ctx, true, node.extra_sans);
    read_ssh(r, item["ssh"], ctx + ".ssh", node.ssh);
    read_server(r, item["server"], ctx + ".server", node.server);
    nodes.push_back(std::move(node));
  }
}

void read_clients(YamlReader& r, const YAML::Node& n, std::vector<ClientSpec>& clients) {
  if (r.check_list(n, "clients")) {
    for (size_t i = 0; i < n.size(); ++i) {
      const YAML::Node item = n[i];
      std::string ctx = "clients[" + std::to_string(i) + "]";
      if (!r.check_map(item, ctx, {"name", "cn", "o"})) continue;
      ClientSpec c;
      if (auto v = r.string(item, "name", ctx)) c.name = *v;
      if (c.name.empty() || !std::regex_match(c.name, kNodeName)) {
        r.error(item, ctx + ".name is required: letters, digits, '.', '_' or '-' (it names files)");
        continue;
      }
      for (const auto& existing : clients) {
        if (existing.name == c.name) r.error(item, "client name '" + c.name + "' is used twice");
      }
      c.cn = r.string(item, "cn", ctx).value_or(c.name);
      c.o = r.string(item, "o", ctx).value_or("");
      clients.push_back(std::move(c));
    }
  }
  // The two every cluster needs: an operator identity and the one provision verifies health with.
  for (const char* name : {"admin", "healthcheck"}) {
    bool present = false;
    for (const auto& c : clients)
      present = present || c.name == name;
    if (!present) clients.push_back({name, name, ""});
  }
}

}  // namespace

std::string flavor_name(Flavor flavor) {
  return flavor == Flavor::kEtcd ? "etcd" : "kvserver";
}

const NodeSpec* Inventory::find_node(const std::string& name) const {
  for (const auto& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

std::string Inventory::where(const NodeSpec& node) const {
  return path + (node.position.line ? ":" + std::to_string(node.position.line) : "") + ": node " +
         node.name;
}

Result<Inventory> parse_inventory(const std::string& yaml, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    return Error(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                 std::to_string(e.mark.column + 1) + ": not valid YAML: " + e.msg);
  }
  YamlReader r(path);
  Inventory inv;
  inv.path = path;
  if (!root || root.IsNull())
    return Error(path + ": the inventory is empty; start from inventory.example.yaml");
  if (!r.check_map(root, "", {"cluster", "pki", "server", "ssh", "nodes", "clients"})) {
    return Error(r.errors().empty() ? path + ": the inventory must be a YAML mapping"
                                    : r.errors().front());
  }
  read_cluster(r, root["cluster"], inv.cluster);
  read_pki(r, root["pki"], inv.pki);
  read_ssh(r, root["ssh"], "ssh", inv.ssh);
  read_server(r, root["server"], "server", inv.server);
  read_nodes(r, root["nodes"], inv, inv.nodes);
  read_clients(r, root["clients"], inv.clients);

  for (auto& node : inv.nodes) {
    apply_flavor_defaults(node.server);
    if (node.server.client_port == node.server.peer_port) {
      r.error(inv.where(node) + ": client_port and peer_port are both " +
              std::to_string(node.server.client_port) + "; give them different ports");
    }
  }
  if (!r.errors().empty()) {
    std::string all;
    for (const auto& e : r.errors())
      all += (all.empty() ? "" : "\n") + e;
    return Error(all);
  }

  // Workstation paths become absolute once, here, so every later step can use them as they are.
  std::string base = std::filesystem::absolute(path).parent_path().string();
  apply_flavor_defaults(inv.server);
  inv.pki.dir = resolve_path(inv.pki.dir, base);
  for (SshSpec* ssh : {&inv.ssh}) {
    ssh->identity_file = resolve_path(ssh->identity_file, base);
    ssh->known_hosts = resolve_path(ssh->known_hosts, base);
  }
  inv.server.binary = resolve_path(inv.server.binary, base);
  for (auto& node : inv.nodes) {
    node.ssh.identity_file = resolve_path(node.ssh.identity_file, base);
    node.ssh.known_hosts = resolve_path(node.ssh.known_hosts, base);
    node.server.binary = resolve_path(node.server.binary, base);
  }
  return inv;
}

Result<Inventory> load_inventory(const std::string& path) {
  auto text = certs::read_file(path);
  if (!text) {
    return Error(path + ": cannot read the inventory; check the path given with -i/--inventory");
  }
  return parse_inventory(*text, path);
}

}  // namespace provision
