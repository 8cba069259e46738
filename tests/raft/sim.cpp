#include "tests/raft/sim.h"

#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <vector>

#include "kvserver/raft/codec.h"
#include "kvserver/raft/memory_storage.h"
#include "kvserver/raft/node.h"
#include "tests/raft/sim_checker.h"

namespace raftsim {
namespace {

using raft::Entry;
using raft::Index;
using raft::Message;
using raft::NodeId;
using raft::Term;

constexpr std::uint64_t kTickMs = 10;
constexpr Index kSnapshotEvery = 40;  // entries applied between snapshots (small: exercise §7)
constexpr Index kKeepTail = 15;       // entries kept behind a snapshot for slow followers

enum class EventKind { kDeliver, kTick, kSyncDone, kRestart, kClient, kFault, kDepose };

struct Event {
  std::uint64_t time;
  std::uint64_t seq;
  EventKind kind;
  NodeId node;
  std::uint64_t incarnation;
  Message msg;
};

struct EventLater {
  bool operator()(const Event& a, const Event& b) const {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
  }
};

struct PendingRead {
  std::string ctx;
  Index acked_before_start;
  Index read_index = 0;
  bool have_index = false;
};

struct SimNode {
  NodeId id = 0;
  bool up = false;
  bool removed = false;  // shut down for good after its removal committed
  std::uint64_t incarnation = 0;
  raft::MemoryStorage disk;  // only what a synced Ready wrote
  std::unique_ptr<raft::RawNode> raw;
  std::optional<raft::Ready> syncing;  // a Ready whose disk write is in progress
  Index applied = 0;
  std::uint64_t hash = 0;
  raft::ConfState conf;
  Term seen_leader_term = 0;
  std::map<std::string, PendingRead> reads;
  std::map<Index, std::uint64_t> proposals;  // index -> proposal id proposed here (this term)
};

std::string encode_state(Index applied, std::uint64_t hash) {
  return std::to_string(applied) + ":" + std::to_string(hash);
}

std::uint64_t decode_hash(const std::string& data) {
  return std::stoull(data.substr(data.find(':') + 1));
}

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : opt_(o), rng_(o.seed) {}

  SimResult run() {
    SimResult res;
    try {
      bootstrap();
      while (steps_ < opt_.steps)
        step_once(true);
      quiet_phase();
    } catch (const SimFailure& f) {
      res.ok = false;
      res.failure = f.what();
    }
    res.steps = steps_;
    res.acked = checker_.acked();
    res.reads = checker_.reads();
    res.elections = elections_;
    res.crashes = crashes_;
    res.conf_changes = conf_changes_;
    res.snapshots_sent = snapshots_sent_;
    return res;
  }

