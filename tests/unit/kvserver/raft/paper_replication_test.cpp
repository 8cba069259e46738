// Paper tests for log replication and commitment: Raft paper §5.3, §5.4.2, §7 (snapshots); thesis
// §10.2.1 (the leader writes its log in parallel with replication); flow control.
#include <catch2/catch.hpp>

#include "tests/unit/kvserver/raft/test_cluster.h"

using namespace rafttest;

namespace {

void plain(Config& c) {
  c.pre_vote = false;
  c.check_quorum = false;
}

std::vector<Term> terms_of(Raft& r) {
  std::vector<Term> out;
  for (Index i = r.log().first_index(); i <= r.log().last_index(); ++i) {
    out.push_back(r.log().term_or_zero(i));
  }
  return out;
}

Message app(NodeId from, Term term, Index prev, Term prev_term, std::vector<Entry> ents,
            Index commit = 0) {
  Message m;
  m.type = MessageType::kApp;
  m.from = from;
  m.to = 1;
  m.term = term;
  m.index = prev;
  m.log_term = prev_term;
  m.entries = std::move(ents);
  m.commit = commit;
  return m;
}

}  // namespace

TEST_CASE(
    "§5.3: the leader replicates a proposal, it commits once a majority stored it and every "
    "node applies it in the same order",
    "[raft][s5.3]") {
  TestCluster c(5, plain);
  REQUIRE(c.elect(1));
  c.isolate(4);
  c.isolate(5);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(c.node(1).propose("v" + std::to_string(i)).status == Status::kOk);
    c.settle();
  }
  // 3 of 5 (a majority) stored them: committed and applied on those.
  CHECK(c.raft(1).log().committed() == 5);
  for (NodeId id : {1, 2, 3}) {
    REQUIRE(c.at(id).applied_entries.size() == 3);
    CHECK(c.at(id).applied_entries[2].data == "v2");
  }
  c.heal();
  c.tick(1, 3);  // heartbeats bring 4 and 5 up to date
  for (NodeId id : {4, 5}) {
    REQUIRE(c.at(id).applied_entries.size() == 3);
    CHECK(c.at(id).applied_entries[0].data == "v0");
  }
}

TEST_CASE("§5.3: with only a minority reachable nothing commits", "[raft][s5.3]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  Index committed = c.raft(1).log().committed();
  c.isolate(2);
  c.isolate(3);
  REQUIRE(c.node(1).propose("lonely").status == Status::kOk);
  c.tick(1, 5);
  CHECK(c.raft(1).log().committed() == committed);
  CHECK(c.at(1).applied_entries.empty());
}

TEST_CASE("§5.3: a follower rejects an append whose previous entry it lacks", "[raft][s5.3]") {
  Lone f({1, 1}, 2);
  f.r->step(app(2, 2, 3, 2, {Entry{2, 4, EntryType::kNormal, "x"}}));
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].reject);
  CHECK(out[0].index == 3);
  CHECK(f.r->log().last_index() == 2);
}

TEST_CASE("§5.3: conflicting follower entries are deleted and replaced by the leader's",
          "[raft][s5.3]") {
  Lone f({1, 1, 2, 2, 2}, 2);
  f.r->step(app(2, 3, 2, 1, {Entry{3, 3, EntryType::kNormal, "a"}, Entry{3, 4, {}, "b"}}, 4));
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].reject);
  CHECK(out[0].index == 4);
  CHECK(terms_of(*f.r) == std::vector<Term>{1, 1, 3, 3});
  CHECK(f.r->log().committed() == 4);  // min(leaderCommit, index of last new entry)
}

TEST_CASE("§5.3: an append already contained in the log changes nothing (duplicates are safe)",
          "[raft][s5.3]") {
  Lone f({1, 1, 1}, 1);
  f.r->step(app(2, 1, 1, 1, {Entry{1, 2, {}, {}}}, 1));
  CHECK(f.r->log().last_index() == 3);  // entry 3 kept: a stale append must not truncate
  CHECK(f.r->log().committed() == 1);
}

