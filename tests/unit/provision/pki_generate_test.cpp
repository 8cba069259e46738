#include "provision/pki_generate.h"

#include <sys/stat.h>

#include "certs/inspect.h"
#include "certs/key.h"
#include "certs/pem.h"
#include "tests/unit/provision/pki_fixture.h"

using namespace provision;
using namespace pki_test;
using test_support::run;
using test_support::shell_quote;

namespace {

std::string read(const std::string& path) {
  return certs::read_file(path).value();
}

certs::CertInfo info_of(const std::string& path) {
  return certs::inspect(certs::certificate_from_pem(read(path), path).value().get());
}

mode_t mode_of(const std::string& path) {
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Every file under pki with its content, to prove a failed run wrote nothing.
std::map<std::string, std::string> snapshot(const Workspace& ws) {
  std::map<std::string, std::string> out;
  for (auto& e : std::filesystem::recursive_directory_iterator(ws.dir / "pki")) {
    if (e.is_regular_file()) out[e.path().string()] = read(e.path().string());
  }
  return out;
}

}  // namespace

TEST_CASE("first run creates the CA, node and client certs that openssl accepts", "[generate]") {
  Workspace ws;
  Inventory inv = ws.inventory(2);
  auto out = generate(inv);
  CHECK(out.size() == 2 + 2 * 4 + 2 * 2 + 1);  // CA pair, 2 nodes x 2 pairs, 2 clients, token
  for (const auto& [path, action] : out)
    CHECK(action == "created");

  CHECK(mode_of(ws.pki("ca.key")) == 0600);
  CHECK(mode_of(ws.pki("ca.crt")) == 0644);
  CHECK(mode_of(ws.pki("h1/server.key")) == 0600);
  CHECK(mode_of(ws.pki("h1")) == 0700);
  CHECK(mode_of(ws.pki("")) == 0700);
  CHECK(mode_of(ws.pki("cluster-token")) == 0600);
  CHECK_THAT(read(ws.pki("cluster-token")), Catch::StartsWith("demo-"));

  for (const char* leaf :
       {"h1/server", "h1/peer", "h2/server", "h2/peer", "clients/admin", "clients/healthcheck"}) {
    auto v = run("openssl verify -CAfile " + shell_quote(ws.pki("ca.crt")) + " " +
                 shell_quote(ws.pki(std::string(leaf) + ".crt")));
    INFO(leaf << ": " << v.output);
    CHECK(v.exit_code == 0);
  }
  auto server = run("openssl x509 -noout -ext subjectAltName,extendedKeyUsage -in " +
                    shell_quote(ws.pki("h1/server.crt")));
  CHECK_THAT(server.output, Catch::Contains("DNS:h1, DNS:localhost, IP Address:10.0.0.1, IP "
                                            "Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"));
  CHECK_THAT(server.output, Catch::Contains("TLS Web Server Authentication, TLS Web Client "
                                            "Authentication"));
  auto peer =
      run("openssl x509 -noout -ext subjectAltName -in " + shell_quote(ws.pki("h1/peer.crt")));
  CHECK_THAT(peer.output, Catch::Contains("DNS:h1, IP Address:10.0.0.1"));
  CHECK_THAT(peer.output, !Catch::Contains("127.0.0.1"));
  CHECK(info_of(ws.pki("clients/admin.crt")).subject == "CN=admin");
  CHECK_FALSE(info_of(ws.pki("clients/admin.crt")).server_auth);
}

TEST_CASE("a second run keeps every file byte for byte", "[generate][idempotent]") {
  Workspace ws;
  Inventory inv = ws.inventory(3);
  generate(inv);
  auto before = snapshot(ws);
  auto out = generate(inv);
  for (const auto& [path, action] : out)
    CHECK(action == "kept");
  CHECK(snapshot(ws) == before);
}

TEST_CASE("changing a node's SANs re-issues exactly that node's certs", "[generate]") {
  Workspace ws;
  generate(ws.inventory(2));
  auto h2_before = read(ws.pki("h2/server.crt"));
  auto out = generate(ws.inventory(2, "", "[10.9.9.9, lb.example]"));
  CHECK(out["h1/server.crt"] ==
        "reissued (SANs differ: missing DNS:lb.example, missing IP:10.9.9.9)");
  CHECK(out["h1/peer.crt"] ==
        "reissued (SANs differ: missing DNS:lb.example, missing IP:10.9.9.9)");
  CHECK(out["h2/server.crt"] == "kept");
  CHECK(out["ca.crt"] == "kept");
  CHECK(read(ws.pki("h2/server.crt")) == h2_before);
  CHECK(info_of(ws.pki("h1/peer.crt")).sans.ips ==
        std::vector<std::string>{"10.0.0.1", "10.9.9.9"});
}

TEST_CASE("leaves that are broken in any way are re-issued with the reason", "[generate]") {
  Workspace ws;
  Inventory inv = ws.inventory(2);
  // One clock for issue and check: a second that ticks between two now() calls would leave
  // 64d 23h 59m 59s, shown as "64d".
  const auto issued = now();
  generate(inv, issued);
  SECTION("key missing") {
    std::filesystem::remove(ws.pki("h1/server.key"));
    CHECK(generate(inv)["h1/server.key"] == "reissued (key missing)");
  }
  SECTION("key from another pair") {
    std::filesystem::copy_file(ws.pki("h2/server.key"), ws.pki("h1/server.key"),
                               std::filesystem::copy_options::overwrite_existing);
    CHECK(generate(inv)["h1/server.crt"] == "reissued (key does not match certificate)");
    CHECK(certs::key_matches_cert(
        certs::private_key_from_pem(read(ws.pki("h1/server.key")), "k").value().get(),
        certs::certificate_from_pem(read(ws.pki("h1/server.crt")), "c").value().get()));
  }
  SECTION("truncated certificate") {
    std::string pem = read(ws.pki("h2/peer.crt"));
    REQUIRE(certs::atomic_write(ws.pki("h2/peer.crt"), pem.substr(0, pem.size() / 2), 0644));
    CHECK_THAT(generate(inv)["h2/peer.crt"],
               Catch::StartsWith("reissued (") && Catch::Contains("h2/peer.crt"));
  }
  SECTION("signed by another CA") {
    Workspace other;
    generate(other.inventory(2));
    std::filesystem::copy_file(other.pki("h1/peer.crt"), ws.pki("h1/peer.crt"),
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(other.pki("h1/peer.key"), ws.pki("h1/peer.key"),
                               std::filesystem::copy_options::overwrite_existing);
    CHECK(generate(inv)["h1/peer.crt"] == "reissued (not signed by the current CA)");
  }
  SECTION("inside renew_before: leaves renewed, the CA kept") {
    auto out = generate(inv, issued + 24h * 300);
    CHECK(out["ca.crt"] == "kept");
    CHECK_THAT(out["h1/server.crt"], Catch::StartsWith("reissued (expires in 65d") &&
                                         Catch::Contains("inside renew_before 90d"));
    CHECK_THAT(out["clients/admin.crt"], Catch::StartsWith("reissued (expires in"));
  }
  SECTION("expired") {
    CHECK(generate(inv, issued + 24h * 400)["h2/server.crt"] == "reissued (expired)");
  }
  SECTION("key type changed in the inventory") {
    Inventory rsa = ws.inventory(2, "pki: {key_type: ed25519}\n");
    CHECK(generate(rsa)["h1/server.crt"] == "reissued (key type is not pki.key_type ed25519)");
    CHECK(generate(rsa)["h1/server.crt"] == "kept");
  }
}

TEST_CASE("CA problems stop the run before anything is written", "[generate][bad-input]") {
  Workspace ws;
  Inventory inv = ws.inventory(2);
  generate(inv);
  std::filesystem::remove(ws.pki("h2/server.crt"));  // something a successful run would write

  SECTION("a CA key that does not match the CA cert") {
    auto other = certs::generate_key(certs::KeyType::kEcdsaP256).value();
    REQUIRE(certs::atomic_write(ws.pki("ca.key"), certs::private_key_to_pem(other.get()), 0600));
    auto before = snapshot(ws);
    auto r = generate_pki(inv, {false, now()});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("ca.key does not belong to any certificate in") &&
                                      Catch::Contains("--new-ca"));
    CHECK(snapshot(ws) == before);
  }
  SECTION("a corrupt CA certificate") {
    REQUIRE(certs::atomic_write(ws.pki("ca.crt"), "-----BEGIN CERTIFICATE-----\nAAAA\n", 0644));
    auto before = snapshot(ws);
    auto r = generate_pki(inv, {false, now()});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("ca.crt"));
    CHECK(snapshot(ws) == before);
  }
  SECTION("a missing CA key") {
    std::filesystem::remove(ws.pki("ca.key"));
    auto before = snapshot(ws);
    auto r = generate_pki(inv, {false, now()});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("ca.key is missing") &&
                                      Catch::Contains("never leaves this workstation"));
    CHECK(snapshot(ws) == before);
  }
}

