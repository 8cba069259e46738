// Certificate issuance: a self-signed CA and leaves signed by it, with the profile the tool
// guarantees (DESIGN §3, OPERATIONS-FACTS.md "Defaults with their sources").
//
// Every certificate we issue has: version 3, a random positive 128-bit serial, SHA-256 signatures
// (Ed25519 signs without a separate digest), a Subject Key Identifier, and on leaves an Authority
// Key Identifier. The CA is `CA:TRUE, pathlen:0` with keyCertSign+cRLSign. Leaves are `CA:FALSE`,
// digitalSignature (+keyEncipherment for RSA keys), and EKUs by role:
//   server, peer -> serverAuth + clientAuth (etcd's peers and health checks dial with them)
//   client       -> clientAuth only (so a client cert can never serve)
//
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <chrono>
#include <string>

#include "certs/openssl_util.h"
#include "certs/result.h"
#include "certs/san.h"

namespace certs {

using TimePoint = std::chrono::sys_seconds;

enum class CertRole { kServer, kPeer, kClient };
std::string cert_role_name(CertRole role);

struct CaSpec {
  std::string common_name;
  TimePoint not_before;  // callers backdate it (5 minutes, like kubeadm) to absorb clock skew
  TimePoint not_after;
};

struct LeafSpec {
  std::string common_name;
  std::string organization;  // optional ("system:masters" for Kubernetes admin clients)
  SubjectAltNames sans;
  CertRole role = CertRole::kServer;
  TimePoint not_before;
  TimePoint not_after;
};

Result<X509Ptr> create_ca(const CaSpec& spec, EVP_PKEY* ca_key);
Result<X509Ptr> issue_leaf(const LeafSpec& spec, EVP_PKEY* leaf_key, X509* ca_cert,
                           EVP_PKEY* ca_key);

}  // namespace certs