TEST_CASE("§5.3: a reject carries a hint that skips every entry of a conflicting term",
          "[raft][s5.3]") {
  // The follower holds a term-3 suffix the leader never had; the leader's entries there are term 2.
  Lone f({1, 3, 3, 3, 3}, 3);
  f.r->step(app(2, 4, 5, 2, {}));
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].reject);
  CHECK(out[0].reject_hint == 1);  // not 4: the four term-3 entries cannot match term 2
  CHECK(out[0].log_term == 1);
}

TEST_CASE(
    "§5.3: a deposed leader's uncommitted entries are overwritten and the logs converge in "
    "few round trips",
    "[raft][s5.3]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.isolate(1);
  for (int i = 0; i < 20; ++i)
    REQUIRE(c.node(1).propose("junk").status == Status::kOk);
  c.settle();
  REQUIRE(c.elect(2));
  for (int i = 0; i < 3; ++i)
    REQUIRE(c.node(2).propose("good").status == Status::kOk);
  c.settle();
  c.take_sent();
  c.heal();
  c.tick(2, 2);
  CHECK(c.raft(1).role() == Role::kFollower);
  CHECK(terms_of(c.raft(1)) == terms_of(c.raft(2)));
  for (const Entry& e : c.at(1).applied_entries)
    CHECK(e.data == "good");
  // Fast backtracking: the 20 junk entries cost a couple of rejects, not 20.
  std::size_t rejects = 0;
  for (const Message& m : c.take_sent())
    rejects += (m.type == MessageType::kAppResp && m.reject);
  CHECK(rejects <= 2);
}

TEST_CASE(
    "§5.4.2: a leader does not commit an entry of an earlier term by counting replicas "
    "(Figure 8)",
    "[raft][s5.4.2]") {
  // Node 1's log: index 1 term 1, index 2 term 2 (never committed). It wins term 3.
  Lone l({1, 2}, 2);
  while (l.r->role() != Role::kCandidate)
    l.r->tick();
  REQUIRE(l.r->term() == 3);
  Message grant;
  grant.type = MessageType::kVoteResp;
  grant.from = 2;
  grant.to = 1;
  grant.term = 3;
  l.r->step(grant);
  REQUIRE(l.r->role() == Role::kLeader);
  l.persist();  // its blank entry (index 3, term 3) is durable
  l.take();
  Message ack;
  ack.type = MessageType::kAppResp;
  ack.from = 2;
  ack.to = 1;
  ack.term = 3;
  ack.index = 2;  // node 2 stored index 2 (term 2): a majority holds it...
  l.r->step(ack);
  CHECK(l.r->log().committed() == 0);  // ...but it is not from term 3: not committed
  ack.index = 3;
  l.r->step(ack);
  CHECK(l.r->log().committed() == 3);  // the term-3 entry commits, and index 2 with it
}

TEST_CASE(
    "§10.2.1: the leader sends appends before its own write and counts itself only once "
    "durable",
    "[raft][s10.2.1]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.hold(1);
  c.isolate(3);
  REQUIRE(c.node(1).propose("x").status == Status::kOk);
  Ready rd = c.node(1).ready();
  REQUIRE(rd.entries.size() == 1);
  // The append is among the messages that may leave before the disk write.
  REQUIRE(count_type(rd.messages, MessageType::kApp) >= 1);
  Index before = c.raft(1).log().committed();
  for (const Message& m : rd.messages) {
    if (m.to == 2) c.deliver(m);
  }
  c.settle();  // node 2 stores and acks; node 1 steps the ack while its own write is pending
  CHECK(c.raft(1).tracker().progress(2)->match == rd.entries[0].index);
  CHECK(c.raft(1).log().committed() == before);  // 1 of 3 durable copies (node 2) is no majority
  c.persist_and_advance(1, std::move(rd));
  CHECK(c.raft(1).log().committed() == before + 1);  // node 1's own write is the second ack
  c.release(1);
  c.settle();
  REQUIRE(c.at(1).applied_entries.size() == 1);
}

