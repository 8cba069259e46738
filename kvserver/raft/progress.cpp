#include "kvserver/raft/progress.h"

#include <algorithm>
#include <functional>

namespace raft {

void Inflights::add(Index last) {
  if (full()) return;  // callers check full() first; never grow past the cap
  if (start_ > 64 && start_ * 2 > buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buf_.push_back(last);
}

void Inflights::free_le(Index to) {
  while (start_ < buf_.size() && buf_[start_] <= to)
    ++start_;
  if (start_ == buf_.size()) reset();
}

void Inflights::free_first_one() {
  if (start_ < buf_.size()) ++start_;
  if (start_ == buf_.size()) reset();
}

void Progress::become_probe() {
  // From kSnapshot, the follower has (or will have) the snapshot: continue after it.
  if (state == ProgressState::kSnapshot) {
    next = std::max(match + 1, pending_snapshot + 1);
  } else {
    next = match + 1;
  }
  state = ProgressState::kProbe;
  probe_sent = false;
  pending_snapshot = 0;
  inflights.reset();
}

void Progress::become_replicate() {
  state = ProgressState::kReplicate;
  next = match + 1;
  probe_sent = false;
  pending_snapshot = 0;
  match_at_heartbeat = match;
  inflights.reset();
}

void Progress::become_snapshot(Index snapshot_index) {
  state = ProgressState::kSnapshot;
  pending_snapshot = snapshot_index;
  snapshot_elapsed = 0;
  probe_sent = false;
  inflights.reset();
}

bool Progress::maybe_update(Index n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::maybe_decrease_to(Index rejected, Index hint) {
  if (state == ProgressState::kReplicate) {
    // A reject for an index we know matches is stale (reordered network): ignore it.
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  // In probe only the answer to the probe we sent (prevLogIndex == next - 1) counts.
  if (next == 0 || next - 1 != rejected) return false;
  next = std::max<Index>(std::min(rejected, hint + 1), match + 1);
  probe_sent = false;
  return true;
}

void Progress::sent_entries(Index last, bool had_entries) {
  if (state == ProgressState::kReplicate) {
    if (had_entries) {
      next = last + 1;
      inflights.add(last);
    }
  } else if (state == ProgressState::kProbe) {
    probe_sent = true;
  }
}

bool Progress::is_paused() const {
  switch (state) {
    case ProgressState::kProbe:
      return probe_sent;
    case ProgressState::kReplicate:
      return inflights.full();
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

void ProgressTracker::reset(const ConfState& cs, Index next) {
  voters_.clear();
  learners_.clear();
  progress_.clear();
  for (NodeId id : cs.voters)
    add_voter(id, next);
  for (NodeId id : cs.learners)
    add_learner(id, next);
}

ConfState ProgressTracker::conf_state() const {
  return ConfState{std::vector<NodeId>(voters_.begin(), voters_.end()),
                   std::vector<NodeId>(learners_.begin(), learners_.end())};
}

Progress* ProgressTracker::progress(NodeId id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

void ProgressTracker::add_voter(NodeId id, Index next) {
  learners_.erase(id);
  voters_.insert(id);
  auto [it, inserted] = progress_.try_emplace(id, max_inflight_);
  if (inserted) {
    it->second.next = next;
    // A new member has not talked to us yet, but must not make check-quorum fail at once.
    it->second.recent_active = true;
  }
  it->second.is_learner = false;
}

void ProgressTracker::add_learner(NodeId id, Index next) {
  if (voters_.count(id)) return;  // demotion is not a single-server change we support
  learners_.insert(id);
  auto [it, inserted] = progress_.try_emplace(id, max_inflight_);
  if (inserted) {
    it->second.next = next;
    it->second.recent_active = true;
  }
  it->second.is_learner = true;
}

void ProgressTracker::remove(NodeId id) {
  voters_.erase(id);
  learners_.erase(id);
  progress_.erase(id);
  votes_.erase(id);
}

Index ProgressTracker::committed_index() const {
  if (voters_.empty()) return 0;
  std::vector<Index> matches;
  matches.reserve(voters_.size());
  for (NodeId id : voters_)
    matches.push_back(progress_.at(id).match);
  std::sort(matches.begin(), matches.end(), std::greater<Index>());
  return matches[quorum() - 1];
}

void ProgressTracker::record_vote(NodeId id, bool granted) {
  votes_.try_emplace(id, granted);
}

ProgressTracker::VoteResult ProgressTracker::tally() const {
  std::size_t granted = 0, rejected = 0;
  for (NodeId id : voters_) {
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    (it->second ? granted : rejected)++;
  }
  if (granted >= quorum()) return VoteResult::kWon;
  if (rejected > voters_.size() - quorum()) return VoteResult::kLost;
  return VoteResult::kPending;
}

bool ProgressTracker::quorum_active(NodeId self) {
  std::size_t active = 0;
  for (auto& [id, pr] : progress_) {
    if (id == self) {
      if (voters_.count(id)) ++active;
      continue;
    }
    if (pr.recent_active && voters_.count(id)) ++active;
    pr.recent_active = false;
  }
  return active >= quorum();
}

}  // namespace raft
