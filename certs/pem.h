// PEM encoding of certificates, and CA bundles (several certificates in one file).
//
// Bundles are how CA rotation works without an outage (OPERATIONS-FACTS.md, pain point 3): nodes
// trust "old CA + new CA" while leaves are re-issued, then the old CA is dropped.
//
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "certs/openssl_util.h"
#include "certs/result.h"

namespace certs {

std::string certificate_to_pem(X509* cert);

// Exactly one certificate; `source` names the file for the error message.
Result<X509Ptr> certificate_from_pem(const std::string& pem, const std::string& source);

// One or more certificates, in file order. An empty file, trailing garbage or a truncated block is
// an error naming `source`.
Result<std::vector<std::shared_ptr<X509>>> bundle_from_pem(const std::string& pem,
                                                           const std::string& source);
std::string bundle_to_pem(const std::vector<std::shared_ptr<X509>>& certs);

}  // namespace certs
