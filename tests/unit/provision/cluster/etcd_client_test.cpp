// The client against the real thing: etcd 3.4 (Debian's etcd-server) started by the test on
// loopback, with certificates made by generate_pki - the same files `provision up` deploys.
#include "provision/cluster/etcd_client.h"

#include <catch2/catch.hpp>

#include "certs/file_io.h"
#include "provision/cluster/prober.h"
#include "provision/pki_generate.h"
#include "tests/support/test_support.h"

using namespace provision;
using namespace provision::cluster;
using Clock = std::chrono::steady_clock;

namespace {

Inventory loopback_inventory(const std::string& dir, int client_port, int peer_port) {
  const std::string yaml = "cluster: {name: t, token: t-1}\npki: {dir: " + dir +
                           "/pki}\nserver: {flavor: etcd, binary: /usr/bin/etcd, client_port: " +
                           std::to_string(client_port) +
                           ", peer_port: " + std::to_string(peer_port) +
                           "}\nnodes:\n  - {name: h1, address: 127.0.0.1}\n";
  auto inv = parse_inventory(yaml, dir + "/inv.yaml");
  REQUIRE(inv.ok());
  GenerateOptions g;
  g.now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  REQUIRE(generate_pki(*inv, g).ok());
  return std::move(*inv);
}

struct LoopbackEtcd {
  test_support::TempDir dir;
  int client_port = test_support::free_tcp_port();
  int peer_port = test_support::free_tcp_port();
  Inventory inv = loopback_inventory(dir.path(), client_port, peer_port);
  std::string client_url = "https://127.0.0.1:" + std::to_string(client_port);
  std::unique_ptr<test_support::BackgroundProcess> etcd;

  explicit LoopbackEtcd(bool start_now = true) {
    if (start_now) start();
  }

  void start() {
    const std::string pki = dir / "pki";
    const std::string peer_url = "https://127.0.0.1:" + std::to_string(peer_port);
    etcd = std::make_unique<test_support::BackgroundProcess>(
        std::vector<std::string>{
            "/usr/bin/etcd", "--name=h1", "--data-dir=" + dir / "data",
            "--listen-client-urls=" + client_url, "--advertise-client-urls=" + client_url,
            "--listen-peer-urls=" + peer_url, "--initial-advertise-peer-urls=" + peer_url,
            "--initial-cluster=h1=" + peer_url, "--initial-cluster-token=t-1",
            "--cert-file=" + pki + "/h1/server.crt", "--key-file=" + pki + "/h1/server.key",
            "--trusted-ca-file=" + pki + "/ca.crt", "--client-cert-auth",
            "--peer-cert-file=" + pki + "/h1/peer.crt", "--peer-key-file=" + pki + "/h1/peer.key",
            "--peer-trusted-ca-file=" + pki + "/ca.crt", "--peer-client-cert-auth", "--logger=zap"},
        dir / "etcd.log");
  }
};

}  // namespace

TEST_CASE("etcd client: health, status and member list of a real etcd over mTLS", "[etcd]") {
  LoopbackEtcd e;
  auto tls = healthcheck_tls(e.inv);
  REQUIRE(tls.ok());
  auto prober = ClusterProber::open(inventory_endpoints(e.inv), *tls);
  REQUIRE(prober.ok());
  ClusterReport report =
      prober->wait_healthy(Clock::now() + std::chrono::seconds(30), std::chrono::seconds(2));
  INFO(certs::read_file(e.dir / "etcd.log").value());
  Verdict v = evaluate(report);
  REQUIRE(v.ok);
  REQUIRE(report.endpoints.size() == 1);
  const EndpointReport& r = report.endpoints[0];
  CHECK(r.endpoint == e.client_url);
  REQUIRE(r.status.has_value());
  CHECK(r.status->version.rfind("3.4.", 0) == 0);
  CHECK(r.status->member_id != 0);
  CHECK(r.status->leader == r.status->member_id);
  CHECK(r.status->raft_term >= 2);
  CHECK(r.status->db_size > 0);
  REQUIRE(report.members.size() == 1);
  CHECK(report.members[0].name == "h1");
  CHECK(report.members[0].id == r.status->member_id);
  CHECK(report.members[0].client_urls == std::vector<std::string>{e.client_url});
  // The table shows what etcdctl would.
  const std::string table = render_health_table(report);
  CHECK_THAT(table, Catch::Contains(format_member_id(r.status->member_id)));
  CHECK_THAT(table, Catch::Contains("h1"));
}

