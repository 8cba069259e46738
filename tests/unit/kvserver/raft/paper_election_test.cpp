// Paper tests for terms and elections: Raft paper §5.1, §5.2, §5.4.1; thesis §9.6 (pre-vote,
// check-quorum), and our tie-break for pre-votes that cross (raft.cpp).
#include <catch2/catch.hpp>

#include "tests/unit/kvserver/raft/test_cluster.h"

using namespace rafttest;

namespace {

void plain(Config& c) {
  c.pre_vote = false;
  c.check_quorum = false;
}

Message vote_request(NodeId from, NodeId to, Term term, Index last_index, Term last_term,
                     MessageType t = MessageType::kVote) {
  Message m;
  m.type = t;
  m.from = from;
  m.to = to;
  m.term = term;
  m.index = last_index;
  m.log_term = last_term;
  return m;
}

}  // namespace

TEST_CASE("§5.1: a node that sees a higher term adopts it and reverts to follower",
          "[raft][s5.1]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  Term t = c.raft(1).term();
  Message m;
  m.type = MessageType::kAppResp;
  m.from = 2;
  m.to = 1;
  m.term = t + 5;
  c.raft(1).step(m);
  CHECK(c.raft(1).role() == Role::kFollower);
  CHECK(c.raft(1).term() == t + 5);
  CHECK(c.raft(1).vote() == kNoNode);
}

TEST_CASE("§5.1: a request with a stale term is rejected and changes nothing", "[raft][s5.1]") {
  Lone n({1, 1}, /*term=*/5);
  Message app;
  app.type = MessageType::kApp;
  app.from = 2;
  app.to = 1;
  app.term = 4;
  app.index = 2;
  app.log_term = 1;
  app.entries = {Entry{4, 3, EntryType::kNormal, "stale"}};
  n.r->step(app);
  CHECK(n.r->log().last_index() == 2);  // nothing appended
  CHECK(n.r->term() == 5);
  // No check-quorum or pre-vote here: the stale message is simply ignored (Figure 2).
  CHECK(n.take().empty());
}

TEST_CASE(
    "§5.2: a follower that hears nothing for an election timeout becomes candidate, increments "
    "its term and votes for itself",
    "[raft][s5.2]") {
  Lone n({}, 1);
  int ticks = 0;
  while (n.r->role() == Role::kFollower && ticks < 100) {
    n.r->tick();
    ++ticks;
  }
  CHECK(n.r->role() == Role::kCandidate);
  CHECK(n.r->term() == 2);
  CHECK(n.r->vote() == 1);
  // §5.2 randomized timeout: within [election_tick, 2*election_tick).
  CHECK(ticks >= 10);
  CHECK(ticks < 20);
  auto msgs = n.take();
  REQUIRE(count_type(msgs, MessageType::kVote) == 2);
  for (const Message& m : msgs)
    CHECK(m.term == 2);
}

TEST_CASE("§5.2: election timeouts are randomized per node and seed", "[raft][s5.2]") {
  std::set<int> seen;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    MemoryStorage s;
    s.set_conf_state(ConfState{{1, 2, 3}, {}});
    Config c;
    c.id = 1;
    c.storage = &s;
    c.pre_vote = false;
    c.seed = seed;
    Raft r(c);
    int ticks = 0;
    while (r.role() == Role::kFollower) {
      r.tick();
      ++ticks;
    }
    CHECK(ticks >= 10);
    CHECK(ticks < 20);
    seen.insert(ticks);
  }
  CHECK(seen.size() >= 3);  // a spread, so split votes resolve (§5.2)
}

TEST_CASE("§5.2: a candidate with votes from a majority becomes leader and asserts itself",
          "[raft][s5.2]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  CHECK(c.raft(2).lead() == 1);
  CHECK(c.raft(3).lead() == 1);
  CHECK(c.raft(2).term() == c.raft(1).term());
  // §8: the new leader's blank entry is committed everywhere.
  for (NodeId id : {1, 2, 3})
    CHECK(c.raft(id).log().committed() == 2);
}