TEST_CASE("an unwritable pki.dir is refused with the field to change", "[generate][bad-input]") {
  Workspace ws;
  REQUIRE(certs::atomic_write(ws.dir / "afile", "x", 0644));
  Inventory inv = ws.inventory(1, "pki: {dir: afile/pki}\n");
  auto r = generate_pki(inv, {false, now()});
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("afile/pki") && Catch::Contains("pki.dir"));
}

TEST_CASE("new CA (--new-ca) is started, the old one kept aside, every leaf re-issued",
          "[generate]") {
  Workspace ws;
  Inventory inv = ws.inventory(1);
  generate(inv);
  std::string old_ca = read(ws.pki("ca.crt"));
  auto out = generate(inv, now(), true);
  CHECK(out["ca.crt"] == "reissued (--new-ca)");
  CHECK(out["h1/server.crt"] == "reissued (not signed by the current CA)");
  CHECK(read(ws.pki("ca.crt.previous")) == old_ca);
  CHECK(mode_of(ws.pki("ca.key.previous")) == 0600);
  CHECK(run("openssl verify -CAfile " + shell_quote(ws.pki("ca.crt")) + " " +
            shell_quote(ws.pki("h1/server.crt")))
            .exit_code == 0);
}

TEST_CASE("the cluster token is generated once, or taken from the inventory", "[generate]") {
  Workspace ws;
  Inventory inv = ws.inventory(1);
  generate(inv);
  std::string token = cluster_token(inv, nullptr).value();
  CHECK(token.size() == std::string("demo-").size() + 16);
  generate(inv);
  CHECK(cluster_token(inv, nullptr).value() == token);
  Workspace other;
  Inventory inv2 = other.inventory(1);
  generate(inv2);
  CHECK(cluster_token(inv2, nullptr).value() != token);  // unique per cluster
  Inventory fixed = ws.inventory(1);
  fixed.cluster.token = "given";
  CHECK(cluster_token(fixed, nullptr).value() == "given");
}
