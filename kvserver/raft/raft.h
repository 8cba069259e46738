// Raft: the consensus state machine of one node (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", and Ongaro's thesis, "Consensus: Bridging Theory and
// Practice"; sections cited as §5.x for the paper and thesis §x for the thesis).
//
// Pure: no threads, no I/O, no clock, no global randomness. It is driven by tick(), step(),
// propose(), propose_conf_change(), read_index() and transfer_leader(), and its outputs
// (messages to send, read states) accumulate until RawNode (node.h) collects them into a Ready.
// Most applications want RawNode, which adds the persist/apply hand-off; tests drive Raft directly.
//
// Invariants: term_ never decreases; vote_ is reset only when term_ grows; at most one vote per
// term (Figure 2); the leader never overwrites its log (§5.3); committed entries never change.
// Outputs split in two lists because persistence order matters (thesis §10.2.1): messages only a
// leader sends (appends, heartbeats, snapshots, TimeoutNow) may go out before the node's own
// disk write finishes; everything else (votes, acks) depends on state that must be durable first.
//
// Thread-safety: none; one thread drives it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kvserver/raft/config.h"
#include "kvserver/raft/log.h"
#include "kvserver/raft/message.h"
#include "kvserver/raft/progress.h"
#include "kvserver/raft/read_only.h"
#include "kvserver/raft/status.h"

namespace raft {

enum class Role : std::uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* to_string(Role r);

struct ProposeResult {
  Status status = Status::kOk;
  Index index = 0;  // where the entry went; it is committed iff this (index, term) is applied
  Term term = 0;
};

class Raft {
 public:
  explicit Raft(Config config);

  // Inputs.
  void tick();
  void step(const Message& m);
  ProposeResult propose(std::string data);
  // Proposes several entries at once, replicated in one message per follower (group commit);
  // on success `index` is the last one's index, the first is index - data.size() + 1.
  ProposeResult propose_batch(std::vector<std::string> data);
  // Thesis §4.1: one change at a time; a new one is refused until the previous one is applied.
  ProposeResult propose_conf_change(const ConfChange& cc);
  // The application calls this when it applies a committed kConfChange entry (thesis §4: the
  // change takes effect here, once committed); returns the membership now in force.
  ConfState apply_conf_change(const ConfChange& cc);
  // §6.4: asks for a read index for `ctx`; the answer arrives as a ReadState with the same ctx.
  Status read_index(std::string ctx);
  // §3.10: hand leadership to `target` (a voter).
  Status transfer_leader(NodeId target);
  // Transport feedback: a follower could not be reached / a snapshot was delivered or lost.
  void report_unreachable(NodeId id);
  void report_snapshot(NodeId id, bool delivered);
  // A peer whose application loop is too busy to step messages (a long apply) vouches that it is
  // alive in `term`. From a follower, the leader counts it for check quorum (not for ReadIndex: it
  // acknowledges no heartbeat); from the leader, a follower resets its election timer as a
  // heartbeat would (without a commit index). Any other sender or term changes nothing.
  void note_alive(NodeId from, Term term);

  // Called by RawNode when the application has made the log durable up to stable_last_index()
  // (thesis §10.2.1: the leader's own write counts like a follower's ack).
  void on_persisted();

  // Config::defer_commit_notice: whether some follower that could be sent an append has not
  // been told the current commit index, and the empty appends that tell them.
  bool has_unsent_commit() const;
  void notify_commit();

  // Outputs, drained by RawNode.
  std::vector<Message>& messages() { return msgs_; }
  std::vector<Message>& persisted_messages() { return msgs_after_persist_; }
  std::vector<ReadState>& read_states() { return read_states_; }
  bool has_output() const {
    return !msgs_.empty() || !msgs_after_persist_.empty() || !read_states_.empty();
  }

  // Observers.
  NodeId id() const { return id_; }
  Term term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId lead() const { return lead_; }
  Role role() const { return role_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  const RaftLog& log() const { return log_; }
  RaftLog& mutable_log() { return log_; }
  ProgressTracker& tracker() { return tracker_; }
  const Config& config() const { return config_; }
  bool promotable() const;

 private:
  enum class CampaignType { kPreElection, kElection, kTransfer };

  // Roles (raft.cpp).
  void reset(Term term);
  void become_follower(Term term, NodeId lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void campaign(CampaignType t);
  void hup(CampaignType t);
  bool has_unapplied_conf_changes() const;
  void tick_election();
  void tick_heartbeat();
  std::uint64_t next_random();
  void reset_randomized_election_timeout();
  void send(Message m);

  // Per-role message handling.
  void step_follower(const Message& m);
  void step_candidate(const Message& m);
  void step_leader(const Message& m);
  void handle_vote_request(const Message& m);
  bool yields_to_crossing_pre_candidate() const;
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  bool restore(const Snapshot& s);

  // Leader (raft_leader.cpp).
  Index append_entries(std::vector<Entry> ents);
  bool send_append(NodeId to, bool send_if_empty = true);
  bool send_snapshot(NodeId to, Progress* pr);
  void bcast_append();
  void bcast_heartbeat(const std::string& ctx);
  bool maybe_commit();
  void on_commit_advanced();
  void announce_commit();
  void handle_append_response(const Message& m, Progress* pr);
  void handle_heartbeat_response(const Message& m, Progress* pr);
  void handle_read_request(ReadRequest req);
  void maybe_start_read_round();
  void maybe_finish_read_round(const std::set<NodeId>& acks);
  void release_read(const ReadRequest& req, Index index);
  bool committed_entry_in_current_term() const;
  void abort_leader_transfer() { lead_transferee_ = kNoNode; }
  void send_timeout_now(NodeId to);

  Config config_;
  NodeId id_;
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId lead_ = kNoNode;
  Role role_ = Role::kFollower;
  RaftLog log_;
  ProgressTracker tracker_;
  ReadOnly read_only_;
  std::vector<ReadRequest> reads_waiting_for_commit_;  // §6.4: before the leader's first commit

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  NodeId lead_transferee_ = kNoNode;
  // Pre-vote tie-break (yields_to_crossing_pre_candidate): for how many more ticks a pre-vote we
  // granted a higher id for term_ + 1 makes us yield to it.
  int prevote_yield_ticks_ = 0;
  Index pending_conf_index_ = 0;  // a conf change at or below this index may still be unapplied
  std::uint64_t rng_state_ = 0;

  std::vector<Message> msgs_;
  std::vector<Message> msgs_after_persist_;
  std::vector<ReadState> read_states_;
};

}  // namespace raft
