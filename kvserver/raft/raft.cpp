// Raft: construction, roles, elections and the follower/candidate side of the protocol.
// The leader side (replication, commit, reads, membership, transfer) is in raft_leader.cpp.
#include "kvserver/raft/raft.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "kvserver/raft/codec.h"

namespace raft {
namespace {

// Marks a vote request that follows a leader transfer (§3.10): voters must not ignore it because
// they heard from the old leader recently (that is the point of the transfer).
constexpr const char* kCampaignTransfer = "CampaignTransfer";

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "raft: %s\n", what);
  std::abort();
}

bool is_leader_message(MessageType t) {
  return t == MessageType::kApp || t == MessageType::kHeartbeat || t == MessageType::kSnap ||
         t == MessageType::kTimeoutNow;
}

MessageType response_type(MessageType t) {
  return t == MessageType::kPreVote ? MessageType::kPreVoteResp : MessageType::kVoteResp;
}

}  // namespace

const char* to_string(Role r) {
  switch (r) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

Raft::Raft(Config config)
    : config_(std::move(config)),
      id_(config_.id),
      log_(config_.storage),
      tracker_(config_.max_inflight_msgs) {
  if (id_ == kNoNode) fail("Config.id must not be 0");
  if (config_.storage == nullptr) fail("Config.storage is required");
  if (config_.heartbeat_tick <= 0 || config_.election_tick <= config_.heartbeat_tick) {
    fail("need 0 < heartbeat_tick < election_tick");
  }
  rng_state_ = config_.seed ^ (id_ * 0x9E3779B97F4A7C15ull);
  InitialState st = config_.storage->initial_state();
  tracker_.reset(st.conf_state, log_.last_index() + 1);
  if (!st.hard_state.empty()) {
    term_ = st.hard_state.term;
    vote_ = st.hard_state.vote;
    if (st.hard_state.commit > log_.last_index()) fail("HardState.commit beyond the durable log");
    log_.commit_to(st.hard_state.commit);
  }
  if (config_.applied > log_.applied()) log_.applied_to(config_.applied);
  become_follower(term_, kNoNode);
}

std::uint64_t Raft::next_random() {
  if (config_.random) return config_.random();
  // SplitMix64: tiny, good enough to spread election timeouts, and reproducible from the seed.
  std::uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void Raft::reset_randomized_election_timeout() {
  // §5.2: randomized timeouts in [T, 2T) make split votes rare.
  randomized_election_timeout_ =
      config_.election_tick +
      static_cast<int>(next_random() % std::uint64_t(config_.election_tick));
}

void Raft::send(Message m) {
  m.from = id_;
  if (m.term == 0) m.term = term_;
  if (is_leader_message(m.type)) {
    msgs_.push_back(std::move(m));
  } else {
    msgs_after_persist_.push_back(std::move(m));
  }
}

bool Raft::promotable() const {
  // A learner, a removed node or a node still installing a snapshot never campaigns.
  return tracker_.is_voter(id_) && !log_.unstable_snapshot().has_value();
}

void Raft::reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;  // Figure 2: votedFor is per term
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  prevote_yield_ticks_ = 0;
  reset_randomized_election_timeout();
  abort_leader_transfer();
  tracker_.reset_votes();
  for (auto& [id, pr] : tracker_.all()) {
    bool learner = pr.is_learner;
    pr = Progress(config_.max_inflight_msgs);
    pr.is_learner = learner;
    pr.next = log_.last_index() + 1;
    pr.recent_active = true;
  }
  pending_conf_index_ = 0;
  read_only_.clear();
  reads_waiting_for_commit_.clear();
}

void Raft::become_follower(Term term, NodeId lead) {
  reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
}

void Raft::become_pre_candidate() {
  if (role_ == Role::kLeader) fail("leader cannot become pre-candidate");
  // Thesis §9.6: a pre-candidate changes neither its term nor its vote.
  tracker_.reset_votes();
  lead_ = kNoNode;
  role_ = Role::kPreCandidate;
}

void Raft::become_candidate() {
  if (role_ == Role::kLeader) fail("leader cannot become candidate");
  // §5.2: "increment currentTerm, vote for self".
  reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Raft::become_leader() {
  if (role_ == Role::kFollower) fail("follower cannot become leader");
  reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  // Thesis §10.2.1: our own log counts toward commit only as far as it is durable.
  if (Progress* self = tracker_.progress(id_)) {
    self->match = log_.stable_last_index();
    self->next = log_.last_index() + 1;
    self->become_replicate();
  }
  // Thesis §4.1 (and its 2015 correction): no membership change before an entry of this term is
  // committed; every conf change up to the current last index may still be unapplied.
  pending_conf_index_ = log_.last_index();
  // §8: a new leader commits a blank entry of its own term, which also commits everything before
  // it (§5.4.2) and lets ReadIndex start (§6.4).
  append_entries({Entry{}});
  bcast_append();
}

bool Raft::has_unapplied_conf_changes() const {
  if (log_.applied() >= log_.committed()) return false;
  Index lo = std::max(log_.applied() + 1, log_.first_index());
  auto ents = log_.slice(lo, log_.committed() + 1, UINT64_MAX);
  if (!ents.ok()) return false;
  for (const Entry& e : ents.value) {
    if (e.type == EntryType::kConfChange) return true;
  }
  return false;
}

void Raft::hup(CampaignType t) {
  if (role_ == Role::kLeader) return;
  if (!promotable()) return;
  // The membership may change once these are applied; campaigning with a stale one could let
  // two configurations elect leaders at once.
  if (has_unapplied_conf_changes()) return;
  campaign(t);
}

void Raft::campaign(CampaignType t) {
  Term vote_term;
  MessageType type;
  if (t == CampaignType::kPreElection) {
    become_pre_candidate();
    vote_term = term_ + 1;  // the term we would use; nobody changes term for a pre-vote
    type = MessageType::kPreVote;
  } else {
    become_candidate();
    vote_term = term_;
    type = MessageType::kVote;
  }
  tracker_.record_vote(id_, true);
  if (tracker_.tally() == ProgressTracker::VoteResult::kWon) {
    // A single-voter cluster wins at once.
    if (t == CampaignType::kPreElection) {
      campaign(CampaignType::kElection);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId id : tracker_.voters()) {
    if (id == id_) continue;
    Message m;
    m.type = type;
    m.to = id;
    m.term = vote_term;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    if (t == CampaignType::kTransfer) m.context = kCampaignTransfer;
    send(std::move(m));
  }
}

void Raft::tick() {
  if (role_ == Role::kLeader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::tick_election() {
  ++election_elapsed_;
  if (prevote_yield_ticks_ > 0) --prevote_yield_ticks_;
  if (promotable() && election_elapsed_ >= randomized_election_timeout_) {
    election_elapsed_ = 0;
    hup(config_.pre_vote ? CampaignType::kPreElection : CampaignType::kElection);
  }
}

void Raft::tick_heartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  // A snapshot message may be lost without anyone telling us: retry after two election timeouts.
  for (auto& [id, pr] : tracker_.all()) {
    if (pr.state == ProgressState::kSnapshot && ++pr.snapshot_elapsed > 2 * config_.election_tick) {
      pr.become_probe();
    }
  }
  if (election_elapsed_ >= config_.election_tick) {
    election_elapsed_ = 0;
    // §6.2 / thesis §9.6 check-quorum: a leader that has not heard from a majority within an
    // election timeout may be partitioned away; it steps down rather than serve stale reads.
    if (config_.check_quorum && !tracker_.quorum_active(id_)) {
      become_follower(term_, kNoNode);
      return;
    }
    // §3.10: a transfer that did not finish within an election timeout is abandoned.
    abort_leader_transfer();
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    bcast_heartbeat(read_only_.round_context());
  }
}

void Raft::step(const Message& m) {
  if (m.term > term_) {
    if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
      bool force = m.context == kCampaignTransfer;
      // Thesis §9.6 (with check-quorum): a node that heard from a live leader within the minimum
      // election timeout ignores vote requests, so a returning partitioned node cannot depose it.
      bool in_lease =
          config_.check_quorum && lead_ != kNoNode && election_elapsed_ < config_.election_tick;
      if (!force && in_lease) return;
    }
    if (m.type == MessageType::kPreVote) {
      // A pre-vote never changes our term (thesis §9.6).
    } else if (m.type == MessageType::kPreVoteResp && !m.reject) {
      // A granted pre-vote carries the future term; the real election will bump it.
    } else {
      // §5.1: "If RPC request or response contains term T > currentTerm: set currentTerm = T,
      // convert to follower".
      bool from_leader = m.type == MessageType::kApp || m.type == MessageType::kHeartbeat ||
                         m.type == MessageType::kSnap;
      become_follower(m.term, from_leader ? m.from : kNoNode);
    }
  } else if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kApp || m.type == MessageType::kHeartbeat)) {
      // A stale leader (e.g. back from a partition) would otherwise never learn the new term:
      // with check-quorum and pre-vote, nobody else would ever send it a higher term.
      Message r;
      r.type = MessageType::kAppResp;
      r.to = m.from;
      send(std::move(r));
    } else if (m.type == MessageType::kPreVote) {
      Message r;
      r.type = MessageType::kPreVoteResp;
      r.to = m.from;
      r.reject = true;
      send(std::move(r));
    }
    return;  // §5.1: stale requests are rejected
  }

  if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
    handle_vote_request(m);
    return;
  }
  switch (role_) {
    case Role::kFollower:
      step_follower(m);
      break;
    case Role::kPreCandidate:
    case Role::kCandidate:
      step_candidate(m);
      break;
    case Role::kLeader:
      step_leader(m);
      break;
  }
}

