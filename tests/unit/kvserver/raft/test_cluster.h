// TestCluster: an in-process Raft cluster for the paper tests, driven synchronously.
//
// Every node is a RawNode over a MemoryStorage. settle() runs the Ready/advance cycle on every
// node (persist, then apply) and delivers every message, repeatedly, until nothing moves; messages
// to or from isolated nodes, or matching a drop rule, are discarded. Time only passes through
// tick(). No mocks: these are the real core and the real in-memory storage.
//
// Thread-safety: none; one test owns one cluster.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "kvserver/raft/codec.h"
#include "kvserver/raft/memory_storage.h"
#include "kvserver/raft/node.h"

namespace rafttest {

using namespace raft;

struct TestNode {
  MemoryStorage storage;
  std::unique_ptr<RawNode> node;
  ConfState conf;
  Index applied = 0;
  std::vector<Entry> applied_entries;  // normal entries with data, in order
  std::vector<ReadState> read_states;
  bool up = true;
};

class TestCluster {
 public:
  using Tweak = std::function<void(Config&)>;

  enum class Bootstrap { kSnapshot, kConfChangeEntries };

  // Voters 1..n, bootstrapped from a snapshot at index 1, term 1 -- or, like etcd and kvserver's
  // node loop, from n committed-but-unapplied AddVoter entries at indexes 1..n.
  explicit TestCluster(int n, Tweak tweak = {}, Bootstrap how = Bootstrap::kSnapshot)
      : tweak_(std::move(tweak)) {
    ConfState cs;
    for (int i = 1; i <= n; ++i) {
      cs.voters.push_back(static_cast<NodeId>(i));
    }
    for (NodeId id : cs.voters) {
      TestNode& t = nodes_[id];
      if (how == Bootstrap::kConfChangeEntries) {
        std::vector<Entry> ents;
        for (NodeId v : cs.voters) {
          ents.push_back(Entry{1, v, EntryType::kConfChange,
                               encode_conf_change(ConfChange{ConfChangeType::kAddVoter, v, {}})});
        }
        t.storage.append(ents);
        t.storage.set_hard_state(HardState{1, kNoNode, ents.size()});
        start(id);
        continue;
      }
      Snapshot s;
      s.metadata = {1, 1, cs};
      t.storage.apply_snapshot(s);
      t.storage.set_hard_state(HardState{1, kNoNode, 1});
      t.conf = cs;
      t.applied = 1;
      start(id);
    }
  }

  // A node that starts empty (a new member): it learns the log and membership from the leader.
  void add_empty_node(NodeId id) { start(id); }

  Raft& raft(NodeId id) { return nodes_.at(id).node->mutable_raft(); }
  RawNode& node(NodeId id) { return *nodes_.at(id).node; }
  TestNode& at(NodeId id) { return nodes_.at(id); }
  std::vector<NodeId> ids() const {
    std::vector<NodeId> v;
    for (auto& [id, t] : nodes_)
      v.push_back(id);
    return v;
  }

  void isolate(NodeId id) { isolated_.insert(id); }
  void heal() {
    isolated_.clear();
    drops_.clear();
  }
  void drop(NodeId from, NodeId to) { drops_.insert({from, to}); }
  // A held node's Readys are left to the test (settle() skips it): see persist_and_advance().
  void hold(NodeId id) { held_.insert(id); }
  void release(NodeId id) { held_.erase(id); }
  // Sends a message as if the network delivered it (the test plays the network).
  void deliver(const Message& m) { queue_.push_back(m); }
  // What settle() does with one Ready, for a held node.
  void persist_and_advance(NodeId id, Ready rd) { finish(nodes_.at(id), std::move(rd)); }
  // Restarts a node from what its storage holds (everything persisted, nothing else).
  void restart(NodeId id) {
    TestNode& t = nodes_.at(id);
    Snapshot s = t.storage.snapshot().value;
    t.conf = s.metadata.conf_state;
    t.applied = s.metadata.index;
    start(id);
  }

  void tick(NodeId id, int n = 1) {
    for (int i = 0; i < n; ++i) {
      node(id).tick();
      settle();
    }
  }
  void tick_all(int n = 1) {
    for (int i = 0; i < n; ++i) {
      for (auto& [id, t] : nodes_) {
        if (t.up) t.node->tick();
      }
      settle();
    }
  }

  // Ticks `id` alone until it is leader (others stay idle, so nobody else campaigns).
  bool elect(NodeId id) {
    for (int i = 0; i < 100 && raft(id).role() != Role::kLeader; ++i)
      tick(id);
    return raft(id).role() == Role::kLeader;
  }

  NodeId leader() {
    NodeId best = kNoNode;
    Term t = 0;
    for (auto& [id, n] : nodes_) {
      Raft& r = n.node->mutable_raft();
      if (r.role() == Role::kLeader && r.term() >= t) {
        best = id;
        t = r.term();
      }
    }
    return best;
  }

