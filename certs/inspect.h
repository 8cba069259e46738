// Reading certificates back: what a certificate says (subject, SANs, EKUs, validity, fingerprint)
// and whether it belongs with a key and a CA. Used by `provision certs check`, by the idempotent
// `certs generate` (to decide kept vs reissued) and by preflight (is the node's address in its
// SANs).
//
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "certs/issue.h"
#include "certs/openssl_util.h"
#include "certs/san.h"

namespace certs {

struct CertInfo {
  std::string subject;  // one line, RFC 2253 order ("CN=h1,O=...")
  std::string common_name;
  std::string issuer;
  std::string serial_hex;
  SubjectAltNames sans;  // normalized
  bool is_ca = false;
  bool server_auth = false;  // EKU serverAuth
  bool client_auth = false;  // EKU clientAuth
  TimePoint not_before;
  TimePoint not_after;
  std::string sha256_fingerprint;  // "AB:CD:..." as `openssl x509 -fingerprint -sha256` prints
};

CertInfo inspect(X509* cert);

// True when `issuer` signed `cert` (names chain and the signature verifies with issuer's key).
bool signed_by(X509* cert, X509* issuer);
// True when any CA in `bundle` signed `cert`.
bool signed_by_any(X509* cert, const std::vector<std::shared_ptr<X509>>& bundle);

// True when the EKUs are exactly what `role` gets from issue_leaf.
bool ekus_match_role(const CertInfo& info, CertRole role);

}  // namespace certs
