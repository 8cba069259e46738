// Raft, the leader's side: replication (§5.3) with probing, pipelining and snapshots (§7),
// commitment (§5.4.2), ReadIndex (thesis §6.4), membership changes (thesis §4.1) and leader
// transfer (thesis §3.10).
#include <algorithm>

#include "kvserver/raft/codec.h"
#include "kvserver/raft/raft.h"

namespace raft {

Index Raft::append_entries(std::vector<Entry> ents) {
  Index li = log_.last_index();
  for (std::size_t i = 0; i < ents.size(); ++i) {
    ents[i].term = term_;
    ents[i].index = li + 1 + i;
  }
  // §5.3: the leader only appends. Its own progress advances in on_persisted(), once durable.
  return log_.append(ents);
}

ProposeResult Raft::propose(std::string data) {
  if (role_ != Role::kLeader || !tracker_.is_member(id_)) return {Status::kNotLeader, 0, 0};
  // §3.10: during a transfer new entries would only delay the target catching up.
  if (lead_transferee_ != kNoNode) return {Status::kLeaderTransferring, 0, 0};
  Entry e;
  e.data = std::move(data);
  Index index = append_entries({std::move(e)});
  bcast_append();
  return {Status::kOk, index, term_};
}

ProposeResult Raft::propose_batch(std::vector<std::string> data) {
  if (role_ != Role::kLeader || !tracker_.is_member(id_)) return {Status::kNotLeader, 0, 0};
  if (lead_transferee_ != kNoNode) return {Status::kLeaderTransferring, 0, 0};
  if (data.empty()) return {Status::kOk, log_.last_index(), term_};
  std::vector<Entry> ents(data.size());
  for (std::size_t i = 0; i < data.size(); ++i)
    ents[i].data = std::move(data[i]);
  Index index = append_entries(std::move(ents));
  bcast_append();
  return {Status::kOk, index, term_};
}

ProposeResult Raft::propose_conf_change(const ConfChange& cc) {
  if (role_ != Role::kLeader || !tracker_.is_member(id_)) return {Status::kNotLeader, 0, 0};
  if (lead_transferee_ != kNoNode) return {Status::kLeaderTransferring, 0, 0};
  // Thesis §4.1: single-server changes are safe only one at a time: the next waits until the
  // previous one is applied (it takes effect when applied, see apply_conf_change).
  if (pending_conf_index_ > log_.applied()) return {Status::kConfChangePending, 0, 0};
  bool voter = tracker_.is_voter(cc.node_id);
  bool member = tracker_.is_member(cc.node_id);
  bool ok = cc.node_id != kNoNode;
  switch (cc.type) {
    case ConfChangeType::kAddVoter:
      ok = ok && !voter;
      break;
    case ConfChangeType::kAddLearner:
      ok = ok && !member;
      break;
    case ConfChangeType::kRemoveNode:
      ok = ok && member && !(voter && tracker_.voters().size() == 1);
      break;
  }
  if (!ok) return {Status::kInvalidConfChange, 0, 0};
  Entry e;
  e.type = EntryType::kConfChange;
  e.data = encode_conf_change(cc);
  Index index = append_entries({std::move(e)});
  pending_conf_index_ = index;
  bcast_append();
  return {Status::kOk, index, term_};
}

ConfState Raft::apply_conf_change(const ConfChange& cc) {
  // defer_commit_notice: tell every follower the commit index before the change. A member being
  // removed is about to leave the tracker, and must learn that its removal committed (it may owe
  // a client the answer, and then stops); a leader removing itself steps down below.
  if (role_ == Role::kLeader) notify_commit();
  Index next = log_.last_index() + 1;
  switch (cc.type) {
    case ConfChangeType::kAddVoter:
      tracker_.add_voter(cc.node_id, next);
      break;
    case ConfChangeType::kAddLearner:
      tracker_.add_learner(cc.node_id, next);
      break;
    case ConfChangeType::kRemoveNode:
      tracker_.remove(cc.node_id);
      break;
  }
  if (role_ == Role::kLeader) {
    if (!tracker_.is_voter(id_)) {
      // A leader whose removal is committed steps down: it no longer counts toward any quorum,
      // and the remaining voters elect a successor (thesis §4.2.2).
      become_follower(term_, kNoNode);
    } else {
      if (lead_transferee_ != kNoNode && !tracker_.is_voter(lead_transferee_)) {
        abort_leader_transfer();
      }
      // The quorum may have shrunk (a removal): entries may commit now.
      if (maybe_commit()) on_commit_advanced();
      bcast_append();
    }
  }
  return tracker_.conf_state();
}

bool Raft::send_append(NodeId to, bool send_if_empty) {
  Progress* pr = tracker_.progress(to);
  if (pr == nullptr || pr->is_paused()) return false;
  auto prev_term = log_.term(pr->next - 1);
  auto ents = log_.entries_from(pr->next, config_.max_size_per_msg);
  if (!prev_term.ok() || !ents.ok()) return send_snapshot(to, pr);  // compacted away (§7)
  if (ents.value.empty() && !send_if_empty) return false;
  Message m;
  m.type = MessageType::kApp;
  m.to = to;
  m.index = pr->next - 1;
  m.log_term = prev_term.value;
  m.commit = log_.committed();
  pr->sent_commit = std::max(pr->sent_commit, m.commit);
  bool had_entries = !ents.value.empty();
  Index last = had_entries ? ents.value.back().index : m.index;
  m.entries = std::move(ents.value);
  pr->sent_entries(last, had_entries);
  send(std::move(m));
  return true;
}

bool Raft::send_snapshot(NodeId to, Progress* pr) {
  // A follower that has not answered lately may be down; do not ship it a whole snapshot.
  if (!pr->recent_active) return false;
  auto snap = log_.snapshot();
  if (!snap.ok() || snap.value.empty()) return false;  // not ready yet: retried on later acks
  pr->become_snapshot(snap.value.metadata.index);
  Message m;
  m.type = MessageType::kSnap;
  m.to = to;
  m.snapshot = std::move(snap.value);
  send(std::move(m));
  return true;
}

void Raft::bcast_append() {
  for (auto& [id, pr] : tracker_.all()) {
    if (id != id_) send_append(id);
  }
}

void Raft::bcast_heartbeat(const std::string& ctx) {
  for (auto& [id, pr] : tracker_.all()) {
    if (id == id_) continue;
    Message m;
    m.type = MessageType::kHeartbeat;
    m.to = id;
    // Never tell a follower to commit past what it is known to hold.
    m.commit = std::min(pr.match, log_.committed());
    pr.sent_commit = std::max(pr.sent_commit, m.commit);
    m.context = ctx;
    send(std::move(m));
  }
}

bool Raft::maybe_commit() {
  // §5.4.2: an index a majority has stored commits only if its entry is from the current term;
  // older entries then commit indirectly (Log Matching). Figure 8 shows why counting replicas of
  // an older term's entry is unsafe.
  return log_.maybe_commit(tracker_.committed_index(), term_);
}

void Raft::on_commit_advanced() {
  // The first commit of our term opens ReadIndex (§6.4 step 1) for reads that waited for it.
  if (!reads_waiting_for_commit_.empty() && committed_entry_in_current_term()) {
    for (auto& r : reads_waiting_for_commit_)
      read_only_.add(std::move(r));
    reads_waiting_for_commit_.clear();
    maybe_start_read_round();
  }
}

// Tells followers a new commit index: at once with an append each (§5.3), or, with
// defer_commit_notice, only to those that have new entries to receive anyway (the rest hear it
// from notify_commit, the next append or the next heartbeat).
void Raft::announce_commit() {
  for (auto& [id, pr] : tracker_.all()) {
    if (id != id_) send_append(id, !config_.defer_commit_notice);
  }
}

bool Raft::has_unsent_commit() const {
  if (role_ != Role::kLeader) return false;
  const auto& progress = tracker_.all();
  return std::any_of(progress.begin(), progress.end(), [&](const auto& p) {
    return p.first != id_ && p.second.sent_commit < log_.committed() && !p.second.is_paused();
  });
}

void Raft::notify_commit() {
  if (role_ != Role::kLeader) return;
  for (auto& [id, pr] : tracker_.all()) {
    if (id != id_ && pr.sent_commit < log_.committed()) send_append(id);
  }
}

void Raft::on_persisted() {
  if (role_ != Role::kLeader) return;
  Progress* self = tracker_.progress(id_);
  if (self == nullptr) return;
  if (self->maybe_update(log_.stable_last_index()) && maybe_commit()) {
    on_commit_advanced();
    announce_commit();
  }
}

void Raft::step_leader(const Message& m) {
  if (m.type == MessageType::kReadIndex) {
    handle_read_request(ReadRequest{m.context, m.from});
    return;
  }
  Progress* pr = tracker_.progress(m.from);
  if (pr == nullptr) return;
  pr->recent_active = true;  // check-quorum: any answer proves the follower reaches us
  switch (m.type) {
    case MessageType::kAppResp:
      handle_append_response(m, pr);
      break;
    case MessageType::kHeartbeatResp:
      handle_heartbeat_response(m, pr);
      break;
    default:
      break;
  }
}

void Raft::handle_append_response(const Message& m, Progress* pr) {
  if (m.reject) {
    // Fast backtracking: skip to the follower's hint, then past every entry of ours whose term is
    // above the follower's term there (they cannot match either).
    Index next_probe = m.reject_hint;
    if (m.log_term > 0) next_probe = log_.find_conflict_by_term(m.reject_hint, m.log_term);
    if (pr->maybe_decrease_to(m.index, next_probe)) {
      if (pr->state == ProgressState::kReplicate) pr->become_probe();
      send_append(m.from);
    }
    return;
  }
  bool was_paused = pr->is_paused();
  if (!pr->maybe_update(m.index)) {
    // Nothing new, but an ack in probe state means the probe was answered.
    if (pr->state == ProgressState::kProbe && was_paused) {
      pr->probe_sent = false;
      send_append(m.from);
    }
    return;
  }
  switch (pr->state) {
    case ProgressState::kProbe:
      pr->become_replicate();
      break;
    case ProgressState::kSnapshot:
      if (pr->match >= pr->pending_snapshot) {
        pr->become_probe();
        pr->become_replicate();
      }
      break;
    case ProgressState::kReplicate:
      pr->inflights.free_le(m.index);
      break;
  }
  if (maybe_commit()) {
    on_commit_advanced();
    announce_commit();
  } else if (was_paused) {
    send_append(m.from);
  }
  // Fill the pipeline (only with messages that carry entries).
  while (send_append(m.from, false)) {
  }
  if (m.from == lead_transferee_ && pr->match == log_.last_index()) send_timeout_now(m.from);
}

void Raft::handle_heartbeat_response(const Message& m, Progress* pr) {
  pr->probe_sent = false;
  if (pr->state == ProgressState::kReplicate) {
    // Appends in flight but no progress across a whole heartbeat interval: they were probably
    // lost. Probe again from the match instead of waiting forever.
    if (pr->match == pr->match_at_heartbeat && pr->inflights.count() > 0) pr->become_probe();
    pr->match_at_heartbeat = pr->match;
  }
  if (pr->match < log_.last_index()) send_append(m.from);

  if (m.context.empty()) return;
  if (const std::set<NodeId>* acks = read_only_.ack(m.context, m.from)) {
    maybe_finish_read_round(*acks);
  }
}

bool Raft::committed_entry_in_current_term() const {
  return log_.term_or_zero(log_.committed()) == term_;
}

Status Raft::read_index(std::string ctx) {
  if (role_ == Role::kLeader) {
    handle_read_request(ReadRequest{std::move(ctx), id_});
    return Status::kOk;
  }
  if (lead_ == kNoNode) return Status::kNotLeader;
  // Followers forward to the leader, which answers with the read index (thesis §6.4.1).
  Message m;
  m.type = MessageType::kReadIndex;
  m.to = lead_;
  m.context = std::move(ctx);
  send(std::move(m));
  return Status::kOk;
}

void Raft::handle_read_request(ReadRequest req) {
  // §6.4 step 1: until an entry of our term is committed we may not know the latest commit index.
  if (!committed_entry_in_current_term()) {
    reads_waiting_for_commit_.push_back(std::move(req));
    return;
  }
  read_only_.add(std::move(req));
  maybe_start_read_round();
}

void Raft::maybe_start_read_round() {
  if (read_only_.round_in_flight() || !read_only_.has_queued()) return;
  // §6.4 steps 2-3: record the commit index now, then confirm leadership with one heartbeat round.
  std::string ctx = read_only_.start_round(log_.committed());
  if (const std::set<NodeId>* acks = read_only_.ack(ctx, id_)) maybe_finish_read_round(*acks);
  if (read_only_.round_in_flight()) bcast_heartbeat(ctx);
}

void Raft::maybe_finish_read_round(const std::set<NodeId>& acks) {
  std::size_t votes = 0;
  for (NodeId id : acks)
    votes += tracker_.is_voter(id) ? 1 : 0;
  if (votes < tracker_.quorum()) return;
  Index index = 0;
  std::vector<ReadRequest> reads = read_only_.finish_round(&index);
  for (const ReadRequest& r : reads)
    release_read(r, index);
  maybe_start_read_round();  // reads that arrived during this round
}

void Raft::release_read(const ReadRequest& req, Index index) {
  if (req.from == id_) {
    read_states_.push_back(ReadState{index, req.ctx});
    return;
  }
  Message m;
  m.type = MessageType::kReadIndexResp;
  m.to = req.from;
  m.index = index;
  m.context = req.ctx;
  send(std::move(m));
}

Status Raft::transfer_leader(NodeId target) {
  if (role_ != Role::kLeader) return Status::kNotLeader;
  if (target == id_) {
    abort_leader_transfer();
    return Status::kOk;
  }
  if (!tracker_.is_voter(target)) return Status::kInvalidTarget;
  if (lead_transferee_ == target) return Status::kOk;
  // §3.10: stop accepting proposals, bring the target up to date, then tell it to time out now.
  lead_transferee_ = target;
  election_elapsed_ = 0;  // the transfer gets one election timeout to finish
  Progress* pr = tracker_.progress(target);
  if (pr->match == log_.last_index()) {
    send_timeout_now(target);
  } else {
    send_append(target);
  }
  return Status::kOk;
}

void Raft::send_timeout_now(NodeId to) {
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  send(std::move(m));
}

void Raft::report_unreachable(NodeId id) {
  if (role_ != Role::kLeader) return;
  Progress* pr = tracker_.progress(id);
  if (pr != nullptr && pr->state == ProgressState::kReplicate) pr->become_probe();
}

void Raft::note_alive(NodeId from, Term term) {
  if (term != term_) return;
  if (role_ == Role::kLeader) {
    if (Progress* pr = tracker_.progress(from)) pr->recent_active = true;
  } else if (role_ == Role::kFollower && from == lead_) {
    election_elapsed_ = 0;
  }
}

void Raft::report_snapshot(NodeId id, bool delivered) {
  if (role_ != Role::kLeader) return;
  Progress* pr = tracker_.progress(id);
  if (pr == nullptr || pr->state != ProgressState::kSnapshot) return;
  if (!delivered) pr->pending_snapshot = 0;
  // Either way, wait for the follower's answer (or a heartbeat) before sending more.
  pr->become_probe();
  pr->probe_sent = true;
}

}  // namespace raft