TEST_CASE("§5.2: each node grants at most one vote per term", "[raft][s5.2]") {
  Lone n({}, 1);
  n.r->step(vote_request(2, 1, 2, 0, 0));
  n.r->step(vote_request(3, 1, 2, 0, 0));
  auto msgs = n.take();
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[0].to == 2);
  CHECK_FALSE(msgs[0].reject);
  CHECK(msgs[1].to == 3);
  CHECK(msgs[1].reject);
  CHECK(n.r->vote() == 2);
  // The same candidate asking again (a duplicate) gets the same answer.
  n.r->step(vote_request(2, 1, 2, 0, 0));
  CHECK_FALSE(n.take().at(0).reject);
}

TEST_CASE("§5.2: a candidate that hears from a leader of its term steps down", "[raft][s5.2]") {
  Lone n({}, 1);
  while (n.r->role() != Role::kCandidate)
    n.r->tick();
  Message hb;
  hb.type = MessageType::kHeartbeat;
  hb.from = 2;
  hb.to = 1;
  hb.term = n.r->term();
  n.r->step(hb);
  CHECK(n.r->role() == Role::kFollower);
  CHECK(n.r->lead() == 2);
}

TEST_CASE("§5.2: a split vote ends with a new election in a higher term", "[raft][s5.2]") {
  TestCluster c(3, plain);
  // 2 and 3 campaign at once in term 2 and each votes for itself: nobody wins.
  c.isolate(1);
  c.drop(2, 3);
  c.drop(3, 2);
  for (int i = 0; i < 20 && c.raft(2).role() != Role::kCandidate; ++i)
    c.tick(2);
  for (int i = 0; i < 20 && c.raft(3).role() != Role::kCandidate; ++i)
    c.tick(3);
  REQUIRE(c.raft(2).term() == 2);
  REQUIRE(c.raft(3).term() == 2);
  c.heal();
  c.tick_all(40);
  NodeId l = c.leader();
  REQUIRE(l != kNoNode);
  CHECK(c.raft(l).term() > 2);
}

TEST_CASE("§5.4.1: a voter refuses a candidate whose log is less up-to-date", "[raft][s5.4.1]") {
  // Our log: terms 1, 1, 3.
  SECTION("lower last term") {
    Lone n({1, 1, 3}, 3);
    n.r->step(vote_request(2, 1, 4, 5, 2));  // longer log but last term 2 < 3
    CHECK(n.take().at(0).reject);
  }
  SECTION("same last term, shorter log") {
    Lone n({1, 1, 3}, 3);
    n.r->step(vote_request(2, 1, 4, 2, 3));
    CHECK(n.take().at(0).reject);
  }
  SECTION("same last term, as long: granted") {
    Lone n({1, 1, 3}, 3);
    n.r->step(vote_request(2, 1, 4, 3, 3));
    CHECK_FALSE(n.take().at(0).reject);
  }
  SECTION("higher last term, shorter log: granted") {
    Lone n({1, 1, 3}, 3);
    n.r->step(vote_request(2, 1, 4, 1, 4));
    CHECK_FALSE(n.take().at(0).reject);
  }
}

TEST_CASE(
    "§9.6: pre-vote: a partitioned node does not raise its term and does not disrupt the leader "
    "when it returns",
    "[raft][s9.6]") {
  TestCluster c(3);  // pre-vote and check-quorum on
  REQUIRE(c.elect(1));
  Term t = c.raft(1).term();
  c.isolate(3);
  c.tick(3, 200);                // many election timeouts alone
  CHECK(c.raft(3).term() == t);  // pre-votes failed; no term inflation
  CHECK(c.raft(3).role() != Role::kLeader);
  c.heal();
  c.tick_all(30);
  CHECK(c.leader() == 1);
  CHECK(c.raft(1).term() == t);
  CHECK(c.raft(3).lead() == 1);
}