 private:
  std::uint64_t rand(std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  void schedule(std::uint64_t delay, EventKind kind, NodeId node, Message msg = {}) {
    std::uint64_t inc = nodes_.count(node) ? nodes_[node]->incarnation : 0;
    queue_.push(Event{now_ + delay, seq_++, kind, node, inc, std::move(msg)});
  }

  void bootstrap() {
    const std::uint64_t sizes[] = {30, 100, 400, 4000};
    const std::size_t inflights[] = {1, 2, 8, 64};
    max_size_per_msg_ = sizes[rand(4)];
    max_inflight_ = inflights[rand(4)];
    // Half the seeds run as kvserver does, telling followers a commit index late
    // (Config::defer_commit_notice): it must not matter to any invariant.
    defer_commit_notice_ = rand(2) == 1;
    raft::ConfState cs;
    for (int i = 1; i <= opt_.nodes; ++i)
      cs.voters.push_back(static_cast<NodeId>(i));
    if (chance(0.5)) {
      // Like kvserver's node loop (and etcd): every member starts with the same committed but
      // unapplied AddVoter entries at indexes 1..n; applying them sets the membership.
      checker_.set_base(0, 0, 0);
      std::vector<Entry> ents;
      for (NodeId v : cs.voters) {
        raft::ConfChange cc{raft::ConfChangeType::kAddVoter, v, {}};
        ents.push_back(Entry{1, v, raft::EntryType::kConfChange, raft::encode_conf_change(cc)});
      }
      for (NodeId id : cs.voters) {
        SimNode& n = add_node(id);
        n.disk.append(ents);
        n.disk.set_hard_state(raft::HardState{1, raft::kNoNode, ents.size()});
        start(n);
      }
    } else {
      Entry base;  // the bootstrap state is "index 1, term 1" with a fixed hash
      base.index = 1;
      base.term = 1;
      std::uint64_t h = chain_hash(0, base);
      checker_.set_base(1, 1, h);
      raft::Snapshot snap;
      snap.metadata = {1, 1, cs};
      snap.data = encode_state(1, h);
      for (NodeId id : cs.voters) {
        SimNode& n = add_node(id);
        n.disk.apply_snapshot(snap);
        n.disk.set_hard_state(raft::HardState{1, raft::kNoNode, 1});
        start(n);
      }
    }
    next_id_ = static_cast<NodeId>(opt_.nodes + 1);
    schedule(1, EventKind::kClient, 0);
    schedule(50, EventKind::kFault, 0);
  }

  SimNode& add_node(NodeId id) {
    auto n = std::make_unique<SimNode>();
    n->id = id;
    SimNode& ref = *n;
    nodes_[id] = std::move(n);
    return ref;
  }

  void start(SimNode& n) {
    ++n.incarnation;
    n.up = true;
    n.syncing.reset();
    n.reads.clear();
    n.proposals.clear();
    raft::Snapshot snap = n.disk.snapshot().value;
    n.applied = snap.metadata.index;
    n.hash = snap.empty() ? 0 : decode_hash(snap.data);
    n.conf = snap.metadata.conf_state;
    raft::Config c;
    c.id = n.id;
    c.election_tick = 10;
    c.heartbeat_tick = 2;
    c.storage = &n.disk;
    c.applied = n.applied;
    // Small messages and pipelines, varied per seed: acks then land between any two entries,
    // which is where commit-rule bugs (Figure 8) show.
    c.max_size_per_msg = max_size_per_msg_;
    c.max_inflight_msgs = max_inflight_;
    c.defer_commit_notice = defer_commit_notice_;
    c.seed = opt_.seed * 1000003 + n.id * 7919 + n.incarnation;
    n.raw = std::make_unique<raft::RawNode>(c);
    schedule(1 + rand(kTickMs), EventKind::kTick, n.id);
  }

  void crash(SimNode& n) {
    // Everything not synced is gone: the Ready being written, the app state, pending reads.
    n.up = false;
    n.raw.reset();
    n.syncing.reset();
    ++n.incarnation;
    ++crashes_;
  }

  // ---- network ----
  void send(const Message& m) {
    if (m.type == raft::MessageType::kSnap) ++snapshots_sent_;
    if (!faults_on_) {
      schedule(1 + rand(5), EventKind::kDeliver, m.to, m);
      return;
    }
    if (chance(0.03)) return;  // dropped
    int copies = chance(0.03) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      std::uint64_t delay = chance(0.05) ? 20 + rand(60) : 1 + rand(8);  // occasional long delay
      schedule(delay, EventKind::kDeliver, m.to, m);
    }
  }

  // What a real transport reports back to the sender: snapshot delivery, and (sometimes, as a
  // connection failure would) an unreachable peer.
  void transport_feedback(const Message& m, bool delivered) {
    auto it = nodes_.find(m.from);
    if (it == nodes_.end() || !it->second->up) return;
    raft::RawNode& sender = *it->second->raw;
    if (m.type == raft::MessageType::kSnap) {
      sender.report_snapshot(m.to, delivered);
    } else if (!delivered && chance(0.3)) {
      sender.report_unreachable(m.to);
    } else {
      return;
    }
    pump(*it->second);
  }

