#include "provision/inventory.h"

#include <catch2/catch.hpp>

#include "certs/file_io.h"
#include "tests/support/test_support.h"

using namespace provision;

namespace {

const char* kMinimal = R"(cluster: {name: demo}
nodes:
  - {name: h1, address: 10.0.0.1}
)";

std::string error_of(const std::string& yaml) {
  auto r = parse_inventory(yaml, "/work/inv.yaml");
  REQUIRE_FALSE(r.ok());
  return r.error().message;
}

}  // namespace

TEST_CASE("a minimal inventory gets every default", "[inventory]") {
  auto inv = parse_inventory(kMinimal, "/work/inv.yaml");
  REQUIRE(inv.ok());
  CHECK(inv->cluster.name == "demo");
  CHECK(inv->cluster.token.empty());
  CHECK(inv->pki.dir == "/work/pki");
  CHECK(inv->pki.key_type == certs::KeyType::kEcdsaP256);
  CHECK(inv->pki.ca_validity == std::chrono::hours(24 * 3650));
  CHECK(inv->pki.cert_validity == std::chrono::hours(24 * 365));
  CHECK(inv->pki.renew_before == std::chrono::hours(24 * 90));
  REQUIRE(inv->nodes.size() == 1);
  const NodeSpec& n = inv->nodes[0];
  CHECK(n.server.client_port == 2379);
  CHECK(n.server.peer_port == 2380);
  CHECK(n.server.data_dir == "/var/lib/kvserver");
  CHECK(n.server.unit == "kvserver.service");
  CHECK(n.ssh.user == "root");
  CHECK(n.ssh.port == 22);
  CHECK(n.position.line == 3);
  REQUIRE(inv->clients.size() == 2);
  CHECK(inv->clients[0].name == "admin");
  CHECK(inv->clients[1].name == "healthcheck");
}

TEST_CASE("the example inventory loads and documents every field", "[inventory]") {
  auto inv = load_inventory(std::string(PROJECT_SOURCE_DIR) + "/inventory.example.yaml");
  REQUIRE(inv.ok());
  CHECK(inv->nodes.size() == 3);
  CHECK(inv->nodes[2].ssh.port == 2222);  // per-node override
  CHECK(inv->nodes[0].ssh.port == 22);
  CHECK(inv->clients.size() == 3);
  CHECK(inv->clients[2].o == "system:masters");
  CHECK(inv->server.binary == std::string(PROJECT_SOURCE_DIR) + "/build/bin/kvserver");
}

TEST_CASE("per-node overrides and flavour defaults", "[inventory]") {
  auto inv = parse_inventory(R"(cluster: {name: demo, token: t1}
server: {flavor: etcd, binary: /usr/bin/etcd, client_port: 3379}
ssh: {user: deploy, sudo: true, identity_file: keys/id, connect_timeout: 3s}
nodes:
  - {name: h1, address: "fd00::0001", dns: [h1.lan], extra_sans: [10.1.1.1, lb.lan]}
  - name: h2
    address: 10.0.0.2
    ssh: {port: 2200}
    server: {peer_port: 3380, data_dir: /srv/etcd}
)",
                             "/etc/cl/inv.yaml");
  REQUIRE(inv.ok());
  const NodeSpec &h1 = inv->nodes[0], &h2 = inv->nodes[1];
  CHECK(h1.address == "fd00::1");
  CHECK(h1.extra_sans == std::vector<std::string>{"10.1.1.1", "lb.lan"});
  CHECK(h1.server.unit == "etcd.service");
  CHECK(h1.server.data_dir == "/var/lib/etcd");
  CHECK(h1.server.client_port == 3379);
  CHECK(h1.ssh.user == "deploy");
  CHECK(h1.ssh.sudo);
  CHECK(h1.ssh.identity_file == "/etc/cl/keys/id");
  CHECK(h1.ssh.connect_timeout == std::chrono::seconds(3));
  CHECK(h2.ssh.port == 2200);
  CHECK(h2.ssh.user == "deploy");
  CHECK(h2.server.peer_port == 3380);
  CHECK(h2.server.client_port == 3379);
  CHECK(h2.server.data_dir == "/srv/etcd");
}

TEST_CASE("malformed YAML names line and column", "[inventory][bad-input]") {
  CHECK_THAT(error_of("cluster: {name: x\nnodes: ["),
             Catch::StartsWith("/work/inv.yaml:2:") && Catch::Contains("not valid YAML"));
  CHECK_THAT(error_of(""), Catch::Contains("empty"));
  CHECK_THAT(error_of("- a\n- b\n"), Catch::Contains("mapping"));
}

