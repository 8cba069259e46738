#include "provision/render.h"

#include <catch2/catch.hpp>

#include "certs/file_io.h"
#include "tests/support/test_support.h"

using namespace provision;
using test_support::run;
using test_support::shell_quote;

namespace {

Inventory three_nodes(const std::string& server) {
  std::string yaml = "cluster: {name: demo}\nserver: " + server +
                     "\nnodes:\n  - {name: h1, address: 10.0.0.1}\n"
                     "  - {name: h2, address: 10.0.0.2}\n  - {name: h3, address: 'fd00::3'}\n";
  auto inv = parse_inventory(yaml, "/tmp/inv.yaml");
  REQUIRE(inv.ok());
  return std::move(*inv);
}

}  // namespace

TEST_CASE("templates: every placeholder needs a value", "[render]") {
  CHECK(render_template("a={{x}} b={{y}}", {{"x", "1"}, {"y", "2"}}, "t").value() == "a=1 b=2");
  auto missing = render_template("--name={{name}}", {}, "templates/x.in");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "templates/x.in: no value for {{name}}");
  CHECK_FALSE(render_template("{{open", {}, "t").ok());
}

TEST_CASE("kvserver unit: etcd flag names, mTLS on both ports, the whole cluster", "[render]") {
  Inventory inv = three_nodes("{extra_flags: ['--snapshot-count=5000']}");
  std::string unit = render_unit(inv, inv.nodes[0], "demo-abc", ClusterState::kNew).value();
  for (const char* want : {"Type=notify",
                           "Restart=on-failure",
                           "RestartSec=5",
                           "LimitNOFILE=40000",
                           "After=network-online.target",
                           "Wants=network-online.target",
                           "ExecStart=/usr/local/bin/kvserver \\\n  --name=h1 \\\n",
                           "--data-dir=/var/lib/kvserver",
                           "--listen-client-urls=https://10.0.0.1:2379,https://127.0.0.1:2379",
                           "--advertise-client-urls=https://10.0.0.1:2379",
                           "--listen-peer-urls=https://10.0.0.1:2380",
                           "--initial-cluster=h1=https://10.0.0.1:2380,h2=https://"
                           "10.0.0.2:2380,h3=https://[fd00::3]:2380",
                           "--initial-cluster-state=new",
                           "--initial-cluster-token=demo-abc",
                           "--cert-file=/etc/kvserver/server.crt",
                           "--trusted-ca-file=/etc/kvserver/ca.crt",
                           "--client-cert-auth",
                           "--peer-cert-file=/etc/kvserver/peer.crt",
                           "--peer-client-cert-auth",
                           "--heartbeat-interval=100",
                           "--election-timeout=1000 \\\n  --snapshot-count=5000\n",
                           "TimeoutStartSec=0",
                           "WantedBy=multi-user.target"}) {
    CHECK_THAT(unit, Catch::Contains(want));
  }
  std::string v6 = render_unit(inv, inv.nodes[2], "t", ClusterState::kExisting).value();
  CHECK_THAT(v6, Catch::Contains("--listen-client-urls=https://[fd00::3]:2379,https://[::1]:2379"));
  CHECK_THAT(v6, Catch::Contains("--initial-cluster-state=existing"));
  CHECK_THAT(v6, Catch::Contains("TimeoutStartSec=120"));
  // Same inputs, same bytes: `up` relies on it to leave unchanged nodes alone.
  CHECK(render_unit(inv, inv.nodes[0], "demo-abc", ClusterState::kNew).value() == unit);
}

TEST_CASE("etcd unit: Debian's etcd with the same PKI", "[render]") {
  Inventory inv = three_nodes("{flavor: etcd, binary: /usr/bin/etcd}");
  std::string unit = render_unit(inv, inv.nodes[1], "t", ClusterState::kNew).value();
  CHECK_THAT(unit, Catch::Contains("ExecStart=/usr/local/bin/etcd \\\n  --name=h2"));
  CHECK_THAT(unit, Catch::Contains("--data-dir=/var/lib/etcd"));
  CHECK_THAT(unit, Catch::Contains("--cert-file=/etc/etcd/server.crt"));
  CHECK_THAT(unit, Catch::Contains("--strict-reconfig-check"));
}

TEST_CASE("rendered units pass systemd-analyze verify with an empty stderr", "[render][systemd]") {
  test_support::TempDir dir;
  // verify needs the ExecStart binary to exist: point bin_dir at real binaries on this machine.
  std::string bin = std::string(PROJECT_BINARY_DIR) + "/bin";
  for (auto [server, binary_dir] :
       {std::pair{"{bin_dir: " + bin + "}", bin},
        std::pair{std::string("{flavor: etcd, bin_dir: /usr/bin}"), std::string("/usr/bin")}}) {
    Inventory inv = three_nodes(server);
    for (const auto& node : inv.nodes) {
      std::string path = dir / node.server.unit;
      REQUIRE(
          certs::atomic_write(path, render_unit(inv, node, "t", ClusterState::kNew).value(), 0644));
      auto r = run("systemd-analyze verify --man=no " + shell_quote(path) + " 2>&1 >/dev/null");
      INFO(node.name << " " << path << ": " << r.output);
      CHECK(r.exit_code == 0);
      CHECK(r.output.empty());
    }
  }
}
