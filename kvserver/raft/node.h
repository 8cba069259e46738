// RawNode: a Raft plus the hand-off to the application, as a Ready/advance cycle.
//
// The application's loop (one thread):
//   feed inputs: tick() on a timer, step() for each received message, propose()/read_index()/...
//   if has_ready():
//     Ready rd = ready();
//     send rd.messages                       -- may go before or during the disk write (§10.2.1)
//     persist rd.snapshot, rd.entries, rd.hard_state; sync   (an entry at index i replaces every
//                                             entry >= i already stored)
//     send rd.persisted_messages             -- only now: they promise what was just persisted
//     install rd.snapshot, then apply rd.committed_entries in order (calling apply_conf_change for
//     kConfChange entries); serve rd.read_states once applied up to their index. Without a
//     snapshot, the entries may be applied before (or while) rd.entries are persisted: committed
//     means durable on a quorum, and the leader counts itself only once durable (on advance())
//     advance()
// ready() may not be called again before advance(); inputs may be fed in between.
//
// Snapshots and compaction (§7) are the application's call: every so often (e.g. each 10k applied
// entries) it saves a snapshot of its state machine at its applied index into its Storage and
// compacts the log behind it, keeping a tail (e.g. 5k entries) so followers slightly behind catch
// up from the log. The core sends that snapshot whole (one kSnap message; the transport may
// chunk it) to any follower that needs compacted entries.
//
// Thread-safety: none; one thread drives it.
#pragma once

#include <optional>
#include <vector>

#include "kvserver/raft/raft.h"

namespace raft {

struct SoftState {
  NodeId lead = kNoNode;
  Role role = Role::kFollower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

struct Ready {
  std::optional<SoftState> soft_state;  // set when leader or role changed (not persisted)
  std::optional<HardState> hard_state;  // set when it changed: persist before persisted_messages
  std::vector<Entry> entries;           // to append to the durable log
  Snapshot snapshot;                    // to persist and install (empty() if none)
  std::vector<Message> messages;
  std::vector<Message> persisted_messages;
  std::vector<Entry> committed_entries;  // to apply, in order
  std::vector<ReadState> read_states;

  // Whether the disk write must be synced before persisted_messages go out (Figure 2).
  bool must_sync() const { return hard_state.has_value() || !entries.empty() || !snapshot.empty(); }
};

class RawNode {
 public:
  explicit RawNode(Config config);

  void tick() { raft_.tick(); }
  void step(const Message& m) { raft_.step(m); }
  ProposeResult propose(std::string data) { return raft_.propose(std::move(data)); }
  ProposeResult propose_batch(std::vector<std::string> data) {
    return raft_.propose_batch(std::move(data));
  }
  ProposeResult propose_conf_change(const ConfChange& cc) { return raft_.propose_conf_change(cc); }
  ConfState apply_conf_change(const ConfChange& cc) { return raft_.apply_conf_change(cc); }
  Status read_index(std::string ctx) { return raft_.read_index(std::move(ctx)); }
  Status transfer_leader(NodeId target) { return raft_.transfer_leader(target); }
  void report_unreachable(NodeId id) { raft_.report_unreachable(id); }
  void report_snapshot(NodeId id, bool delivered) { raft_.report_snapshot(id, delivered); }
  void note_alive(NodeId from, Term term) { raft_.note_alive(from, term); }
  bool has_unsent_commit() const { return raft_.has_unsent_commit(); }
  void notify_commit() { raft_.notify_commit(); }

  bool has_ready() const;
  Ready ready();
  void advance();

  const Raft& raft() const { return raft_; }
  Raft& mutable_raft() { return raft_; }

 private:
  SoftState soft_state() const { return SoftState{raft_.lead(), raft_.role()}; }

  Raft raft_;
  SoftState prev_soft_;
  HardState prev_hard_;
  bool ready_out_ = false;  // a Ready was handed out and not yet advanced
  // What the outstanding Ready contained, to acknowledge at advance().
  Index handed_entry_index_ = 0;
  Term handed_entry_term_ = 0;
  Index handed_snapshot_index_ = 0;
  Index handed_applied_index_ = 0;
};

}  // namespace raft
