#include "provision/steps/planner.h"

#include <catch2/catch.hpp>

#include "test_inputs.h"

using namespace provision;
using namespace provision::steps;
using steps_test::file;

namespace {

struct Fixture {
  Inventory inv = steps_test::inventory(
      "  - {name: h1, address: 10.0.0.1}\n"
      "  - {name: h2, address: 10.0.0.2}\n");
  NodeInputs inputs(size_t i, const std::string& cert = "cert-bytes") {
    NodeInputs in;
    in.node = &inv.nodes[i];
    in.fixed.push_back(file("binary", "/usr/local/bin/etcd", "ELF...", 0755));
    in.fixed.push_back(file("server.crt", "/etc/etcd/server.crt", cert, 0644));
    in.fixed.push_back(file("server.key", "/etc/etcd/server.key", "key-bytes", 0600));
    in.unit_new = file("unit", "/etc/systemd/system/etcd.service", "state=new", 0644);
    in.unit_existing = file("unit", "/etc/systemd/system/etcd.service", "state=existing", 0644);
    return in;
  }
  // Facts of a node that holds exactly `in` (with the "new" unit), running.
  static NodeFacts converged(const NodeInputs& in, const DesiredFile& unit) {
    NodeFacts f;
    f.systemd = true;
    f.unit_active = "active";
    f.unit_enabled = "enabled";
    f.data_dir_exists = true;
    f.data_dir_has_member = true;
    f.data_dir_mode = "700";
    for (const auto& d : in.fixed)
      f.files[d.remote_path] = RemoteFile{mode_text(d.mode), "root:root", d.sha256};
    f.files[unit.remote_path] = RemoteFile{"644", "root:root", unit.sha256};
    return f;
  }
};

}  // namespace

TEST_CASE("planner: a fresh node gets every file, its data dir, enable and start", "[planner]") {
  Fixture fx;
  NodeInputs in = fx.inputs(0);
  NodeFacts fresh;
  fresh.systemd = true;
  fresh.unit_active = "inactive";
  NodePlan p = plan_node(in, fresh, false);
  CHECK(p.writes.size() == 4);
  for (const auto& w : p.writes)
    CHECK(w.change == Change::kCreate);
  CHECK(p.state == ClusterState::kNew);
  CHECK(p.fix_data_dir);
  CHECK(p.enable);
  CHECK(p.unit_changed);
  CHECK(p.action == ServiceAction::kStart);
  auto lines = describe(p, "etcd.service");
  CHECK(lines.front() == "create /usr/local/bin/etcd (6 B)");
  CHECK(lines.back() == "start etcd.service");
}

TEST_CASE("planner: a converged running node changes nothing", "[planner]") {
  Fixture fx;
  NodeInputs in = fx.inputs(0);
  NodePlan p = plan_node(in, Fixture::converged(in, in.unit_new), true);
  CHECK(p.writes.empty());
  CHECK_FALSE(p.changes_anything());
  CHECK(p.action == ServiceAction::kNone);
  CHECK(describe(p, "etcd.service").empty());
}

TEST_CASE("planner: changed content on a running node means one restart", "[planner]") {
  Fixture fx;
  NodeInputs old_in = fx.inputs(0, "old-cert");
  NodeFacts facts = Fixture::converged(old_in, old_in.unit_new);
  NodePlan p = plan_node(fx.inputs(0, "new-cert"), facts, true);
  REQUIRE(p.writes.size() == 1);
  CHECK(p.writes[0].change == Change::kUpdate);
  CHECK(p.writes[0].file.remote_path == "/etc/etcd/server.crt");
  CHECK_FALSE(p.unit_changed);
  CHECK(p.action == ServiceAction::kRestart);
}

TEST_CASE("planner: right bytes with the wrong mode are only chmod'ed, never restarted",
          "[planner]") {
  Fixture fx;
  NodeInputs in = fx.inputs(0);
  NodeFacts facts = Fixture::converged(in, in.unit_new);
  facts.files["/etc/etcd/server.key"]->mode = "644";
  NodePlan p = plan_node(in, facts, true);
  REQUIRE(p.writes.size() == 1);
  CHECK(p.writes[0].change == Change::kFixMetadata);
  CHECK_FALSE(p.content_changed());
  CHECK(p.action == ServiceAction::kNone);
  CHECK(describe(p, "etcd.service") ==
        std::vector<std::string>{"chmod/chown /etc/etcd/server.key (600 root:root)"});
}

TEST_CASE("planner: a stopped member with the right files is only started", "[planner]") {
  Fixture fx;
  NodeInputs in = fx.inputs(0);
  NodeFacts facts = Fixture::converged(in, in.unit_new);
  facts.unit_active = "failed";
  NodePlan p = plan_node(in, facts, true);
  CHECK(p.writes.empty());
  CHECK(p.action == ServiceAction::kStart);
}

TEST_CASE("planner: initial-cluster-state is decided per node and kept once written", "[planner]") {
  Fixture fx;
  NodeInputs in = fx.inputs(0);
  NodeFacts empty;
  empty.unit_active = "inactive";
  // Nobody has data: a new cluster.
  CHECK(plan_node(in, empty, false).state == ClusterState::kNew);
  // Another member already holds data and this one has none: the cluster exists, join it.
  NodePlan join = plan_node(in, empty, true);
  CHECK(join.state == ClusterState::kExisting);
  CHECK(join.writes.back().file.sha256 == in.unit_existing.sha256);
  // A unit written as "existing" earlier is kept byte for byte once the member has data, and a
  // unit written as "new" is kept even though others now hold data: no needless restart.
  CHECK(plan_node(in, Fixture::converged(in, in.unit_existing), true).writes.empty());
  CHECK(plan_node(in, Fixture::converged(in, in.unit_existing), true).state ==
        ClusterState::kExisting);
  NodeFacts has_new = Fixture::converged(in, in.unit_new);
  has_new.data_dir_has_member = false;
  CHECK(plan_node(in, has_new, true).writes.empty());
}

TEST_CASE("planner: plan_cluster lets each node see the others' data dirs", "[planner]") {
  Fixture fx;
  std::vector<NodeInputs> inputs = {fx.inputs(0), fx.inputs(1)};
  NodeFacts with_data = Fixture::converged(inputs[0], inputs[0].unit_new);
  NodeFacts wiped;
  wiped.unit_active = "inactive";
  auto plans = plan_cluster(inputs, {with_data, wiped});
  REQUIRE(plans.size() == 2);
  CHECK(plans[0].node == "h1");
  CHECK(plans[0].state == ClusterState::kNew);
  CHECK(plans[0].action == ServiceAction::kNone);
  CHECK(plans[1].node == "h2");
  CHECK(plans[1].state == ClusterState::kExisting);
  CHECK(plans[1].action == ServiceAction::kStart);
}
