// Paper tests for membership changes (thesis §4: learners, single-server changes), ReadIndex
// (thesis §6.4) and leadership transfer (thesis §3.10).
#include <catch2/catch.hpp>

#include "tests/unit/kvserver/raft/test_cluster.h"

using namespace rafttest;

namespace {

void plain(Config& c) {
  c.pre_vote = false;
  c.check_quorum = false;
}

ConfChange change(ConfChangeType t, NodeId id) {
  return ConfChange{t, id, {}};
}

// Proposes a change at the leader and lets it commit and apply everywhere.
Status apply_change(TestCluster& c, NodeId leader, ConfChange cc) {
  ProposeResult r = c.node(leader).propose_conf_change(cc);
  c.settle();
  c.tick(leader, 2);
  return r.status;
}

}  // namespace

TEST_CASE("§4: a learner receives the log but neither votes nor counts toward commit",
          "[raft][s4]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.add_empty_node(4);
  REQUIRE(apply_change(c, 1, change(ConfChangeType::kAddLearner, 4)) == Status::kOk);
  REQUIRE(c.node(1).propose("a").status == Status::kOk);
  c.settle();
  CHECK(c.at(4).applied_entries.size() == 1);  // replicated to the learner
  CHECK(c.at(4).conf.learners == std::vector<NodeId>{4});
  CHECK(c.raft(1).tracker().quorum() == 2);  // still 2 of 3
  // With both other voters gone, the learner's ack does not make a majority.
  c.isolate(2);
  c.isolate(3);
  Index committed = c.raft(1).log().committed();
  REQUIRE(c.node(1).propose("b").status == Status::kOk);
  c.settle();
  CHECK(c.raft(1).log().committed() == committed);
  // And a learner never campaigns.
  c.tick(4, 100);
  CHECK(c.raft(4).role() == Role::kFollower);
  CHECK(c.raft(4).term() == c.raft(1).term());
}

TEST_CASE("§4: a promoted learner votes and counts toward the quorum", "[raft][s4]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.add_empty_node(4);
  REQUIRE(apply_change(c, 1, change(ConfChangeType::kAddLearner, 4)) == Status::kOk);
  REQUIRE(apply_change(c, 1, change(ConfChangeType::kAddVoter, 4)) == Status::kOk);
  CHECK(c.at(1).conf.voters == std::vector<NodeId>{1, 2, 3, 4});
  CHECK(c.raft(1).tracker().quorum() == 3);
  c.isolate(3);
  REQUIRE(c.node(1).propose("with 4").status == Status::kOk);
  c.settle();
  CHECK(c.at(1).applied_entries.size() == 1);  // 1, 2 and 4 make 3 of 4
}

TEST_CASE("§4.1: only one membership change may be pending at a time", "[raft][s4]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.add_empty_node(4);
  c.add_empty_node(5);
  c.isolate(2);
  c.isolate(3);  // the first change cannot commit
  REQUIRE(c.node(1).propose_conf_change(change(ConfChangeType::kAddLearner, 4)).status ==
          Status::kOk);
  c.settle();
  CHECK(c.node(1).propose_conf_change(change(ConfChangeType::kAddLearner, 5)).status ==
        Status::kConfChangePending);
  c.heal();
  c.tick(1, 2);
  CHECK(c.node(1).propose_conf_change(change(ConfChangeType::kAddLearner, 5)).status ==
        Status::kOk);
}

TEST_CASE("§4: invalid single-server changes are refused", "[raft][s4]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  CHECK(c.node(1).propose_conf_change(change(ConfChangeType::kAddVoter, 2)).status ==
        Status::kInvalidConfChange);
  CHECK(c.node(1).propose_conf_change(change(ConfChangeType::kRemoveNode, 9)).status ==
        Status::kInvalidConfChange);
  CHECK(c.node(2).propose_conf_change(change(ConfChangeType::kAddLearner, 9)).status ==
        Status::kNotLeader);
}

TEST_CASE("§4: removing a voter shrinks the quorum", "[raft][s4]") {
  TestCluster c(4, plain);
  REQUIRE(c.elect(1));
  REQUIRE(apply_change(c, 1, change(ConfChangeType::kRemoveNode, 4)) == Status::kOk);
  CHECK(c.raft(1).tracker().quorum() == 2);
  c.isolate(3);
  c.isolate(4);
  REQUIRE(c.node(1).propose("2 of 3").status == Status::kOk);
  c.settle();
  CHECK(c.at(1).applied_entries.size() == 1);
}

