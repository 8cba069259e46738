// A throw-away PKI for the certs tests: a CA and helpers to issue leaves and write them to files
// that the openssl CLI can judge.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "certs/file_io.h"
#include "certs/issue.h"
#include "certs/key.h"
#include "certs/pem.h"
#include "tests/support/test_support.h"

namespace certs_test {

using namespace std::chrono_literals;

inline certs::TimePoint now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

struct TestCa {
  certs::PkeyPtr key;
  certs::X509Ptr cert;

  explicit TestCa(certs::KeyType type = certs::KeyType::kEcdsaP256, std::string cn = "test-ca") {
    key = std::move(certs::generate_key(type).value());
    cert = std::move(certs::create_ca({cn, now() - 5min, now() + 24h * 3650}, key.get()).value());
  }
};

struct TestLeaf {
  certs::PkeyPtr key;
  certs::X509Ptr cert;
};

inline TestLeaf issue(const TestCa& ca, certs::CertRole role, certs::SubjectAltNames sans,
                      std::string cn = "h1", certs::TimePoint not_before = now() - 5min,
                      certs::TimePoint not_after = now() + 24h * 365,
                      certs::KeyType type = certs::KeyType::kEcdsaP256) {
  TestLeaf leaf;
  leaf.key = std::move(certs::generate_key(type).value());
  certs::LeafSpec spec{cn, "", std::move(sans), role, not_before, not_after};
  leaf.cert =
      std::move(certs::issue_leaf(spec, leaf.key.get(), ca.cert.get(), ca.key.get()).value());
  return leaf;
}

// Writes cert (0644) and key (0600) as DIR/NAME.crt and DIR/NAME.key.
inline void write_pair(const std::string& dir, const std::string& name, X509* cert, EVP_PKEY* key) {
  REQUIRE(certs::atomic_write(dir + "/" + name + ".crt", certs::certificate_to_pem(cert),
                              certs::kCertificateMode));
  if (key) {
    REQUIRE(certs::atomic_write(dir + "/" + name + ".key", certs::private_key_to_pem(key),
                                certs::kPrivateKeyMode));
  }
}

}  // namespace certs_test
