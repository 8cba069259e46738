// The outside judge: the real etcdctl 3.4 (Debian's etcd-client) against the services in-process,
// over FakeNode (a test double for the consensus layer; tests/e2e/kvserver_etcdctl_test.sh points
// etcdctl at the real mTLS cluster). Plain http:// endpoints, as this test server is insecure.
// Expected outputs are built from what each test did (ids, revisions), never pasted from a run.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/test_support.h"
#include "tests/unit/kvserver/services/test_server.h"

using kvserver::services::testing::FakeNode;
using kvserver::services::testing::TestServer;
using test_support::CommandResult;
using test_support::shell_quote;

namespace {

std::string ctl_prefix(const TestServer& server) {
  return "etcdctl --endpoints=" + server.endpoint() + " --dial-timeout=5s --command-timeout=15s ";
}

CommandResult ctl(const TestServer& server, const std::string& args) {
  return test_support::run(ctl_prefix(server) + args + " 2>&1");
}

std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s : {18, 12, 6, 0})
      out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool eventually_contains(const std::string& path, const std::string& needle) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (read_file(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // poll interval, not a sync point
  }
  return false;
}

std::string header_json(int64_t revision) {
  return "\"header\":{\"cluster_id\":" + std::to_string(FakeNode::kClusterId) +
         ",\"member_id\":" + std::to_string(FakeNode::kMemberId) +
         ",\"revision\":" + std::to_string(revision) +
         ",\"raft_term\":" + std::to_string(FakeNode::kTerm) + "}";
}

}  // namespace

TEST_CASE("etcdctl put, get -w json field by field, get --prefix, del") {
  TestServer server;
  auto put = ctl(server, "put foo bar");
  INFO(put.output);
  REQUIRE(put.exit_code == 0);
  CHECK(put.output == "OK\n");
  REQUIRE(ctl(server, "put foo/a 1").exit_code == 0);
  REQUIRE(ctl(server, "put foo/b 2").exit_code == 0);

  auto get = ctl(server, "get foo -w json");
  INFO(get.output);
  REQUIRE(get.exit_code == 0);
  CHECK(get.output.find(header_json(4)) != std::string::npos);
  CHECK(get.output.find("\"kvs\":[{\"key\":\"" + base64("foo") +
                        "\",\"create_revision\":2,\"mod_revision\":2,\"version\":1,\"value\":\"" +
                        base64("bar") + "\"}]") != std::string::npos);
  CHECK(get.output.find("\"count\":1") != std::string::npos);

  auto prefix = ctl(server, "get foo/ --prefix");
  CHECK(prefix.output == "foo/a\n1\nfoo/b\n2\n");
  auto keys = ctl(server, "get foo --prefix --keys-only --limit=2");
  CHECK(keys.output == "foo\n\nfoo/a\n\n");
  auto serializable = ctl(server, "get foo --consistency=s --print-value-only");
  CHECK(serializable.output == "bar\n");

  auto del = ctl(server, "del foo/ --prefix --prev-kv");
  INFO(del.output);
  CHECK(del.output == "2\nfoo/a\n1\nfoo/b\n2\n");
  CHECK(ctl(server, "get foo/ --prefix").output.empty());
}

TEST_CASE("etcdctl txn takes the branch its compare chooses") {
  TestServer server;
  REQUIRE(ctl(server, "put k v1").exit_code == 0);
  std::string script = "value(\"k\") = \"v1\"\n\nput k v2\n\nput k other\n\n";
  auto txn = test_support::run("printf %s " + shell_quote(script) + " | " + ctl_prefix(server) +
                               "txn 2>&1");
  INFO(txn.output);
  REQUIRE(txn.exit_code == 0);
  CHECK(txn.output == "SUCCESS\n\nOK\n");
  auto again = test_support::run("printf %s " + shell_quote(script) + " | " + ctl_prefix(server) +
                                 "txn 2>&1");
  CHECK(again.output == "FAILURE\n\nOK\n");
  CHECK(ctl(server, "get k --print-value-only").output == "other\n");
}

