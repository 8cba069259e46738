// Bootstrap decisions and id derivation: what a starting member concludes from its flags and data
// dir, and that every member derives the same ids.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "kvserver/server/node/bootstrap.h"
#include "kvserver/server/node/membership.h"

using namespace kvserver;
using namespace kvserver::node;

namespace {

server::ServerConfig config_for(const std::string& name, int index, const std::string& state) {
  server::ServerConfig c;
  c.name = name;
  c.data_dir = "/tmp/never-used-" + name;
  c.initial_cluster_state = state;
  c.initial_cluster_token = "tok";
  c.listen_client_urls = {"http://127.0.0.1:" + std::to_string(2379 + 10 * index)};
  c.advertise_client_urls = c.listen_client_urls;
  c.listen_peer_urls = {"http://127.0.0.1:" + std::to_string(2380 + 10 * index)};
  c.initial_advertise_peer_urls = c.listen_peer_urls;
  c.initial_cluster = "n1=http://127.0.0.1:2390,n2=http://127.0.0.1:2400,n3=http://127.0.0.1:2410";
  // `member add` prints an --initial-cluster that lists the new member too.
  if (state == "existing") c.initial_cluster += ",n4=http://127.0.0.1:2420";
  REQUIRE(server::validate_config(c).ok());
  return c;
}

}  // namespace

TEST_CASE("member ids depend on peer URLs and token only - not their order", "[bootstrap]") {
  uint64_t a = derive_member_id({"https://a:2380", "https://b:2380"}, "t");
  CHECK(a == derive_member_id({"https://b:2380", "https://a:2380"}, "t"));
  CHECK(a != derive_member_id({"https://a:2380", "https://b:2380"}, "other"));
  CHECK(a != derive_member_id({"https://a:2380"}, "t"));
  // The separator keeps concatenations apart.
  CHECK(derive_member_id({"ab"}, "t") != derive_member_id({"a", "b"}, "t"));
  CHECK(derive_cluster_id({1, 2, 3}) == derive_cluster_id({3, 1, 2}));
  CHECK(derive_cluster_id({1, 2, 3}) != derive_cluster_id({1, 2}));
}

TEST_CASE("a new cluster: every member derives the same membership and cluster id", "[bootstrap]") {
  auto p1 = plan_bootstrap(config_for("n1", 1, "new"), std::nullopt, true);
  auto p3 = plan_bootstrap(config_for("n3", 3, "new"), std::nullopt, true);
  REQUIRE(p1.ok());
  REQUIRE(p3.ok());
  CHECK(p1->kind == BootstrapPlan::Kind::kNewCluster);
  CHECK(p1->cluster_id == p3->cluster_id);
  CHECK(p1->member_id != p3->member_id);
  REQUIRE(p1->initial_members.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    // Identical bootstrap entries on every member: same ids, names, URLs, and no client URLs.
    CHECK(p1->initial_members[i].id == p3->initial_members[i].id);
    CHECK(p1->initial_members[i].name == p3->initial_members[i].name);
    CHECK(p1->initial_members[i].client_urls.empty());
  }
  CHECK(p1->initial_members[0].id == p1->member_id);
  CHECK(p3->initial_members[2].id == p3->member_id);
}

TEST_CASE("joining: the id is the one MemberAdd derives from the same URLs", "[bootstrap]") {
  auto c = config_for("n4", 4, "existing");
  auto p = plan_bootstrap(c, std::nullopt, true);
  REQUIRE(p.ok());
  CHECK(p->kind == BootstrapPlan::Kind::kJoin);
  CHECK(p->cluster_id == 0);
  CHECK(p->member_id == derive_member_id({"http://127.0.0.1:2420"}, "tok"));
}

TEST_CASE("restarts keep the stored ids - foreign or half-written data dirs are refused",
          "[bootstrap]") {
  auto c = config_for("n1", 1, "new");
  auto fresh = plan_bootstrap(c, std::nullopt, true);
  REQUIRE(fresh.ok());
  MemberMeta meta{"tok", fresh->member_id, fresh->cluster_id};
  auto again = plan_bootstrap(c, meta, false);
  REQUIRE(again.ok());
  CHECK(again->kind == BootstrapPlan::Kind::kRestart);
  CHECK(again->member_id == fresh->member_id);

  MemberMeta other_token{"someone-else", fresh->member_id, fresh->cluster_id};
  auto refused = plan_bootstrap(c, other_token, false);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains(c.data_dir));
  CHECK_THAT(refused.error().message, Catch::Contains("someone-else"));

  MemberMeta other_cluster{"tok", fresh->member_id, fresh->cluster_id ^ 1};
  auto mismatch = plan_bootstrap(c, other_cluster, false);
  REQUIRE_FALSE(mismatch.ok());
  CHECK_THAT(mismatch.error().message, Catch::Contains("remove the data dir"));

  auto half = plan_bootstrap(c, std::nullopt, false);
  REQUIRE_FALSE(half.ok());
  CHECK_THAT(half.error().message, Catch::Contains("no member metadata"));
}

TEST_CASE("member metadata survives a write/read - a malformed file is an error", "[bootstrap]") {
  auto dir = std::filesystem::temp_directory_path() / ("node-meta-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto none = read_meta(dir.string());
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  REQUIRE(write_meta(dir.string(), {"tok", 0xabc, 0xdef}).ok());
  auto got = read_meta(dir.string());
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->token == "tok");
  CHECK((*got)->member_id == 0xabc);
  CHECK((*got)->cluster_id == 0xdef);
  std::ofstream(meta_path(dir.string())) << "token=x\n";
  CHECK_FALSE(read_meta(dir.string()).ok());
  std::filesystem::remove_all(dir);
}
