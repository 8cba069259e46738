#include "provision/render.h"

#include "embedded_templates.h"

namespace provision {

certs::Result<std::string> render_template(const std::string& text,
                                           const std::map<std::string, std::string>& values,
                                           const std::string& template_name) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = text.find("}}", open);
    if (close == std::string::npos) {
      return certs::Error(template_name + ": '{{' without '}}' at byte " + std::to_string(open));
    }
    std::string key = text.substr(open + 2, close - open - 2);
    auto it = values.find(key);
    if (it == values.end()) {
      return certs::Error(template_name + ": no value for {{" + key + "}}");
    }
    out += text.substr(pos, open - pos) + it->second;
    pos = close + 2;
  }
  return out + text.substr(pos);
}

std::string https_url(const std::string& address, int port) {
  bool v6 = address.find(':') != std::string::npos;
  return "https://" + (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

std::string initial_cluster(const Inventory& inv) {
  std::string out;
  for (const auto& n : inv.nodes) {
    out += (out.empty() ? "" : ",") + n.name + "=" + https_url(n.address, n.server.peer_port);
  }
  return out;
}

certs::Result<std::string> render_unit(const Inventory& inv, const NodeSpec& node,
                                       const std::string& token, ClusterState state) {
  const ServerSpec& s = node.server;
  std::string extra;
  for (const auto& flag : s.extra_flags)
    extra += " \\\n  " + flag;
  // Loopback too, so etcdctl on the node works without naming its address.
  std::string loopback = node.address.find(':') != std::string::npos ? "::1" : "127.0.0.1";
  std::map<std::string, std::string> values{
      {"unit", s.unit},
      {"name", node.name},
      {"cluster", inv.cluster.name},
      {"bin_dir", s.bin_dir},
      {"data_dir", s.data_dir},
      {"config_dir", s.config_dir},
      {"listen_client_urls",
       https_url(node.address, s.client_port) + "," + https_url(loopback, s.client_port)},
      {"advertise_client_urls", https_url(node.address, s.client_port)},
      {"listen_peer_urls", https_url(node.address, s.peer_port)},
      {"initial_advertise_peer_urls", https_url(node.address, s.peer_port)},
      {"initial_cluster", initial_cluster(inv)},
      {"initial_cluster_state", state == ClusterState::kNew ? "new" : "existing"},
      {"initial_cluster_token", token},
      {"heartbeat_ms", std::to_string(s.heartbeat_ms)},
      {"election_ms", std::to_string(s.election_ms)},
      {"extra_flags", extra},
      // A bootstrapping member waits for its peers however long they take to boot; a member
      // joining a running cluster gets quorum fast or has a real problem worth a restart.
      {"timeout_start", state == ClusterState::kNew ? "0" : "120"},
  };
  bool etcd = s.flavor == Flavor::kEtcd;
  return render_template(etcd ? embedded::kEtcdUnit : embedded::kKvserverUnit, values,
                         etcd ? "templates/etcd.service.in" : "templates/kvserver.service.in");
}

}  // namespace provision