  bool reachable(NodeId from, NodeId to) const {
    return !isolated_.count(from) && !isolated_.count(to);
  }

  // ---- one event ----
  void step_once(bool faults) {
    faults_on_ = faults;
    if (queue_.empty()) throw SimFailure("event queue ran dry");
    Event ev = queue_.top();
    queue_.pop();
    now_ = ev.time;
    ++steps_;
    switch (ev.kind) {
      case EventKind::kDeliver: {
        auto it = nodes_.find(ev.node);
        bool ok = it != nodes_.end() && it->second->up && reachable(ev.msg.from, ev.node);
        transport_feedback(ev.msg, ok);
        if (!ok) break;
        if (opt_.verbose) trace("deliver", ev.msg);
        it->second->raw->step(ev.msg);
        pump(*it->second);
        break;
      }
      case EventKind::kTick: {
        SimNode& n = *nodes_[ev.node];
        if (!n.up || ev.incarnation != n.incarnation) break;
        n.raw->tick();
        // kvserver's node sends a deferred commit notice about a millisecond after the commit,
        // well within a tick; here it comes at a random tick, or with the next heartbeat.
        if (n.raw->has_unsent_commit() && chance(0.5)) n.raw->notify_commit();
        schedule(kTickMs, EventKind::kTick, n.id);
        pump(n);
        break;
      }
      case EventKind::kSyncDone: {
        SimNode& n = *nodes_[ev.node];
        if (!n.up || ev.incarnation != n.incarnation) break;
        finish_ready(n);
        pump(n);
        break;
      }
      case EventKind::kRestart: {
        SimNode& n = *nodes_[ev.node];
        if (n.up || n.removed) break;
        start(n);
        pump(n);
        break;
      }
      case EventKind::kClient:
        client_op();
        schedule(1 + rand(4), EventKind::kClient, 0);
        break;
      case EventKind::kDepose: {
        // A young leader loses its seat mid-replication: its log holds entries of several
        // terms on a minority, the raw material of Figure 8.
        SimNode& n = *nodes_[ev.node];
        if (!faults || !n.up || ev.incarnation != n.incarnation) break;
        if (n.raw->raft().role() != raft::Role::kLeader) break;
        if (chance(0.5)) {
          isolated_.insert(n.id);
        } else {
          crash(n);
          schedule(20 + rand(100), EventKind::kRestart, n.id);
        }
        break;
      }
      case EventKind::kFault:
        if (faults) fault_op();
        schedule(10 + rand(40), EventKind::kFault, 0);
        break;
    }
    check_leaders();
  }

  void trace(const char* what, const Message& m) {
    std::printf("t=%llu %s %s %llu->%llu term=%llu idx=%llu lt=%llu n=%zu commit=%llu rej=%d\n",
                (unsigned long long)now_, what, raft::to_string(m.type), (unsigned long long)m.from,
                (unsigned long long)m.to, (unsigned long long)m.term, (unsigned long long)m.index,
                (unsigned long long)m.log_term, m.entries.size(), (unsigned long long)m.commit,
                m.reject ? 1 : 0);
  }

  // Processes Readys until the node has none or is waiting for its disk.
  void pump(SimNode& n) {
    while (n.up && !n.syncing && n.raw->has_ready()) {
      raft::Ready rd = n.raw->ready();
      for (const Message& m : rd.messages)
        send(m);  // thesis §10.2.1: before our own write
      // Like kvserver's Node (and etcd), apply committed entries before the disk write: the
      // checker then sees a crash between the two (the entries are durable on a quorum only).
      if (rd.snapshot.empty()) {
        for (const Entry& e : rd.committed_entries)
          apply(n, e);
        rd.committed_entries.clear();
      }
      bool slow = rd.must_sync() && faults_on_;
      n.syncing = std::move(rd);
      if (slow) {
        schedule(rand(4), EventKind::kSyncDone, n.id);
        return;
      }
      finish_ready(n);
    }
  }