TEST_CASE("§7: a follower behind the leader's compacted log gets a snapshot, then the log",
          "[raft][s7]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.isolate(3);
  for (int i = 0; i < 30; ++i)
    REQUIRE(c.node(1).propose("e" + std::to_string(i)).status == Status::kOk);
  c.settle();
  Index snap = c.compact(1, c.at(1).applied - 5);  // keep a 5-entry tail
  c.take_sent();
  c.heal();
  c.tick(1, 3);
  auto sent = c.take_sent();
  CHECK(count_type(sent, MessageType::kSnap) == 1);
  CHECK(c.at(3).storage.snapshot().value.metadata.index == snap);
  CHECK(c.at(3).applied == c.at(1).applied);
  CHECK(c.raft(3).log().last_index() == c.raft(1).log().last_index());
}

TEST_CASE("§7: a follower within the kept tail catches up from the log, without a snapshot",
          "[raft][s7]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.settle();
  c.isolate(3);
  for (int i = 0; i < 5; ++i)
    REQUIRE(c.node(1).propose("e").status == Status::kOk);
  c.settle();
  c.compact(1, c.at(3).applied);  // everything node 3 has is compacted, nothing it lacks
  c.take_sent();
  c.heal();
  c.tick(1, 3);
  CHECK(count_type(c.take_sent(), MessageType::kSnap) == 0);
  CHECK(c.at(3).applied == c.at(1).applied);
}

TEST_CASE("flow control: appends respect the in-flight cap and the message size limit",
          "[raft][s5.3]") {
  TestCluster c(3, [](Config& cfg) {
    plain(cfg);
    cfg.max_inflight_msgs = 2;
    cfg.max_size_per_msg = 100;  // ~3 small entries
  });
  REQUIRE(c.elect(1));
  c.settle();
  c.drop(2, 1);  // node 2's acks are lost: its pipeline fills up
  c.take_sent();
  for (int i = 0; i < 20; ++i) {
    REQUIRE(c.node(1).propose("data-" + std::to_string(i)).status == Status::kOk);
    c.settle();
  }
  std::size_t to2 = 0, to3 = 0;
  for (const Message& m : c.take_sent()) {
    if (m.type != MessageType::kApp || m.entries.empty()) continue;
    std::uint64_t size = 0;
    for (const Entry& e : m.entries)
      size += entry_size(e);
    CHECK((m.entries.size() == 1 || size <= 100));
    (m.to == 2 ? to2 : to3) += 1;
  }
  CHECK(to2 == 2);   // pipelined up to the cap, then paused
  CHECK(to3 >= 20);  // node 3 acks and keeps receiving
  CHECK(c.at(3).applied_entries.size() == 20);
}

TEST_CASE("§5.3: a proposal batch is replicated in one append per follower and applied in order",
          "[raft][s5.3]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.take_sent();
  ProposeResult r = c.node(1).propose_batch({"a", "b", "c"});
  REQUIRE(r.status == Status::kOk);
  c.settle();
  std::size_t apps_with_entries = 0;
  for (const Message& m : c.take_sent()) {
    if (m.type == MessageType::kApp && !m.entries.empty()) {
      ++apps_with_entries;
      CHECK(m.entries.size() == 3);
    }
  }
  CHECK(apps_with_entries == 2);
  for (NodeId id : {1, 2, 3}) {
    REQUIRE(c.at(id).applied_entries.size() == 3);
    CHECK(c.at(id).applied_entries[2].data == "c");
    CHECK(c.at(id).applied_entries[2].index == r.index);
  }
  CHECK(c.node(2).propose_batch({"x"}).status == Status::kNotLeader);
}

namespace {

void deferred_commit(Config& c) {
  plain(c);
  c.defer_commit_notice = true;
}

// The appends a settle() sent, split by whether they carried entries.
std::pair<int, int> appends_with_and_without_entries(TestCluster& c) {
  std::pair<int, int> n{0, 0};
  for (const Message& m : c.take_sent()) {
    if (m.type != MessageType::kApp) continue;
    ++(m.entries.empty() ? n.second : n.first);
  }
  return n;
}

}  // namespace

