#include "kvserver/raft/node.h"

#include <cstdio>
#include <cstdlib>

namespace raft {

RawNode::RawNode(Config config) : raft_(std::move(config)) {
  prev_soft_ = soft_state();
  prev_hard_ = raft_.hard_state();
}

bool RawNode::has_ready() const {
  const RaftLog& log = raft_.log();
  return soft_state() != prev_soft_ || raft_.hard_state() != prev_hard_ ||
         !log.unstable_entries().empty() || log.unstable_snapshot().has_value() ||
         raft_.has_output() || log.has_next_committed_entries();
}

Ready RawNode::ready() {
  if (ready_out_) {
    std::fprintf(stderr, "raft: ready() called twice without advance()\n");
    std::abort();
  }
  ready_out_ = true;
  Ready rd;
  SoftState ss = soft_state();
  if (ss != prev_soft_) {
    rd.soft_state = ss;
    prev_soft_ = ss;
  }
  HardState hs = raft_.hard_state();
  if (hs != prev_hard_) {
    rd.hard_state = hs;
    prev_hard_ = hs;
  }
  const RaftLog& log = raft_.log();
  rd.entries = log.unstable_entries();
  handed_entry_index_ = rd.entries.empty() ? 0 : rd.entries.back().index;
  handed_entry_term_ = rd.entries.empty() ? 0 : rd.entries.back().term;
  if (log.unstable_snapshot()) rd.snapshot = *log.unstable_snapshot();
  handed_snapshot_index_ = rd.snapshot.metadata.index;
  rd.committed_entries = log.next_committed_entries(raft_.config().max_committed_size_per_ready);
  handed_applied_index_ = rd.committed_entries.empty() ? 0 : rd.committed_entries.back().index;
  rd.messages.swap(raft_.messages());
  rd.persisted_messages.swap(raft_.persisted_messages());
  rd.read_states.swap(raft_.read_states());
  return rd;
}

void RawNode::advance() {
  if (!ready_out_) {
    std::fprintf(stderr, "raft: advance() without ready()\n");
    std::abort();
  }
  ready_out_ = false;
  RaftLog& log = raft_.mutable_log();
  if (handed_snapshot_index_ != 0) {
    log.stable_snap_to(handed_snapshot_index_);
    if (handed_snapshot_index_ > log.applied()) log.applied_to(handed_snapshot_index_);
  }
  if (handed_entry_index_ != 0) log.stable_to(handed_entry_index_, handed_entry_term_);
  if (handed_applied_index_ != 0) log.applied_to(handed_applied_index_);
  raft_.on_persisted();
}

}  // namespace raft
