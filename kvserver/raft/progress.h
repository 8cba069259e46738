// Progress: what a leader knows about one follower's log, and how it paces replication to it;
// ProgressTracker: the membership (voters and learners) with one Progress each, and quorum math.
//
// Replication states (as in etcd-io/raft's design):
//   kProbe      we do not know where the follower's log ends: one AppendEntries at a time, then
//               wait for the answer (or the next heartbeat), backing off with the reject hint;
//   kReplicate  the follower accepted: pipeline appends optimistically (next_ runs ahead of match_)
//               up to max_inflight messages not yet acknowledged;
//   kSnapshot   the follower needs entries we compacted: one InstallSnapshot, then wait.
// Invariants: match < next; in kReplicate every in-flight message's last index is > match.
// Thread-safety: none; owned by one Raft.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <vector>

#include "kvserver/raft/types.h"

namespace raft {

// A ring of the last index of each AppendEntries in flight, oldest first; capped.
class Inflights {
 public:
  explicit Inflights(std::size_t cap) : cap_(cap) {}
  bool full() const { return buf_.size() - start_ >= cap_; }
  std::size_t count() const { return buf_.size() - start_; }
  void add(Index last);
  void free_le(Index to);  // an ack up to `to` frees every message ending at or before it
  void free_first_one();
  void reset() {
    buf_.clear();
    start_ = 0;
  }

 private:
  std::size_t cap_;
  std::vector<Index> buf_;  // [start_, end) are live; compacted lazily to stay amortised O(1)
  std::size_t start_ = 0;
};

enum class ProgressState : std::uint8_t { kProbe, kReplicate, kSnapshot };

struct Progress {
  explicit Progress(std::size_t max_inflight) : inflights(max_inflight) {}

  Index match = 0;
  Index next = 1;
  ProgressState state = ProgressState::kProbe;
  bool probe_sent = false;       // kProbe: an append is out, wait for its answer or a heartbeat
  Index pending_snapshot = 0;    // kSnapshot: the index of the snapshot sent
  int snapshot_elapsed = 0;      // kSnapshot: ticks since; a lost snapshot is retried
  bool recent_active = false;    // heard from since the last check-quorum round
  Index match_at_heartbeat = 0;  // kReplicate: match at the previous heartbeat answer
  Index sent_commit = 0;         // the highest commit index an append or heartbeat carried to it
  bool is_learner = false;
  Inflights inflights;

  void become_probe();
  void become_replicate();
  void become_snapshot(Index snapshot_index);
  // An ack up to n: returns true if it told us something new.
  bool maybe_update(Index n);
  // A reject of the append whose prevLogIndex was `rejected`; `hint` is where to retry.
  // Returns false for a stale reject (one we already acted on).
  bool maybe_decrease_to(Index rejected, Index hint);
  // After sending entries up to `last` (or an empty probe).
  void sent_entries(Index last, bool had_entries);
  bool is_paused() const;
};

class ProgressTracker {
 public:
  explicit ProgressTracker(std::size_t max_inflight) : max_inflight_(max_inflight) {}

  void reset(const ConfState& cs, Index next);  // fresh progress for every member
  ConfState conf_state() const;
  const std::set<NodeId>& voters() const { return voters_; }
  const std::set<NodeId>& learners() const { return learners_; }
  bool is_voter(NodeId id) const { return voters_.count(id) > 0; }
  bool is_member(NodeId id) const { return progress_.count(id) > 0; }
  Progress* progress(NodeId id);
  std::map<NodeId, Progress>& all() { return progress_; }
  const std::map<NodeId, Progress>& all() const { return progress_; }

  void add_voter(NodeId id, Index next);
  void add_learner(NodeId id, Index next);
  void remove(NodeId id);

  std::size_t quorum() const { return voters_.size() / 2 + 1; }
  // The highest index a majority of voters has matched (§5.3, Figure 2 "N such that a majority of
  // matchIndex[i] >= N"); 0 with no voters.
  Index committed_index() const;

  // Elections: record a vote and count.
  enum class VoteResult { kPending, kWon, kLost };
  void reset_votes() { votes_.clear(); }
  void record_vote(NodeId id, bool granted);
  VoteResult tally() const;

  // Check-quorum: did a majority of voters (counting `self`) talk to us since the last call?
  // Clears every recent_active flag for the next round.
  bool quorum_active(NodeId self);

 private:
  std::size_t max_inflight_;
  std::set<NodeId> voters_;
  std::set<NodeId> learners_;
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, bool> votes_;
};

}  // namespace raft