  void finish_ready(SimNode& n) {
    raft::Ready rd = std::move(*n.syncing);
    n.syncing.reset();
    // The disk write + fsync.
    if (!rd.snapshot.empty()) n.disk.apply_snapshot(rd.snapshot);
    if (!rd.entries.empty()) {
      Index first = rd.entries.front().index;
      n.disk.append(rd.entries);
      auto prev = n.disk.term(first - 1);
      checker_.on_persisted(n.id, rd.entries, prev.ok() ? prev.value : 0);
    }
    if (rd.hard_state) n.disk.set_hard_state(*rd.hard_state);
    for (const Message& m : rd.persisted_messages)
      send(m);
    // Apply.
    if (!rd.snapshot.empty()) {
      const auto& md = rd.snapshot.metadata;
      std::uint64_t h = decode_hash(rd.snapshot.data);
      checker_.on_snapshot(n.id, md.index, md.term, h);
      n.applied = md.index;
      n.hash = h;
      n.conf = md.conf_state;
    }
    for (const Entry& e : rd.committed_entries)
      apply(n, e);
    for (const raft::ReadState& rs : rd.read_states) {
      auto it = n.reads.find(rs.request_ctx);
      if (it == n.reads.end()) continue;
      it->second.read_index = rs.index;
      it->second.have_index = true;
    }
    serve_reads(n);
    n.raw->advance();
    maybe_snapshot(n);
  }

  void apply(SimNode& n, const Entry& e) {
    n.hash = checker_.on_apply(n.id, n.applied, n.hash, e);
    n.applied = e.index;
    if (e.type == raft::EntryType::kConfChange) {
      raft::ConfChange cc;
      if (!raft::decode_conf_change(e.data, &cc)) throw SimFailure("undecodable conf change");
      n.conf = n.raw->apply_conf_change(cc);
      if (cc.type == raft::ConfChangeType::kRemoveNode) to_shut_down_.insert(cc.node_id);
    }
    auto it = n.proposals.find(e.index);
    if (it != n.proposals.end()) {
      if (e.data == "p" + std::to_string(it->second)) checker_.on_ack(it->second, e.index);
      n.proposals.erase(it);
    }
  }

  void serve_reads(SimNode& n) {
    for (auto it = n.reads.begin(); it != n.reads.end();) {
      if (it->second.have_index && n.applied >= it->second.read_index) {
        checker_.on_read(n.id, it->second.read_index, it->second.acked_before_start, n.applied);
        it = n.reads.erase(it);
      } else {
        ++it;
      }
    }
  }

  void maybe_snapshot(SimNode& n) {
    Index snap = n.disk.snapshot().value.metadata.index;
    if (n.applied < snap + kSnapshotEvery) return;
    n.disk.create_snapshot(n.applied, n.conf, encode_state(n.applied, n.hash));
    if (n.applied > kKeepTail) n.disk.compact(n.applied - kKeepTail);
  }

  // ---- checks after every step ----
  void check_leaders() {
    for (NodeId id : to_shut_down_) {
      auto it = nodes_.find(id);
      if (it != nodes_.end() && !it->second->removed) {
        if (it->second->up) crash(*it->second);
        it->second->removed = true;
      }
    }
    to_shut_down_.clear();
    for (auto& [id, n] : nodes_) {
      if (!n->up) continue;
      const raft::Raft& r = n->raw->raft();
      if (r.role() != raft::Role::kLeader || n->seen_leader_term == r.term()) continue;
      n->seen_leader_term = r.term();
      ++elections_;
      if (faults_on_ && chance(0.6)) schedule(rand(20), EventKind::kDepose, id);
      checker_.on_leader(
          id, r.term(),
          [&](Index i) -> std::optional<Term> {
            auto t = r.log().term(i);
            return t.ok() ? std::optional<Term>(t.value) : std::nullopt;
          },
          r.log().first_index());
    }
  }