TEST_CASE(
    "§4.2.2: a leader steps down once its own removal is committed, and the rest elect a "
    "new leader",
    "[raft][s4]") {
  TestCluster c(3);
  REQUIRE(c.elect(1));
  REQUIRE(apply_change(c, 1, change(ConfChangeType::kRemoveNode, 1)) == Status::kOk);
  CHECK(c.raft(1).role() == Role::kFollower);
  CHECK_FALSE(c.raft(1).promotable());
  c.isolate(1);  // the operator stops the removed node
  c.tick_all(40);
  NodeId l = c.leader();
  CHECK((l == 2 || l == 3));
  REQUIRE(c.node(l).propose("after").status == Status::kOk);
  c.settle();
  CHECK(c.at(2).applied_entries.size() == 1);
  CHECK(c.at(3).applied_entries.size() == 1);
}

TEST_CASE(
    "§4 with defer_commit_notice: a removed follower and the followers of a removed leader "
    "still learn that the removal committed",
    "[raft][s4]") {
  for (NodeId removed : {NodeId{3}, NodeId{1}}) {
    INFO("removing " << removed);
    TestCluster c(3, [](Config& cfg) {
      plain(cfg);
      cfg.defer_commit_notice = true;
    });
    REQUIRE(c.elect(1));
    c.tick(1);
    ProposeResult r = c.node(1).propose_conf_change(change(ConfChangeType::kRemoveNode, removed));
    REQUIRE(r.status == Status::kOk);
    c.settle();  // no tick: no heartbeat may carry the commit index
    for (NodeId id : {1, 2, 3})
      CHECK(c.raft(id).log().committed() >= r.index);
  }
}

TEST_CASE("§6.4: ReadIndex is served only after the leader committed an entry of its term",
          "[raft][s6.4]") {
  Lone l({1}, 1);
  l.become_leader();
  REQUIRE(l.r->role() == Role::kLeader);
  l.take();
  REQUIRE(l.r->read_index("early") == Status::kOk);
  // Its blank entry (index 2) is not committed: no read state, and no heartbeat round yet.
  CHECK(l.r->read_states().empty());
  CHECK(count_type(l.take(), MessageType::kHeartbeat) == 0);
  l.persist();
  Message ack;
  ack.type = MessageType::kAppResp;
  ack.from = 2;
  ack.to = 1;
  ack.term = l.r->term();
  ack.index = 2;
  l.r->step(ack);
  REQUIRE(l.r->log().committed() == 2);
  // Now the round starts: one heartbeat per follower carrying the round's context.
  auto out = l.take();
  std::string ctx;
  for (const Message& m : out) {
    if (m.type == MessageType::kHeartbeat) ctx = m.context;
  }
  REQUIRE_FALSE(ctx.empty());
  CHECK(l.r->read_states().empty());
  Message hb;
  hb.type = MessageType::kHeartbeatResp;
  hb.from = 3;
  hb.to = 1;
  hb.term = l.r->term();
  hb.context = ctx;
  l.r->step(hb);
  REQUIRE(l.r->read_states().size() == 1);
  CHECK(l.r->read_states()[0].request_ctx == "early");
  CHECK(l.r->read_states()[0].index == 2);
}

TEST_CASE(
    "§6.4: a read index is the commit index at the request and needs a heartbeat quorum, "
    "one round serves a batch",
    "[raft][s6.4]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  REQUIRE(c.node(1).propose("w").status == Status::kOk);
  c.settle();
  Index committed = c.raft(1).log().committed();
  c.take_sent();
  c.isolate(2);
  c.isolate(3);
  REQUIRE(c.node(1).read_index("r1") == Status::kOk);
  REQUIRE(c.node(1).read_index("r2") == Status::kOk);
  REQUIRE(c.node(1).read_index("r3") == Status::kOk);
  c.settle();
  CHECK(c.at(1).read_states.empty());  // no quorum has confirmed leadership yet
  c.heal();
  c.tick(1, 1);
  auto& rs = c.at(1).read_states;
  REQUIRE(rs.size() == 3);
  for (const ReadState& r : rs)
    CHECK(r.index == committed);
  // r1 started a round; r2 and r3 waited and shared the next one: at most two rounds of reads.
  std::set<std::string> rounds;
  for (const Message& m : c.take_sent()) {
    if (m.type == MessageType::kHeartbeat && !m.context.empty()) rounds.insert(m.context);
  }
  CHECK(rounds.size() <= 2);
}