TEST_CASE("etcdctl watch sees other clients' writes in order") {
  TestServer server;
  test_support::TempDir dir;
  REQUIRE(ctl(server, "put w/1 v1").exit_code == 0);  // revision 2
  // --rev=2 replays from history, so the watch's start cannot race with the writes below.
  test_support::BackgroundProcess watch(
      {"etcdctl", "--endpoints=" + server.endpoint(), "watch", "w/", "--prefix", "--rev=2"},
      dir / "watch.log");
  REQUIRE(ctl(server, "put w/2 v2").exit_code == 0);
  REQUIRE(ctl(server, "del w/1").exit_code == 0);
  CHECK(eventually_contains(dir / "watch.log", "PUT\nw/1\nv1\nPUT\nw/2\nv2\nDELETE\nw/1\n"));
}

TEST_CASE("etcdctl compaction, then compacted get and watch fail with etcd's text") {
  TestServer server;
  for (int i = 0; i < 4; ++i)
    REQUIRE(ctl(server, "put c " + std::to_string(i)).exit_code == 0);
  auto compact = ctl(server, "compaction --physical 4");
  INFO(compact.output);
  CHECK(compact.output == "compacted revision 4\n");
  auto get = ctl(server, "get c --rev=2");
  CHECK(get.exit_code != 0);
  CHECK(get.output.find("etcdserver: mvcc: required revision has been compacted") !=
        std::string::npos);
  auto watch = test_support::run("timeout 20 " + ctl_prefix(server) + "watch c --rev=2 2>&1");
  INFO(watch.output);
  CHECK(watch.output.find(
            "watch was canceled (etcdserver: mvcc: required revision has been compacted)") !=
        std::string::npos);
  CHECK(ctl(server, "get c --rev=4 --print-value-only").output == "2\n");
}

TEST_CASE("etcdctl lease grant, put --lease, timetolive, keep-alive, list, revoke") {
  TestServer server;
  auto grant = ctl(server, "lease grant 60");
  INFO(grant.output);
  std::smatch m;
  std::regex re("lease ([0-9a-f]+) granted with TTL\\(60s\\)\n");
  REQUIRE(std::regex_match(grant.output, m, re));
  std::string id = m[1];
  REQUIRE(ctl(server, "put --lease=" + id + " lk lv").exit_code == 0);
  auto ttl = ctl(server, "lease timetolive " + id + " --keys");
  INFO(ttl.output);
  CHECK(std::regex_match(ttl.output,
                         std::regex("lease " + id +
                                    " granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached "
                                    "keys\\(\\[lk\\]\\)\n")));
  auto ka = ctl(server, "lease keep-alive --once " + id);
  CHECK(ka.output == "lease " + id + " keepalived with TTL(60)\n");
  auto list = ctl(server, "lease list");
  CHECK(list.output == "found 1 leases\n" + id + "\n");
  auto revoke = ctl(server, "lease revoke " + id);
  CHECK(revoke.output == "lease " + id + " revoked\n");
  CHECK(ctl(server, "get lk").output.empty());
  auto gone = ctl(server, "lease timetolive " + id);
  CHECK(gone.output == "lease " + id + " already expired\n");
}

TEST_CASE("etcdctl snapshot save writes our framed image") {
  TestServer server;
  for (int i = 0; i < 50; ++i)
    REQUIRE(ctl(server, "put s/" + std::to_string(i) + " value-" + std::to_string(i)).exit_code ==
            0);
  test_support::TempDir dir;
  auto save = ctl(server, "snapshot save " + (dir / "db"));
  INFO(save.output);
  REQUIRE(save.exit_code == 0);
  CHECK(save.output.find("Snapshot saved at " + (dir / "db")) != std::string::npos);
  std::string file = read_file(dir / "db");
  CHECK(file.size() % 512 == 32);
  auto image = kvserver::services::unframe_snapshot(file);
  REQUIRE(image.ok());
  CHECK(image.value() == server.node().store().snapshot());
}