  SimNode* leader() {
    SimNode* best = nullptr;
    for (auto& [id, n] : nodes_) {
      if (!n->up || n->raw->raft().role() != raft::Role::kLeader) continue;
      if (best == nullptr || n->raw->raft().term() > best->raw->raft().term()) best = n.get();
    }
    return best;
  }

  SimNode* any_leader() {
    std::vector<SimNode*> ls;
    for (auto& [id, n] : nodes_) {
      if (n->up && n->raw->raft().role() == raft::Role::kLeader) ls.push_back(n.get());
    }
    return ls.empty() ? nullptr : ls[rand(ls.size())];
  }

  SimNode* random_up_node() {
    std::vector<SimNode*> up;
    for (auto& [id, n] : nodes_) {
      if (n->up) up.push_back(n.get());
    }
    return up.empty() ? nullptr : up[rand(up.size())];
  }

  // ---- client load ----
  void client_op() {
    if (chance(0.7)) {
      // Mostly the newest leader; sometimes any node that believes it leads (a stale leader in a
      // minority grows a log suffix that a later leader must overwrite: Figure 8's ingredients).
      SimNode* l = chance(0.6) ? leader() : chance(0.7) ? any_leader() : random_up_node();
      if (l == nullptr) return;
      if (chance(0.2)) {  // a group of proposals in one call
        std::vector<std::uint64_t> pids;
        std::vector<std::string> data;
        for (std::uint64_t k = 0, n = 1 + rand(4); k < n; ++k) {
          pids.push_back(next_proposal_++);
          data.push_back("p" + std::to_string(pids.back()));
        }
        raft::ProposeResult r = l->raw->propose_batch(std::move(data));
        if (r.status == raft::Status::kOk) {
          for (std::size_t k = 0; k < pids.size(); ++k) {
            l->proposals[r.index - pids.size() + 1 + k] = pids[k];
          }
        }
      } else {
        std::uint64_t pid = next_proposal_++;
        raft::ProposeResult r = l->raw->propose("p" + std::to_string(pid));
        if (r.status == raft::Status::kOk) l->proposals[r.index] = pid;
      }
      pump(*l);
    } else {
      SimNode* n = random_up_node();
      if (n == nullptr) return;
      std::string ctx = "r" + std::to_string(next_read_++);
      if (n->raw->read_index(ctx) == raft::Status::kOk) {
        n->reads[ctx] = PendingRead{ctx, checker_.max_acked_index()};
      }
      pump(*n);
    }
  }

  // ---- faults, membership, transfers ----
  void fault_op() {
    switch (rand(9)) {
      case 7: {  // the leader is the most interesting node to lose
        SimNode* l = leader();
        if (l == nullptr) break;
        if (chance(0.5)) {
          isolated_.insert(l->id);
        } else {
          crash(*l);
          schedule(20 + rand(200), EventKind::kRestart, l->id);
        }
        break;
      }
      case 0: {  // isolate one more node
        SimNode* n = random_up_node();
        if (n != nullptr) isolated_.insert(n->id);
        break;
      }
      case 1:
      case 2: {  // heal one node, in random order
        if (isolated_.empty()) break;
        auto it = isolated_.begin();
        std::advance(it, static_cast<long>(rand(isolated_.size())));
        isolated_.erase(it);
        break;
      }
      case 3: {  // crash; restart later
        SimNode* n = random_up_node();
        if (n == nullptr) break;
        crash(*n);
        schedule(20 + rand(200), EventKind::kRestart, n->id);
        break;
      }
      case 4:
        conf_change_op();
        break;
      case 5: {
        SimNode* l = leader();
        if (l == nullptr) break;
        const std::set<NodeId>& vs = l->raw->mutable_raft().tracker().voters();
        std::vector<NodeId> voters(vs.begin(), vs.end());
        if (voters.empty()) break;
        (void)l->raw->transfer_leader(voters[rand(voters.size())]);
        pump(*l);
        break;
      }
      default:
        break;
    }
  }