TEST_CASE("§6.4: a leader cut off from the majority serves no read", "[raft][s6.4]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.isolate(1);
  REQUIRE(c.elect(2));
  REQUIRE(c.node(2).propose("newer").status == Status::kOk);
  c.settle();
  REQUIRE(c.node(1).read_index("stale?") == Status::kOk);
  c.tick(1, 5);
  CHECK(c.at(1).read_states.empty());
}

TEST_CASE("§6.4: a follower's read is forwarded to the leader and answered with its read index",
          "[raft][s6.4]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  REQUIRE(c.node(1).propose("w").status == Status::kOk);
  c.settle();
  REQUIRE(c.node(2).read_index("f") == Status::kOk);
  c.settle();
  REQUIRE(c.at(2).read_states.size() == 1);
  CHECK(c.at(2).read_states[0].index == c.raft(1).log().committed());
  CHECK(c.node(3).read_index("x") == Status::kOk);
}

TEST_CASE("§3.10: leadership moves to an up-to-date target with TimeoutNow", "[raft][s3.10]") {
  TestCluster c(3);  // with check-quorum: the target's vote requests must bypass the lease
  REQUIRE(c.elect(1));
  Term t = c.raft(1).term();
  c.take_sent();
  REQUIRE(c.node(1).transfer_leader(2) == Status::kOk);
  c.settle();
  CHECK(count_type(c.take_sent(), MessageType::kTimeoutNow) == 1);
  CHECK(c.leader() == 2);
  CHECK(c.raft(2).term() == t + 1);
  CHECK(c.raft(1).role() == Role::kFollower);
}

TEST_CASE("§3.10: a lagging target is caught up first, and proposals wait during the transfer",
          "[raft][s3.10]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.isolate(3);
  for (int i = 0; i < 5; ++i)
    REQUIRE(c.node(1).propose("e").status == Status::kOk);
  c.settle();
  c.hold(3);  // node 3 is reachable again but slow to write
  c.heal();
  REQUIRE(c.node(1).transfer_leader(3) == Status::kOk);
  c.settle();
  CHECK(c.node(1).propose("during").status == Status::kLeaderTransferring);
  c.release(3);
  c.settle();
  CHECK(c.leader() == 3);
  CHECK(c.raft(3).log().last_index() >= c.raft(1).log().last_index());
}

TEST_CASE("§3.10: a transfer that cannot finish is abandoned after an election timeout",
          "[raft][s3.10]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.isolate(3);
  REQUIRE(c.node(1).propose("e").status == Status::kOk);
  c.settle();
  REQUIRE(c.node(1).transfer_leader(3) == Status::kOk);
  CHECK(c.raft(1).lead_transferee() == 3);
  c.tick(1, 10);
  CHECK(c.raft(1).lead_transferee() == kNoNode);
  CHECK(c.leader() == 1);
  CHECK(c.node(1).propose("again").status == Status::kOk);
  CHECK(c.node(1).transfer_leader(7) == Status::kInvalidTarget);
}

TEST_CASE(
    "§4: a cluster bootstrapped from committed AddVoter entries applies them, then elects "
    "and commits",
    "[raft][s4]") {
  TestCluster c(3, {}, TestCluster::Bootstrap::kConfChangeEntries);
  c.settle();  // the first Readys hand out the bootstrap entries; applying them sets membership
  for (NodeId id : {1, 2, 3})
    CHECK(c.at(id).conf.voters == std::vector<NodeId>{1, 2, 3});
  REQUIRE(c.elect(2));
  REQUIRE(c.node(2).propose("first").status == Status::kOk);
  c.settle();
  for (NodeId id : {1, 2, 3})
    CHECK(c.at(id).applied_entries.size() == 1);
}