TEST_CASE("unknown keys suggest the nearest known one", "[inventory][bad-input]") {
  CHECK_THAT(error_of("cluster: {name: x}\nnodes: [{name: a, adress: 10.0.0.1}]\n"),
             Catch::Contains("/work/inv.yaml:2:") &&
                 Catch::Contains("unknown key 'adress' in nodes[0]; did you mean 'address'?"));
  CHECK_THAT(error_of("cluster: {name: x}\nnode: []\n"), Catch::Contains("did you mean 'nodes'?"));
  CHECK_THAT(error_of(std::string(kMinimal) + "pki: {renew: 30d}\n"),
             Catch::Contains("unknown key 'renew' in pki"));
}

TEST_CASE("missing required fields are named", "[inventory][bad-input]") {
  CHECK_THAT(error_of("nodes: [{name: a, address: 10.0.0.1}]\n"),
             Catch::Contains("missing required section 'cluster'"));
  CHECK_THAT(error_of("cluster: {token: t}\nnodes: [{name: a, address: 10.0.0.1}]\n"),
             Catch::Contains("cluster.name is required"));
  CHECK_THAT(error_of("cluster: {name: x}\n"), Catch::Contains("missing required section 'nodes'"));
  CHECK_THAT(error_of("cluster: {name: x}\nnodes: [{address: 10.0.0.1}]\n"),
             Catch::Contains("nodes[0].name is required"));
  CHECK_THAT(error_of("cluster: {name: x}\nnodes: [{name: a}]\n"),
             Catch::Contains("/work/inv.yaml:2:9: node a: address is required"));
}

TEST_CASE("duplicate node names or addresses, and invalid IPs", "[inventory][bad-input]") {
  std::string dup_name =
      "cluster: {name: x}\nnodes:\n  - {name: a, address: 10.0.0.1}\n"
      "  - {name: a, address: 10.0.0.2}\n";
  CHECK_THAT(error_of(dup_name),
             Catch::Contains("/work/inv.yaml:4:") && Catch::Contains("node name 'a' is used twice "
                                                                     "(also on line 3)"));
  std::string dup_addr =
      "cluster: {name: x}\nnodes:\n  - {name: a, address: 10.0.0.1}\n"
      "  - {name: b, address: 10.0.0.01}\n";
  CHECK_THAT(error_of(dup_addr), Catch::Contains("node b: address"));
  std::string v6_dup =
      "cluster: {name: x}\nnodes:\n  - {name: a, address: 'fd00::1'}\n"
      "  - {name: b, address: 'fd00:0::0:1'}\n";
  CHECK_THAT(error_of(v6_dup), Catch::Contains("address fd00::1 is used twice"));
  CHECK_THAT(error_of("cluster: {name: x}\nnodes: [{name: a, address: 10.0.0.256}]\n"),
             Catch::Contains("'10.0.0.256' is not an IPv4 or IPv6 address"));
  CHECK_THAT(error_of("cluster: {name: x}\nnodes: [{name: a, address: h1.lan}]\n"),
             Catch::Contains("'h1.lan' is not an IPv4 or IPv6 address"));
  CHECK_THAT(
      error_of("cluster: {name: x}\nnodes: [{name: a, address: 10.0.0.1, dns: [10.0.0.9]}]\n"),
      Catch::Contains("is not a valid DNS name"));
  CHECK_THAT(error_of("cluster: {name: x}\nnodes: [{name: 'a/b', address: 10.0.0.1}]\n"),
             Catch::Contains("names files"));
}

TEST_CASE("unsupported key types and durations", "[inventory][bad-input]") {
  CHECK_THAT(error_of(std::string(kMinimal) + "pki: {key_type: rsa-1024}\n"),
             Catch::Contains("/work/inv.yaml:4:17: pki.key_type: unsupported key type 'rsa-1024'"));
  CHECK_THAT(error_of(std::string(kMinimal) + "pki: {cert_validity: 1 year}\n"),
             Catch::Contains("pki.cert_validity: '1 year' is not a duration"));
  CHECK_THAT(
      error_of(std::string(kMinimal) + "pki: {cert_validity: 30d}\n"),
      Catch::Contains("pki.renew_before (90d) must be shorter than pki.cert_validity (30d)"));
  CHECK_THAT(error_of(std::string(kMinimal) + "pki: {cert_validity: 20y}\n"),
             Catch::Contains("leaves cannot outlive their CA"));
}

TEST_CASE("every problem is reported, one line each", "[inventory][bad-input]") {
  std::string msg = error_of(
      "cluster: {name: Bad}\npki: {key_type: dsa}\n"
      "nodes: [{name: a, address: x}, {name: a, address: 10.0.0.1, "
      "server: {client_port: 99999}}]\n");
  CHECK(std::count(msg.begin(), msg.end(), '\n') == 4);  // five lines
}

TEST_CASE("a missing inventory file says which flag to check", "[inventory][bad-input]") {
  test_support::TempDir dir;
  auto r = load_inventory(dir / "nope.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("nope.yaml") && Catch::Contains("-i/--inventory"));
}
