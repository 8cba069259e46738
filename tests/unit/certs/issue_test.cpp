// The openssl CLI is the judge of what issue_leaf/create_ca write.
#include "certs/issue.h"
#include "certs/inspect.h"

#include "tests/unit/certs/pki_fixture.h"

using namespace certs;
using namespace certs_test;
using test_support::run;
using test_support::shell_quote;

namespace {

std::string x509_text(const std::string& path) {
  auto r = run("openssl x509 -in " + shell_quote(path) + " -noout -text");
  REQUIRE(r.exit_code == 0);
  return r.output;
}

SubjectAltNames node_sans() {
  SubjectAltNames sans{{"h1", "localhost"}, {"10.213.0.11", "127.0.0.1", "::1", "fd00::11"}};
  sans.normalize();
  return sans;
}

}  // namespace

TEST_CASE("CA: CA:TRUE pathlen:0, keyCertSign+cRLSign, SKI, self-signed, backdated", "[issue]") {
  test_support::TempDir dir;
  TestCa ca;
  write_pair(dir.path(), "ca", ca.cert.get(), ca.key.get());
  std::string text = x509_text(dir / "ca.crt");
  CHECK_THAT(text, Catch::Contains("CA:TRUE, pathlen:0"));
  CHECK_THAT(text, Catch::Contains("Certificate Sign, CRL Sign"));
  CHECK_THAT(text, Catch::Contains("X509v3 Subject Key Identifier"));
  CHECK_THAT(text, Catch::Contains("ecdsa-with-SHA256"));
  CHECK(run("openssl verify -CAfile " + shell_quote(dir / "ca.crt") + " " +
            shell_quote(dir / "ca.crt"))
            .exit_code == 0);
  CertInfo info = inspect(ca.cert.get());
  CHECK(info.is_ca);
  CHECK(info.not_before <= now() - 4min);
}

TEST_CASE("server and peer leaves: serverAuth+clientAuth, CA:FALSE, SANs, AKI, verify", "[issue]") {
  test_support::TempDir dir;
  TestCa ca;
  write_pair(dir.path(), "ca", ca.cert.get(), nullptr);
  for (CertRole role : {CertRole::kServer, CertRole::kPeer}) {
    DYNAMIC_SECTION(cert_role_name(role)) {
      TestLeaf leaf = issue(ca, role, node_sans());
      write_pair(dir.path(), "leaf", leaf.cert.get(), leaf.key.get());
      std::string text = x509_text(dir / "leaf.crt");
      CHECK_THAT(text, Catch::Contains("CA:FALSE"));
      CHECK_THAT(text,
                 Catch::Contains("TLS Web Server Authentication, TLS Web Client Authentication"));
      CHECK_THAT(text, Catch::Contains("Digital Signature"));
      CHECK_THAT(text, !Catch::Contains("Key Encipherment"));
      // openssl prints IPv6 SANs uncompressed.
      CHECK_THAT(text,
                 Catch::Contains("DNS:h1, DNS:localhost, IP Address:10.213.0.11, IP Address:"));
      CHECK_THAT(text, Catch::Contains("127.0.0.1, IP Address:0:0:0:0:0:0:0:1, "
                                       "IP Address:FD00:0:0:0:0:0:0:11"));
      CHECK_THAT(text, Catch::Contains("X509v3 Authority Key Identifier"));
      CHECK_THAT(text, Catch::Contains("Subject: CN = h1"));
      auto verify = run("openssl verify -CAfile " + shell_quote(dir / "ca.crt") + " " +
                        shell_quote(dir / "leaf.crt"));
      INFO(verify.output);
      CHECK(verify.exit_code == 0);
      CHECK(run("openssl verify -purpose sslserver -CAfile " + shell_quote(dir / "ca.crt") + " " +
                shell_quote(dir / "leaf.crt"))
                .exit_code == 0);
    }
  }
}

TEST_CASE("client leaves: clientAuth only, so they cannot serve", "[issue]") {
  test_support::TempDir dir;
  TestCa ca;
  write_pair(dir.path(), "ca", ca.cert.get(), nullptr);
  TestLeaf leaf = issue(ca, CertRole::kClient, {}, "admin");
  write_pair(dir.path(), "admin", leaf.cert.get(), leaf.key.get());
  std::string text = x509_text(dir / "admin.crt");
  CHECK_THAT(text, Catch::Contains("TLS Web Client Authentication"));
  CHECK_THAT(text, !Catch::Contains("TLS Web Server Authentication"));
  std::string ca_file = shell_quote(dir / "ca.crt"), crt = shell_quote(dir / "admin.crt");
  CHECK(run("openssl verify -purpose sslclient -CAfile " + ca_file + " " + crt).exit_code == 0);
  CHECK(run("openssl verify -purpose sslserver -CAfile " + ca_file + " " + crt).exit_code != 0);
}

TEST_CASE("serials are random, positive and 128 bits", "[issue]") {
  TestCa ca;
  TestLeaf a = issue(ca, CertRole::kServer, node_sans());
  TestLeaf b = issue(ca, CertRole::kServer, node_sans());
  std::string sa = inspect(a.cert.get()).serial_hex, sb = inspect(b.cert.get()).serial_hex;
  CHECK(sa != sb);
  CHECK(sa.size() == 32);  // 16 bytes, top bit clear but the byte is non-zero
  CHECK(sa[0] != '-');
}

TEST_CASE("RSA leaves add keyEncipherment, Ed25519 signs without a digest", "[issue]") {
  test_support::TempDir dir;
  SECTION("rsa-2048 leaf under an ECDSA CA") {
    TestCa ca;
    TestLeaf leaf = issue(ca, CertRole::kServer, node_sans(), "h1", now() - 5min, now() + 24h,
                          KeyType::kRsa2048);
    write_pair(dir.path(), "leaf", leaf.cert.get(), leaf.key.get());
    CHECK_THAT(x509_text(dir / "leaf.crt"), Catch::Contains("Digital Signature, Key Encipherment"));
  }
  SECTION("ed25519 CA and leaf") {
    TestCa ca(KeyType::kEd25519);
    TestLeaf leaf =
        issue(ca, CertRole::kPeer, node_sans(), "h1", now() - 5min, now() + 24h, KeyType::kEd25519);
    write_pair(dir.path(), "ca", ca.cert.get(), nullptr);
    write_pair(dir.path(), "leaf", leaf.cert.get(), leaf.key.get());
    CHECK_THAT(x509_text(dir / "leaf.crt"), Catch::Contains("Signature Algorithm: ED25519"));
    CHECK(run("openssl verify -CAfile " + shell_quote(dir / "ca.crt") + " " +
              shell_quote(dir / "leaf.crt"))
              .exit_code == 0);
  }
}

TEST_CASE("validity that ends before it begins is refused", "[issue]") {
  TestCa ca;
  auto key = generate_key(KeyType::kEcdsaP256).value();
  LeafSpec spec{"h1", "", {}, CertRole::kServer, now(), now() - 1h};
  auto r = issue_leaf(spec, key.get(), ca.cert.get(), ca.key.get());
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("validity"));
}