  // Runs every node's Ready cycle and delivers messages until quiet.
  void settle() {
    for (int round = 0; round < 10000; ++round) {
      bool moved = false;
      for (auto& [id, t] : nodes_)
        moved |= process_ready(id, t);
      std::vector<Message> batch;
      batch.swap(queue_);
      for (Message& m : batch) {
        delivered_.push_back(m);
        auto it = nodes_.find(m.to);
        if (it == nodes_.end() || !it->second.up) continue;
        if (isolated_.count(m.from) || isolated_.count(m.to) || drops_.count({m.from, m.to})) {
          continue;
        }
        it->second.node->step(m);
        moved = true;
      }
      if (!moved) return;
    }
  }

  // Every message sent (delivered or dropped) since the last call.
  std::vector<Message> take_sent() {
    std::vector<Message> out;
    out.swap(delivered_);
    return out;
  }

  Index compact(NodeId id, Index index) {
    TestNode& t = nodes_.at(id);
    t.storage.create_snapshot(index, t.conf, "snap@" + std::to_string(index));
    t.storage.compact(index);
    return index;
  }

 private:
  void start(NodeId id) {
    TestNode& t = nodes_[id];
    Config c;
    c.id = id;
    c.election_tick = 10;
    c.heartbeat_tick = 1;
    c.storage = &t.storage;
    c.applied = t.applied;
    c.seed = id;
    if (tweak_) tweak_(c);
    t.node = std::make_unique<RawNode>(c);
    t.up = true;
  }

  bool process_ready(NodeId id, TestNode& t) {
    if (!t.up || held_.count(id) || !t.node->has_ready()) return false;
    Ready rd = t.node->ready();
    for (Message& m : rd.messages)
      queue_.push_back(std::move(m));
    finish(t, std::move(rd));
    return true;
  }

  void finish(TestNode& t, Ready rd) {
    if (!rd.snapshot.empty()) t.storage.apply_snapshot(rd.snapshot);
    t.storage.append(rd.entries);
    if (rd.hard_state) t.storage.set_hard_state(*rd.hard_state);
    for (Message& m : rd.persisted_messages)
      queue_.push_back(std::move(m));
    if (!rd.snapshot.empty()) {
      t.applied = rd.snapshot.metadata.index;
      t.conf = rd.snapshot.metadata.conf_state;
    }
    for (const Entry& e : rd.committed_entries) {
      t.applied = e.index;
      if (e.type == EntryType::kConfChange) {
        ConfChange cc;
        if (decode_conf_change(e.data, &cc)) t.conf = t.node->apply_conf_change(cc);
      } else if (!e.data.empty()) {
        t.applied_entries.push_back(e);
      }
    }
    for (ReadState& rs : rd.read_states)
      t.read_states.push_back(std::move(rs));
    t.node->advance();
  }

  Tweak tweak_;
  std::map<NodeId, TestNode> nodes_;
  std::vector<Message> queue_;
  std::vector<Message> delivered_;
  std::set<NodeId> isolated_;
  std::set<NodeId> held_;
  std::set<std::pair<NodeId, NodeId>> drops_;
};

// A lone Raft (id 1 of voters {1, 2, 3}) over a storage whose log has the given terms (index i
// has terms[i-1]); the test plays the other nodes by stepping messages and reading the outputs.
struct Lone {
  MemoryStorage storage;
  std::unique_ptr<Raft> r;
  Lone(std::vector<Term> terms, Term term, bool pre_vote = false) {
    storage.set_conf_state(ConfState{{1, 2, 3}, {}});
    std::vector<Entry> ents;
    for (std::size_t i = 0; i < terms.size(); ++i)
      ents.push_back(Entry{terms[i], i + 1, {}, {}});
    storage.append(ents);
    storage.set_hard_state(HardState{term, kNoNode, 0});
    Config c;
    c.id = 1;
    c.storage = &storage;
    c.pre_vote = pre_vote;
    c.check_quorum = false;
    c.seed = 1;
    r = std::make_unique<Raft>(c);
  }
  std::vector<Message> take() {
    std::vector<Message> out = r->messages();
    for (auto& m : r->persisted_messages())
      out.push_back(m);
    r->messages().clear();
    r->persisted_messages().clear();
    return out;
  }
  // What the application does with a Ready: write the unstable entries, report them durable.
  void persist() {
    storage.append(r->log().unstable_entries());
    if (!r->log().unstable_entries().empty()) {
      const Entry& last = r->log().unstable_entries().back();
      r->mutable_log().stable_to(last.index, last.term);
    }
    r->on_persisted();
  }
  // Campaigns (no pre-vote) and wins with node 2's vote.
  void become_leader() {
    while (r->role() != Role::kCandidate)
      r->tick();
    Message grant;
    grant.type = MessageType::kVoteResp;
    grant.from = 2;
    grant.to = 1;
    grant.term = r->term();
    r->step(grant);
  }
};

inline std::size_t count_type(const std::vector<Message>& ms, MessageType t) {
  std::size_t n = 0;
  for (const Message& m : ms)
    n += m.type == t ? 1 : 0;
  return n;
}

}  // namespace rafttest
