#include "provision/cluster/health_report.h"

#include <catch2/catch.hpp>

using namespace provision::cluster;

namespace {

EndpointReport member(const std::string& node, uint64_t id, uint64_t leader) {
  EndpointReport e;
  e.node = node;
  e.endpoint = "https://10.0.0." + std::to_string(id) + ":2379";
  e.healthy = true;
  e.took_ms = 4.7;
  MemberStatus s;
  s.member_id = id;
  s.leader = leader;
  s.version = "3.4.23";
  s.db_size = 20480;
  s.raft_term = 2;
  s.raft_index = 8;
  e.status = s;
  return e;
}

ClusterReport three(uint64_t leader) {
  ClusterReport r;
  r.endpoints = {member("h1", 1, leader), member("h2", 2, leader), member("h3", 3, leader)};
  for (uint64_t id : {1, 2, 3}) {
    const std::string name = "h" + std::to_string(id);
    r.members.push_back({id,
                         name,
                         {"https://10.0.0." + std::to_string(id) + ":2380"},
                         {"https://10.0.0." + std::to_string(id) + ":2379"},
                         false});
  }
  return r;
}

}  // namespace

TEST_CASE("sizes and times as etcdctl prints them", "[health]") {
  CHECK(format_db_size(5) == "5 B");
  CHECK(format_db_size(20480) == "20 kB");
  CHECK(format_db_size(1500) == "1.5 kB");
  CHECK(format_db_size(2300000) == "2.3 MB");
  CHECK(format_took(4.71) == "4.7ms");
  CHECK(format_took(1234) == "1.23s");
  CHECK(format_member_id(0xd5707dd9272f01ebULL) == "d5707dd9272f01eb");
  CHECK(format_member_id(0x1a) == "1a");
}

TEST_CASE("verdict: all healthy with one agreed leader is ok", "[health]") {
  Verdict v = evaluate(three(2));
  CHECK(v.ok);
  CHECK(v.summary == "3/3 healthy, leader h2 (term 2)");
  CHECK(v.failing_nodes.empty());
}

TEST_CASE("verdict: a sick member is named, disagreement or no leader is not ok", "[health]") {
  ClusterReport r = three(2);
  r.endpoints[2].healthy = false;
  r.endpoints[2].error = "connection refused";
  Verdict v = evaluate(r);
  CHECK_FALSE(v.ok);
  CHECK(v.failing_nodes == std::vector<std::string>{"h3"});
  CHECK_THAT(v.summary, Catch::Contains("2/3 healthy; h3: connection refused"));

  ClusterReport split = three(2);
  split.endpoints[0].status->leader = 1;
  CHECK_FALSE(evaluate(split).ok);
  CHECK_FALSE(evaluate(three(0)).ok);
  CHECK_FALSE(evaluate(three(7)).ok);  // a leader that is none of the inventory's members
  CHECK_FALSE(evaluate(ClusterReport{}).ok);
}

TEST_CASE("verdict: a member that answers but has not published itself is not up yet", "[health]") {
  // kvserver answers health once it has a leader, a moment before its name and client URLs are
  // applied; `etcdctl endpoint health --cluster` would skip it until then.
  ClusterReport r = three(2);
  r.members[0].name.clear();
  r.members[0].client_urls.clear();
  Verdict v = evaluate(r);
  CHECK_FALSE(v.ok);
  CHECK(v.failing_nodes == std::vector<std::string>{"h1"});
  CHECK_THAT(v.summary, Catch::Contains("h1: not started in the member list yet"));
  ClusterReport missing = three(2);
  missing.members.pop_back();  // not in the list at all
  CHECK_FALSE(evaluate(missing).ok);
}

TEST_CASE("table: the columns the seeds show, one row per member, errors only when any",
          "[health]") {
  const std::string table = render_health_table(three(3));
  CHECK(table.rfind("ENDPOINT", 0) == 0);
  for (const char* col : {"ID", "NAME", "VERSION", "DB SIZE", "IS LEADER", "RAFT TERM",
                          "RAFT INDEX", "HEALTH", "TOOK"})
    CHECK_THAT(table, Catch::Contains(col));
  CHECK_THAT(table, !Catch::Contains("ERROR"));
  CHECK_THAT(table, Catch::Contains("https://10.0.0.3:2379"));
  CHECK_THAT(table, Catch::Contains("20 kB"));
  CHECK_THAT(table, Catch::Contains("4.7ms"));
  // h3 is the leader: exactly one "true" in IS LEADER, three in HEALTH.
  size_t trues = 0;
  for (size_t p = table.find("true"); p != std::string::npos; p = table.find("true", p + 1))
    ++trues;
  CHECK(trues == 4);

  ClusterReport r = three(3);
  r.endpoints[0].healthy = false;
  r.endpoints[0].status.reset();
  r.endpoints[0].error = "deadline exceeded";
  const std::string sick = render_health_table(r);
  CHECK_THAT(sick, Catch::Contains("ERROR"));
  CHECK_THAT(sick, Catch::Contains("deadline exceeded"));
}

TEST_CASE("json: verdict and members", "[health]") {
  ClusterReport r = three(1);
  const std::string j = render_health_json(r, evaluate(r));
  CHECK(j.rfind("{\"healthy\":true,", 0) == 0);
  CHECK_THAT(j, Catch::Contains("\"id\":\"1\",\"name\":\"h1\""));
  CHECK_THAT(j, Catch::Contains("\"is_leader\":true"));
  CHECK_THAT(j, Catch::Contains("\"raft_term\":2"));
}