TEST_CASE("etcd client: a client certificate from another CA is refused", "[etcd]") {
  LoopbackEtcd e;
  test_support::TempDir other;
  Inventory stranger = loopback_inventory(other.path(), e.client_port, e.peer_port);
  // The stranger trusts our server (our CA) but presents its own client certificate.
  auto good = healthcheck_tls(e.inv);
  auto bad = healthcheck_tls(stranger);
  REQUIRE(good.ok());
  REQUIRE(bad.ok());
  TlsMaterial mixed = *good;
  mixed.cert_pem = bad->cert_pem;
  mixed.key_pem = bad->key_pem;
  auto ok_client = EtcdClient::open(e.client_url, *good);
  auto bad_client = EtcdClient::open(e.client_url, mixed);
  REQUIRE(ok_client.ok());
  REQUIRE(bad_client.ok());
  // Wait until etcd serves at all, so the refusal below is about the certificate.
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  certs::Status h = (*ok_client)->health(std::chrono::seconds(2));
  while (!h.ok() && Clock::now() < deadline)
    h = (*ok_client)->health(std::chrono::seconds(2));
  REQUIRE(h.ok());
  certs::Status refused = (*bad_client)->health(std::chrono::seconds(3));
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::StartsWith(e.client_url + ": health check"));
}

TEST_CASE("etcd client: nobody listening is an error naming the endpoint, quickly", "[etcd]") {
  test_support::TempDir dir;
  Inventory inv = loopback_inventory(dir.path(), test_support::free_tcp_port(), 1);
  auto tls = healthcheck_tls(inv);
  REQUIRE(tls.ok());
  const std::string url = "https://127.0.0.1:" + std::to_string(inv.nodes[0].server.client_port);
  auto c = EtcdClient::open(url, *tls);
  REQUIRE(c.ok());
  const auto start = Clock::now();
  auto st = (*c)->status(std::chrono::seconds(2));
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error().message, Catch::StartsWith(url + ": Maintenance.Status failed"));
  // The call waited for a connection; the error still says why there was none.
  CHECK_THAT(st.error().message, Catch::Contains("Connection refused"));
  CHECK(Clock::now() - start < std::chrono::seconds(3));
}

// The bring-up race `provision up` always runs: verify starts polling before the members listen,
// so the first attempts are refused and the channel sits in TRANSIENT_FAILURE. With fail-fast calls
// gRPC 1.51 then drove the reconnect's handshake only from its 5 s backup poller, and a member
// that was up answered only after 20 s or more. Now the next call must get through at once.
TEST_CASE("etcd client: a member that refused the first attempts is reached once it listens",
          "[etcd]") {
  LoopbackEtcd e(/*start_now=*/false);
  auto tls = healthcheck_tls(e.inv);
  REQUIRE(tls.ok());
  auto c = EtcdClient::open(e.client_url, *tls);
  REQUIRE(c.ok());
  for (int i = 0; i < 3; ++i)
    REQUIRE_FALSE((*c)->status(std::chrono::milliseconds(200)).ok());
  e.start();
  REQUIRE(test_support::wait_for_tcp_port("127.0.0.1", e.client_port, std::chrono::seconds(30)));
  // etcd answers Status as soon as it listens; allow it a few polls, far below gRPC's 20 s
  // connect timeout that the stall ran into.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  auto st = (*c)->status(std::chrono::milliseconds(600));
  while (!st.ok() && Clock::now() < deadline)
    st = (*c)->status(std::chrono::milliseconds(600));
  INFO((st.ok() ? std::string() : st.error().message));
  CHECK(st.ok());
}

TEST_CASE("endpoint URLs: host and port for gRPC, bad ones refused", "[etcd]") {
  CHECK(grpc_target("https://10.0.0.1:2379").value() == "10.0.0.1:2379");
  CHECK(grpc_target("https://[fd00::1]:2379/").value() == "[fd00::1]:2379");
  CHECK_FALSE(grpc_target("http://10.0.0.1:2379").ok());
  CHECK_FALSE(grpc_target("https://10.0.0.1").ok());
  CHECK_FALSE(grpc_target("https://[fd00::1]").ok());
}