void Raft::handle_vote_request(const Message& m) {
  // Figure 2 RequestVote: grant if we have not voted for someone else this term (a pre-vote for a
  // higher term commits us to nothing) and the candidate's log is at least as up-to-date (§5.4.1).
  bool can_vote = vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                  (m.type == MessageType::kPreVote && m.term > term_);
  Message r;
  r.type = response_type(m.type);
  r.to = m.from;
  if (can_vote && log_.is_up_to_date(m.index, m.log_term)) {
    r.term = m.term;
    send(std::move(r));
    if (m.type == MessageType::kVote) {
      election_elapsed_ = 0;
      vote_ = m.from;
    } else if (m.from > id_ && m.term == term_ + 1) {
      prevote_yield_ticks_ = config_.election_tick;
    }
  } else {
    r.term = term_;
    r.reject = true;
    send(std::move(r));
  }
}

// A tie-break of our own (not in the thesis or etcd). Two followers that lose the leader time out
// at about the same moment when their randomized timeouts happen to match; each then grants the
// other's pre-vote (pre-votes commit nobody), both win their pre-election, both become candidates
// in the same term, and the vote splits: the next try waits a whole new timeout, so a failover
// that should take one election timeout takes two or more. When the pre-votes crossed - we granted
// a higher id's pre-vote for the very term we now want - the lower id steps aside and the higher
// one campaigns alone, getting our real vote. Pre-votes decide only who campaigns, never a vote,
// so this cannot affect safety; it costs liveness nothing either, as the grant counts for one
// election timeout only and reset() forgets it, so a yielding node campaigns at its next timeout
// if the other did not win.
bool Raft::yields_to_crossing_pre_candidate() const {
  return prevote_yield_ticks_ > 0;
}

void Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::kApp:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_append(m);
      break;
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_heartbeat(m);
      break;
    case MessageType::kSnap:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_snapshot(m);
      break;
    case MessageType::kTimeoutNow:
      // §3.10: the leader chose us; campaign at once, without pre-vote (the leader is stepping
      // aside, so a pre-vote would only be refused by nodes still in its lease).
      hup(CampaignType::kTransfer);
      break;
    case MessageType::kReadIndexResp:
      read_states_.push_back(ReadState{m.index, m.context});
      break;
    default:
      break;  // responses meant for a leader or candidate we no longer are
  }
}

void Raft::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::kApp:
    case MessageType::kHeartbeat:
    case MessageType::kSnap:
      // §5.2: "If AppendEntries RPC received from new leader: convert to follower". Same term
      // (a higher one was handled in step()), so we keep our vote.
      become_follower(m.term, m.from);
      step_follower(m);
      break;
    case MessageType::kVoteResp:
    case MessageType::kPreVoteResp: {
      bool mine = (role_ == Role::kPreCandidate) == (m.type == MessageType::kPreVoteResp);
      if (!mine) break;
      tracker_.record_vote(m.from, !m.reject);
      switch (tracker_.tally()) {
        case ProgressTracker::VoteResult::kWon:
          if (role_ == Role::kPreCandidate && yields_to_crossing_pre_candidate()) {
            // It campaigns with our vote; we try again at our next timeout if it does not win.
            become_follower(term_, kNoNode);
          } else if (role_ == Role::kPreCandidate) {
            campaign(CampaignType::kElection);
          } else {
            become_leader();
          }
          break;
        case ProgressTracker::VoteResult::kLost:
          become_follower(term_, kNoNode);
          break;
        case ProgressTracker::VoteResult::kPending:
          break;
      }
      break;
    }
    default:
      break;
  }
}

void Raft::handle_append(const Message& m) {
  Message r;
  r.type = MessageType::kAppResp;
  r.to = m.from;
  if (m.index < log_.committed()) {
    // Everything up to our commit index is already agreed; tell the leader where we are.
    r.index = log_.committed();
    send(std::move(r));
    return;
  }
  if (auto last = log_.maybe_append(m.index, m.log_term, m.commit, m.entries)) {
    r.index = *last;
    send(std::move(r));
    return;
  }
  // §5.3 rejection, with a hint so the leader skips a whole term of mismatches per round trip
  // (the optimisation §5.3 sketches): our last index <= m.index whose term is <= m.log_term.
  Index hint = std::min(m.index, log_.last_index());
  hint = log_.find_conflict_by_term(hint, m.log_term);
  r.index = m.index;
  r.reject = true;
  r.reject_hint = hint;
  r.log_term = log_.term_or_zero(hint);
  send(std::move(r));
}

void Raft::handle_heartbeat(const Message& m) {
  // The leader sends min(its commit, our match), so this never exceeds entries we share.
  log_.commit_to(m.commit);
  Message r;
  r.type = MessageType::kHeartbeatResp;
  r.to = m.from;
  r.context = m.context;
  send(std::move(r));
}

void Raft::handle_snapshot(const Message& m) {
  Message r;
  r.type = MessageType::kAppResp;
  r.to = m.from;
  r.index = restore(m.snapshot) ? log_.last_index() : log_.committed();
  send(std::move(r));
}

bool Raft::restore(const Snapshot& s) {
  // §7 InstallSnapshot: "If existing log entry has same index and term as snapshot's last included
  // entry, retain log entries following it"; otherwise discard the entire log.
  if (s.metadata.index <= log_.committed()) return false;
  if (log_.match_term(s.metadata.index, s.metadata.term)) {
    log_.commit_to(s.metadata.index);
    return false;
  }
  log_.restore(s);
  tracker_.reset(s.metadata.conf_state, log_.last_index() + 1);
  return true;
}

}  // namespace raft