TEST_CASE("etcdctl endpoint status/health, member list, alarm list, defrag, --user") {
  TestServer server;
  REQUIRE(ctl(server, "put h 1").exit_code == 0);
  auto status = ctl(server, "endpoint status -w json");
  INFO(status.output);
  REQUIRE(status.exit_code == 0);
  auto s = server.node().status();
  CHECK(status.output.find("\"version\":\"3.4.0\"") != std::string::npos);
  CHECK(status.output.find("\"leader\":" + std::to_string(FakeNode::kMemberId)) !=
        std::string::npos);
  CHECK(status.output.find("\"raftTerm\":" + std::to_string(FakeNode::kTerm)) != std::string::npos);
  CHECK(status.output.find("\"raftIndex\":" + std::to_string(s.raft_index)) != std::string::npos);

  auto health = ctl(server, "endpoint health");
  INFO(health.output);
  CHECK(health.exit_code == 0);
  CHECK(health.output.find(server.endpoint() + " is healthy: successfully committed proposal") !=
        std::string::npos);

  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(FakeNode::kMemberId));
  auto members = ctl(server, "member list");
  INFO(members.output);
  CHECK(members.output == std::string(hex) + ", started, node-1, http://127.0.0.1:2380, , false\n");

  auto alarms = ctl(server, "alarm list");
  CHECK(alarms.exit_code == 0);
  CHECK(alarms.output.empty());
  auto defrag = ctl(server, "defrag");
  CHECK(defrag.exit_code == 0);
  CHECK(defrag.output.find("Finished defragmenting etcd member[" + server.endpoint() + "]") !=
        std::string::npos);
  // stdout only: clientv3 logs a warning about the refused Authenticate on stderr, then carries on.
  auto user = test_support::run(ctl_prefix(server) +
                                "--user=root:secret get h --print-value-only 2>/dev/null");
  INFO(user.output);
  CHECK(user.exit_code == 0);
  CHECK(user.output == "1\n");
}

// Hidden ([.]: not registered with CTest, it takes over a minute): run by hand with
//   build/tests/unit_kvserver_services "[perf]"
// etcdctl's own load test, with the FakeNode's synchronous apply standing in for Raft.
TEST_CASE("etcdctl check perf --load=s passes against the services", "[.][perf]") {
  TestServer server;
  auto perf = test_support::run("timeout 180 " + ctl_prefix(server) + "check perf --load=s 2>&1");
  INFO(perf.output);
  CHECK(perf.exit_code == 0);
  CHECK(perf.output.find("PASS: Throughput") != std::string::npos);
}

TEST_CASE(
    "etcdctl member add prints the env block from MemberAddResponse.members, then member remove") {
  TestServer server;
  auto add = ctl(server, "member add n2 --peer-urls=http://127.0.0.1:2390 --learner");
  INFO(add.output);
  REQUIRE(add.exit_code == 0);
  CHECK(add.output.find("ETCD_NAME=\"n2\"") != std::string::npos);
  CHECK(add.output.find(
            "ETCD_INITIAL_CLUSTER=\"node-1=http://127.0.0.1:2380,n2=http://127.0.0.1:2390\"") !=
        std::string::npos);
  CHECK(add.output.find("ETCD_INITIAL_ADVERTISE_PEER_URLS=\"http://127.0.0.1:2390\"") !=
        std::string::npos);
  CHECK(add.output.find("ETCD_INITIAL_CLUSTER_STATE=\"existing\"") != std::string::npos);
  auto members = server.node().members();
  REQUIRE(members.size() == 2);
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(members[1].id));
  auto list = ctl(server, "member list");
  CHECK(list.output.find(std::string(hex) + ", unstarted, , http://127.0.0.1:2390, , true") !=
        std::string::npos);
  auto remove = ctl(server, std::string("member remove ") + hex);
  INFO(remove.output);
  CHECK(remove.exit_code == 0);
  char padded[32];  // etcdctl prints ids with %16x
  std::snprintf(padded, sizeof padded, "%16llx", static_cast<unsigned long long>(members[1].id));
  CHECK(remove.output.find("Member " + std::string(padded) + " removed from cluster") !=
        std::string::npos);
  CHECK(server.node().members().size() == 1);
}
