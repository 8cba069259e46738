// Where every certificate of a cluster lives under pki.dir, and what it must say.
//
//   <pki.dir>/ca.crt, ca.key                 the cluster CA (ca.crt may hold several CAs during a
//                                            rotation; the signing one is the one ca.key matches)
//   <pki.dir>/<node>/server.{crt,key}        client-port cert: SANs = address + dns + extra_sans +
//                                            127.0.0.1, ::1, localhost; CN = node name
//   <pki.dir>/<node>/peer.{crt,key}          peer-port cert: SANs = address + dns + extra_sans
//   <pki.dir>/clients/<name>.{crt,key}       client certs (clientAuth only)
//   <pki.dir>/cluster-token                  the generated --initial-cluster-token, when the
//                                            inventory gives none
// Thread-safety: pure functions of the inventory.
#pragma once

#include <string>
#include <vector>

#include "certs/issue.h"
#include "provision/inventory.h"

namespace provision {

struct CertTarget {
  std::string id;  // "h1/server", "clients/admin": the CERTIFICATE column
  std::string cert_path;
  std::string key_path;
  certs::CertRole role = certs::CertRole::kServer;
  std::string common_name;
  std::string organization;
  certs::SubjectAltNames sans;     // normalized
  const NodeSpec* node = nullptr;  // null for clients
};

std::string ca_cert_path(const Inventory& inv);
std::string ca_key_path(const Inventory& inv);
std::string cluster_token_path(const Inventory& inv);
std::string ca_common_name(const Inventory& inv);

// Every leaf the inventory calls for, nodes first (server then peer), then clients.
std::vector<CertTarget> desired_certs(const Inventory& inv);

// The SANs of a node's server and peer certificates.
certs::SubjectAltNames server_sans(const NodeSpec& node);
certs::SubjectAltNames peer_sans(const NodeSpec& node);

}  // namespace provision
