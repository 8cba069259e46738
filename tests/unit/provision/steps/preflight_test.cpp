#include "provision/steps/preflight.h"

#include <catch2/catch.hpp>

#include "certs/file_io.h"
#include "provision/pki_generate.h"
#include "test_inputs.h"
#include "tests/support/test_support.h"

using namespace provision;
using namespace provision::steps;

namespace {

NodeFacts healthy_facts(double now) {
  NodeFacts f;
  f.systemd = true;
  f.node_time_s = now;
  return f;
}

Listener listener(int port, std::vector<std::string> procs) {
  Listener l;
  l.port = port;
  l.address = "0.0.0.0";
  l.processes = std::move(procs);
  return l;
}

}  // namespace

TEST_CASE("preflight: a ready node passes, and our own server on the ports is fine",
          "[preflight]") {
  Inventory inv = steps_test::inventory("  - {name: h1, address: 10.0.0.1}\n");
  NodeFacts f = healthy_facts(1000.0);
  f.listeners = {listener(2379, {"etcd"}), listener(2380, {"etcd"}), listener(22, {"sshd"})};
  CHECK(check_node(inv.nodes[0], f, 1000.2, 0.1).empty());
}

TEST_CASE("preflight: a foreign process on the peer port is named with the field to change",
          "[preflight]") {
  Inventory inv = steps_test::inventory("  - {name: h1, address: 10.0.0.1}\n");
  NodeFacts f = healthy_facts(1000.0);
  f.listeners = {listener(2380, {"python3"})};
  auto problems = check_node(inv.nodes[0], f, 1000.0, 0.1);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Catch::Contains("node h1 (10.0.0.1)"));
  CHECK_THAT(problems[0], Catch::Contains("port 2380 is already in use by `python3`"));
  CHECK_THAT(problems[0], Catch::Contains("server.peer_port"));
  f.listeners = {listener(2379, {})};  // ss could not name it: still not ours
  REQUIRE(check_node(inv.nodes[0], f, 1000.0, 0.1).size() == 1);
}

TEST_CASE("preflight: clock skew over 1 s and a missing systemd are refused", "[preflight]") {
  Inventory inv = steps_test::inventory("  - {name: h1, address: 10.0.0.1}\n");
  NodeFacts f = healthy_facts(1000.0);
  CHECK(check_node(inv.nodes[0], f, 1000.9, 0.0).empty());
  auto late = check_node(inv.nodes[0], f, 1002.5, 0.2);
  REQUIRE(late.size() == 1);
  CHECK_THAT(late[0], Catch::Contains("clock is -2.500 s off"));
  f.systemd = false;
  auto no_systemd = check_node(inv.nodes[0], f, 1000.0, 0.0);
  REQUIRE(no_systemd.size() == 1);
  CHECK_THAT(no_systemd[0], Catch::Contains("systemd is not running"));
}

TEST_CASE("preflight: a missing binary and a cert without the node's address are found locally",
          "[preflight]") {
  test_support::TempDir dir;
  const std::string base = "cluster: {name: demo}\npki: {dir: " + dir / "pki" +
                           "}\nserver: {flavor: etcd, binary: BIN}\nnodes:\n"
                           "  - {name: h1, address: ADDR}\n";
  auto make = [&](const std::string& bin, const std::string& addr) {
    std::string y = base;
    y.replace(y.find("BIN"), 3, bin);
    y.replace(y.find("ADDR"), 4, addr);
    auto inv = parse_inventory(y, dir / "inv.yaml");
    REQUIRE(inv.ok());
    return std::move(*inv);
  };
  Inventory missing = make(dir / "no-such-etcd", "10.0.0.1");
  auto p = check_local(missing);
  REQUIRE(p.size() == 1);
  CHECK_THAT(p[0], Catch::Contains("no-such-etcd does not exist"));

  // Certificates made for 10.0.0.1, then the inventory moves the node to 10.0.0.9.
  Inventory first = make("/bin/sh", "10.0.0.1");
  REQUIRE(check_local(first).empty());
  GenerateOptions g;
  g.now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  REQUIRE(generate_pki(first, g).ok());
  CHECK(check_local(first).empty());
  Inventory moved = make("/bin/sh", "10.0.0.9");
  auto sans = check_local(moved);
  REQUIRE(sans.size() == 2);  // server and peer
  CHECK_THAT(sans[0],
             Catch::Contains("h1/server.crt is not valid for the node's address 10.0.0.9"));
  CHECK_THAT(sans[0], Catch::Contains("provision certs generate"));
}