TEST_CASE(
    "commit notice: by default a commit is told to every follower at once, in an empty append",
    "[raft][s5.3]") {
  TestCluster c(3, plain);
  REQUIRE(c.elect(1));
  c.settle();
  c.take_sent();
  ProposeResult r = c.node(1).propose("a");
  c.settle();
  CHECK(appends_with_and_without_entries(c) == std::pair{2, 2});
  CHECK(c.raft(2).log().committed() == r.index);
  CHECK_FALSE(c.node(1).has_unsent_commit());  // nothing to tell: sent_commit is tracked anyway
}

TEST_CASE(
    "commit notice (defer_commit_notice): a write costs one append per follower, and the commit "
    "index follows with notify_commit, the next append or the next heartbeat",
    "[raft][s5.3]") {
  TestCluster c(3, deferred_commit);
  REQUIRE(c.elect(1));
  c.tick(1);  // the heartbeat tells the followers the commit of the leader's first entry
  c.take_sent();

  ProposeResult a = c.node(1).propose("a");
  c.settle();
  CHECK(appends_with_and_without_entries(c) == std::pair{2, 0});
  CHECK(c.raft(1).log().committed() == a.index);
  for (NodeId id : {2, 3}) {
    CHECK(c.raft(id).log().committed() == a.index - 1);  // stored, not yet known committed
    CHECK(c.at(id).applied_entries.empty());
  }
  CHECK(c.node(1).has_unsent_commit());
  CHECK_FALSE(c.node(2).has_unsent_commit());  // a follower has nobody to tell

  SECTION("notify_commit sends the empty appends") {
    c.node(1).notify_commit();
    c.settle();
    CHECK(appends_with_and_without_entries(c) == std::pair{0, 2});
    for (NodeId id : {2, 3}) {
      REQUIRE(c.at(id).applied_entries.size() == 1);
      CHECK(c.at(id).applied_entries[0].data == "a");
    }
    CHECK_FALSE(c.node(1).has_unsent_commit());
  }
  SECTION("the next write's append carries it") {
    ProposeResult b = c.node(1).propose("b");
    c.settle();
    CHECK(appends_with_and_without_entries(c) == std::pair{2, 0});
    for (NodeId id : {2, 3}) {
      REQUIRE(c.at(id).applied_entries.size() == 1);
      CHECK(c.raft(id).log().committed() == b.index - 1);
    }
    CHECK(c.node(1).has_unsent_commit());  // and now "b" waits for its notice
  }
  SECTION("a heartbeat carries it") {
    c.tick(1);
    for (NodeId id : {2, 3})
      CHECK(c.at(id).applied_entries.size() == 1);
    CHECK_FALSE(c.node(1).has_unsent_commit());
  }
}

TEST_CASE(
    "commit notice (defer_commit_notice): a follower the leader cannot send to is not waited for",
    "[raft][s5.3]") {
  TestCluster c(3, [](Config& cfg) {
    deferred_commit(cfg);
    cfg.max_inflight_msgs = 1;
  });
  REQUIRE(c.elect(1));
  c.tick(1);
  c.isolate(3);
  ProposeResult a = c.node(1).propose("a");  // 3 never answers: its one in-flight slot stays full
  c.settle();
  REQUIRE(c.raft(1).log().committed() == a.index);
  REQUIRE(c.raft(1).tracker().progress(3)->is_paused());
  CHECK(c.node(1).has_unsent_commit());  // 2 is still to be told
  c.node(1).notify_commit();
  c.settle();
  CHECK(c.raft(2).log().committed() == a.index);
  // 3 cannot be sent anything until it answers, so the application is not asked to keep
  // trying (which would wake it over and over while 3 is down).
  CHECK_FALSE(c.node(1).has_unsent_commit());
}
