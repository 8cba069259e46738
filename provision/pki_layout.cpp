#include "provision/pki_layout.h"

#include "certs/san.h"

namespace provision {
namespace {

certs::SubjectAltNames node_names(const NodeSpec& node) {
  certs::SubjectAltNames sans;
  sans.ips.push_back(node.address);
  sans.dns = node.dns;
  for (const auto& extra : node.extra_sans) {
    (certs::is_ip_address(extra) ? sans.ips : sans.dns).push_back(extra);
  }
  return sans;
}

}  // namespace

std::string ca_cert_path(const Inventory& inv) {
  return inv.pki.dir + "/ca.crt";
}
std::string ca_key_path(const Inventory& inv) {
  return inv.pki.dir + "/ca.key";
}
std::string cluster_token_path(const Inventory& inv) {
  return inv.pki.dir + "/cluster-token";
}
std::string ca_common_name(const Inventory& inv) {
  return inv.cluster.name + "-ca";
}

certs::SubjectAltNames server_sans(const NodeSpec& node) {
  certs::SubjectAltNames sans = node_names(node);
  // Local health checks and etcdctl on the node itself dial loopback.
  sans.ips.insert(sans.ips.end(), {"127.0.0.1", "::1"});
  sans.dns.push_back("localhost");
  sans.normalize();
  return sans;
}

certs::SubjectAltNames peer_sans(const NodeSpec& node) {
  certs::SubjectAltNames sans = node_names(node);
  sans.normalize();
  return sans;
}

std::vector<CertTarget> desired_certs(const Inventory& inv) {
  std::vector<CertTarget> out;
  for (const auto& node : inv.nodes) {
    std::string dir = inv.pki.dir + "/" + node.name;
    out.push_back({node.name + "/server", dir + "/server.crt", dir + "/server.key",
                   certs::CertRole::kServer, node.name, "", server_sans(node), &node});
    out.push_back({node.name + "/peer", dir + "/peer.crt", dir + "/peer.key",
                   certs::CertRole::kPeer, node.name, "", peer_sans(node), &node});
  }
  for (const auto& client : inv.clients) {
    std::string base = inv.pki.dir + "/clients/" + client.name;
    out.push_back({"clients/" + client.name,
                   base + ".crt",
                   base + ".key",
                   certs::CertRole::kClient,
                   client.cn,
                   client.o,
                   {},
                   nullptr});
  }
  return out;
}

}  // namespace provision