TEST_CASE("§9.6: pre-vote: a pre-candidate keeps its term and vote until the real election",
          "[raft][s9.6]") {
  Lone n({1}, 1, /*pre_vote=*/true);
  while (n.r->role() == Role::kFollower)
    n.r->tick();
  CHECK(n.r->role() == Role::kPreCandidate);
  CHECK(n.r->term() == 1);
  CHECK(n.r->vote() == kNoNode);
  auto msgs = n.take();
  REQUIRE(count_type(msgs, MessageType::kPreVote) == 2);
  CHECK(msgs[0].term == 2);  // the term it would use
  Message grant;
  grant.type = MessageType::kPreVoteResp;
  grant.from = 2;
  grant.to = 1;
  grant.term = 2;
  n.r->step(grant);
  CHECK(n.r->role() == Role::kCandidate);
  CHECK(n.r->term() == 2);
  CHECK(n.r->vote() == 1);
}

TEST_CASE(
    "§9.6 (our tie-break): followers whose pre-votes cross do not split the vote: the lower id "
    "yields and the higher one wins in the next term",
    "[raft][s9.6]") {
  TestCluster c(3);
  REQUIRE(c.elect(1));
  const Term t = c.raft(1).term();
  c.isolate(1);  // the leader dies
  // 2 and 3 time out before either hears the other: both pre-vote with nothing delivered yet.
  for (int i = 0;
       i < 100 && (c.raft(2).role() == Role::kFollower || c.raft(3).role() == Role::kFollower);
       ++i) {
    if (c.raft(2).role() == Role::kFollower) c.node(2).tick();
    if (c.raft(3).role() == Role::kFollower) c.node(3).tick();
  }
  REQUIRE(c.raft(2).role() == Role::kPreCandidate);
  REQUIRE(c.raft(3).role() == Role::kPreCandidate);
  c.settle();  // each grants the other's pre-vote; without the tie-break both would campaign
  CHECK(c.leader() == 3);
  CHECK(c.raft(3).term() == t + 1);
  CHECK(c.raft(2).term() == t + 1);
  CHECK(c.raft(2).vote() == 3);
}

TEST_CASE(
    "§9.6 (our tie-break): a node yields once to a higher id whose pre-vote it granted, and "
    "campaigns at its next timeout if that one did not win",
    "[raft][s9.6]") {
  Lone n({1}, 1, /*pre_vote=*/true);  // id 1 of voters 1, 2, 3
  auto grant_from_2 = [] {
    Message m;
    m.type = MessageType::kPreVoteResp;
    m.from = 2;
    m.to = 1;
    m.term = 2;
    return m;
  };
  while (n.r->role() == Role::kFollower)
    n.r->tick();
  REQUIRE(n.r->role() == Role::kPreCandidate);
  n.r->step(vote_request(3, 1, 2, 1, 1, MessageType::kPreVote));  // 3's pre-vote crosses ours
  auto msgs = n.take();
  REQUIRE(count_type(msgs, MessageType::kPreVoteResp) == 1);
  CHECK_FALSE(msgs.back().reject);
  n.r->step(grant_from_2());  // a pre-vote majority, but 3 also has one: 3 campaigns, we do not
  CHECK(n.r->role() == Role::kFollower);
  CHECK(n.r->term() == 1);
  CHECK(n.r->vote() == kNoNode);
  CHECK(count_type(n.take(), MessageType::kVote) == 0);

  // 3 never campaigned (it crashed): at our next timeout we pre-vote again, and this time go on.
  int ticks = 0;
  while (n.r->role() == Role::kFollower && ticks < 100) {
    n.r->tick();
    ++ticks;
  }
  CHECK(ticks <= 2 * 10);
  REQUIRE(n.r->role() == Role::kPreCandidate);
  n.r->step(grant_from_2());
  CHECK(n.r->role() == Role::kCandidate);
  CHECK(n.r->term() == 2);
}

