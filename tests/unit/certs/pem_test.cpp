#include "certs/pem.h"

#include "tests/unit/certs/pki_fixture.h"

using namespace certs;
using namespace certs_test;
using test_support::run;
using test_support::shell_quote;

TEST_CASE("a bundle of two CAs round-trips and openssl verifies leaves of either", "[pem]") {
  test_support::TempDir dir;
  TestCa old_ca(KeyType::kEcdsaP256, "old-ca"), new_ca(KeyType::kEcdsaP256, "new-ca");
  std::vector<std::shared_ptr<X509>> bundle{share(X509Ptr(X509_dup(old_ca.cert.get()))),
                                            share(X509Ptr(X509_dup(new_ca.cert.get())))};
  std::string pem = bundle_to_pem(bundle);
  auto back = bundle_from_pem(pem, "bundle.crt");
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  CHECK(X509_cmp(back->at(0).get(), old_ca.cert.get()) == 0);
  CHECK(X509_cmp(back->at(1).get(), new_ca.cert.get()) == 0);

  REQUIRE(atomic_write(dir / "bundle.crt", pem, kCertificateMode));
  for (TestCa* ca : {&old_ca, &new_ca}) {
    TestLeaf leaf = issue(*ca, CertRole::kServer, {});
    write_pair(dir.path(), "leaf", leaf.cert.get(), nullptr);
    CHECK(run("openssl verify -CAfile " + shell_quote(dir / "bundle.crt") + " " +
              shell_quote(dir / "leaf.crt"))
              .exit_code == 0);
  }
}

TEST_CASE("corrupt, truncated and empty certificate PEM are named errors", "[pem]") {
  TestCa ca;
  std::string pem = certificate_to_pem(ca.cert.get());
  SECTION("truncated") {
    auto r = certificate_from_pem(pem.substr(0, pem.size() / 2), "pki/ca.crt");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::StartsWith("pki/ca.crt:"));
  }
  SECTION("a flipped base64 character in the DER length") {
    std::string bad = pem;
    size_t der_length = pem.find('\n') + 1 + 3;  // "MIIB..": the 4th char holds length bits
    bad[der_length] = bad[der_length] == 'A' ? 'E' : 'A';
    auto r = certificate_from_pem(bad, "pki/ca.crt");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("corrupt"));
  }
  SECTION("empty") {
    auto r = certificate_from_pem("", "pki/ca.crt");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("no PEM certificate"));
  }
  SECTION("a second, truncated certificate after a good one") {
    auto r = bundle_from_pem(pem + pem.substr(0, 200), "bundle.crt");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("certificate 2"));
  }
  SECTION("two certificates where one is expected") {
    auto r = certificate_from_pem(pem + pem, "pki/ca.crt");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("holds 2 certificates"));
  }
}