  void conf_change_op() {
    SimNode* l = leader();
    if (l == nullptr) return;
    raft::ProgressTracker& tr = l->raw->mutable_raft().tracker();
    std::vector<NodeId> voters(tr.voters().begin(), tr.voters().end());
    std::vector<NodeId> learners(tr.learners().begin(), tr.learners().end());
    raft::ConfChange cc;
    std::size_t max_voters = static_cast<std::size_t>(opt_.nodes) + 1;
    if (!learners.empty()) {
      cc.type = raft::ConfChangeType::kAddVoter;  // promote
      cc.node_id = learners[rand(learners.size())];
    } else if (voters.size() < max_voters && chance(0.5)) {
      cc.type = chance(0.7) ? raft::ConfChangeType::kAddLearner : raft::ConfChangeType::kAddVoter;
      cc.node_id = next_id_;
    } else if (voters.size() > 3) {
      cc.type = raft::ConfChangeType::kRemoveNode;
      cc.node_id = voters[rand(voters.size())];  // may be the leader itself
    } else {
      return;
    }
    raft::ProposeResult r = l->raw->propose_conf_change(cc);
    if (r.status != raft::Status::kOk) return;
    ++conf_changes_;
    if (cc.node_id == next_id_) {
      // The new member starts empty and learns everything from the leader (log or snapshot).
      start(add_node(next_id_++));
    }
    pump(*l);
  }

  // ---- liveness at the end ----
  void quiet_phase() {
    isolated_.clear();
    for (auto& [id, n] : nodes_) {
      if (!n->up && !n->removed) start(*n);
    }
    std::uint64_t deadline = now_ + 20000;  // virtual ms
    NodeId probe_node = raft::kNoNode;      // who proposed the probe entry, and where it went
    Index probe_index = 0;
    while (now_ < deadline) {
      step_once(false);
      SimNode* l = leader();
      if (l == nullptr) continue;
      if (probe_node != l->id) probe_node = raft::kNoNode;  // leader changed: propose again
      if (probe_node == raft::kNoNode) {
        raft::ProposeResult r = l->raw->propose("quiet");
        if (r.status == raft::Status::kOk) {
          probe_node = l->id;
          probe_index = r.index;
        }
        pump(*l);
        continue;
      }
      // Done when every member of the leader's configuration applied the probe entry (which,
      // by state machine safety, means they all applied the same history up to it).
      bool all = l->raw->raft().term() > 0;
      for (NodeId id : l->conf.voters)
        all = all && converged(id, probe_index);
      for (NodeId id : l->conf.learners)
        all = all && converged(id, probe_index);
      if (all && l->applied >= probe_index) return;
    }
    throw SimFailure(
        "liveness: the cluster did not converge within 20 s of virtual time after "
        "the faults stopped");
  }

  bool converged(NodeId id, Index index) {
    auto it = nodes_.find(id);
    return it != nodes_.end() && it->second->up && it->second->applied >= index;
  }

  SimOptions opt_;
  std::uint64_t max_size_per_msg_ = 0;
  std::size_t max_inflight_ = 0;
  bool defer_commit_notice_ = false;
  std::mt19937_64 rng_;
  SimChecker checker_;
  std::map<NodeId, std::unique_ptr<SimNode>> nodes_;
  std::priority_queue<Event, std::vector<Event>, EventLater> queue_;
  std::set<NodeId> isolated_;
  std::set<NodeId> to_shut_down_;
  std::uint64_t now_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t steps_ = 0;
  bool faults_on_ = true;
  NodeId next_id_ = 0;
  std::uint64_t next_proposal_ = 1;
  std::uint64_t next_read_ = 1;
  std::uint64_t elections_ = 0;
  std::uint64_t crashes_ = 0;
  std::uint64_t conf_changes_ = 0;
  std::uint64_t snapshots_sent_ = 0;
};

}  // namespace

SimResult run_seed(const SimOptions& options) {
  return Simulation(options).run();
}

}  // namespace raftsim