TEST_CASE(
    "§9.6: check-quorum: a leader that cannot reach a majority steps down within an election "
    "timeout",
    "[raft][s9.6]") {
  TestCluster c(3);
  REQUIRE(c.elect(1));
  c.isolate(1);
  int ticks = 0;
  while (c.raft(1).role() == Role::kLeader && ticks < 100) {
    c.tick(1);
    ++ticks;
  }
  CHECK(c.raft(1).role() == Role::kFollower);
  CHECK(ticks <= 2 * 10);
}

TEST_CASE("§9.6: check-quorum: a follower within its leader lease ignores vote requests",
          "[raft][s9.6]") {
  TestCluster c(3);
  REQUIRE(c.elect(1));
  Term t = c.raft(2).term();
  c.raft(2).step(vote_request(3, 2, t + 1, 100, t + 1));
  CHECK(c.raft(2).term() == t);
  CHECK(c.raft(2).vote() != 3);
}

TEST_CASE(
    "§9.6: check-quorum: a leader whose followers are too busy to answer, but vouch they are "
    "alive, keeps leading - a vouch for another term does not count",
    "[raft][s9.6]") {
  TestCluster c(3);
  REQUIRE(c.elect(1));
  const Term t = c.raft(1).term();
  c.isolate(2);  // their loops are busy: no answer reaches the leader
  c.isolate(3);
  for (int i = 0; i < 5 * 10; ++i) {
    c.raft(1).note_alive(2, t);
    c.tick(1);
  }
  CHECK(c.raft(1).role() == Role::kLeader);
  CHECK(c.raft(1).term() == t);

  int ticks = 0;
  while (c.raft(1).role() == Role::kLeader && ticks < 100) {
    c.raft(1).note_alive(2, t + 1);
    c.raft(1).note_alive(9, t);  // not a member
    c.tick(1);
    ++ticks;
  }
  CHECK(c.raft(1).role() == Role::kFollower);
  CHECK(ticks <= 2 * 10);
}

TEST_CASE(
    "§9.6: a follower whose leader vouches it is alive does not campaign and stays in its leader "
    "lease - a vouch from another member does not hold it back",
    "[raft][s9.6]") {
  TestCluster c(3);
  REQUIRE(c.elect(1));
  const Term t = c.raft(2).term();
  c.isolate(1);  // the leader's loop is busy: no heartbeat reaches the followers
  for (int i = 0; i < 5 * 20; ++i) {
    c.raft(2).note_alive(1, t);
    c.tick(2);
  }
  CHECK(c.raft(2).role() == Role::kFollower);
  CHECK(c.raft(2).term() == t);
  CHECK(c.raft(2).lead() == 1);
  c.raft(2).step(vote_request(3, 2, t + 1, 100, t + 1));
  CHECK(c.raft(2).term() == t);  // within the lease: ignored

  int ticks = 0;
  while (c.raft(2).role() == Role::kFollower && ticks < 100) {
    c.raft(2).note_alive(3, t);
    c.raft(2).note_alive(1, t - 1);
    c.raft(2).tick();
    ++ticks;
  }
  CHECK(c.raft(2).role() != Role::kFollower);
  CHECK(ticks <= 2 * 10);
}

TEST_CASE("§5.2: a restarted node remembers its vote (Figure 2: votedFor is persistent)",
          "[raft][s5.2]") {
  TestCluster c(3, plain);
  Message req = vote_request(2, 1, 5, 1, 1);
  c.node(1).step(req);
  c.settle();  // the vote (term 5, voted for 2) is persisted before the answer goes out
  c.restart(1);
  CHECK(c.raft(1).term() == 5);
  CHECK(c.raft(1).vote() == 2);
  c.take_sent();
  c.node(1).step(vote_request(3, 1, 5, 1, 1));
  c.settle();
  bool rejected = false;
  for (const Message& m : c.take_sent()) {
    if (m.type == MessageType::kVoteResp && m.to == 3) rejected = m.reject;
  }
  CHECK(rejected);
}
