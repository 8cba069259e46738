#include "certs/inspect.h"

#include "tests/unit/certs/pki_fixture.h"

using namespace certs;
using namespace certs_test;
using test_support::run;
using test_support::shell_quote;

TEST_CASE("inspect reads back what was issued, and the fingerprint matches openssl's",
          "[inspect]") {
  test_support::TempDir dir;
  TestCa ca;
  SubjectAltNames sans{{"h2"}, {"10.0.0.2", "::1"}};
  sans.normalize();
  auto not_after = now() + 24h * 30;
  TestLeaf leaf = issue(ca, CertRole::kPeer, sans, "h2", now() - 5min, not_after);
  write_pair(dir.path(), "leaf", leaf.cert.get(), leaf.key.get());

  CertInfo info = inspect(leaf.cert.get());
  CHECK(info.common_name == "h2");
  CHECK(info.issuer == "CN=test-ca");
  CHECK(info.sans == sans);
  CHECK(info.server_auth);
  CHECK(info.client_auth);
  CHECK_FALSE(info.is_ca);
  CHECK(info.not_after == not_after);
  CHECK(ekus_match_role(info, CertRole::kPeer));
  CHECK_FALSE(ekus_match_role(info, CertRole::kClient));

  auto fp =
      run("openssl x509 -in " + shell_quote(dir / "leaf.crt") + " -noout -fingerprint -sha256");
  CHECK_THAT(fp.output, Catch::Contains(info.sha256_fingerprint));
}

TEST_CASE("signed_by tells our CA from a foreign one, key_matches_cert pairs keys", "[inspect]") {
  TestCa ours, foreign(KeyType::kEcdsaP256, "foreign-ca");
  TestLeaf leaf = issue(ours, CertRole::kServer, {});
  CHECK(signed_by(leaf.cert.get(), ours.cert.get()));
  CHECK_FALSE(signed_by(leaf.cert.get(), foreign.cert.get()));

  // A foreign CA with the very same name must still fail: the signature decides, not the name.
  TestCa impostor(KeyType::kEcdsaP256, "test-ca");
  CHECK_FALSE(signed_by(leaf.cert.get(), impostor.cert.get()));
  CHECK(signed_by_any(leaf.cert.get(), {share(X509Ptr(X509_dup(impostor.cert.get()))),
                                        share(X509Ptr(X509_dup(ours.cert.get())))}));

  TestLeaf other = issue(ours, CertRole::kServer, {});
  CHECK(key_matches_cert(leaf.key.get(), leaf.cert.get()));
  CHECK_FALSE(key_matches_cert(other.key.get(), leaf.cert.get()));
}

TEST_CASE("SAN lists normalize IPs and explain differences", "[san]") {
  CHECK(canonical_ip("::0001").value() == "::1");
  CHECK(canonical_ip("10.0.0.1").value() == "10.0.0.1");
  CHECK_FALSE(canonical_ip("10.0.0.300").ok());
  CHECK_FALSE(canonical_ip("h1").ok());
  SubjectAltNames have{{"h1"}, {"10.0.0.1"}}, want{{"h1", "h1.example"}, {"10.0.0.2"}};
  CHECK(have.diff(want) == "missing DNS:h1.example, missing IP:10.0.0.2, extra IP:10.0.0.1");
}
