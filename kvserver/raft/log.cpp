#include "kvserver/raft/log.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace raft {
namespace {

[[noreturn]] void fail(const char* what, Index a, Index b) {
  std::fprintf(stderr, "RaftLog: %s (%llu, %llu)\n", what, static_cast<unsigned long long>(a),
               static_cast<unsigned long long>(b));
  std::abort();
}

}  // namespace

RaftLog::RaftLog(const Storage* storage) : storage_(storage) {
  unstable_offset_ = storage_->last_index() + 1;
  // A restarted node knows at least up to its snapshot is committed and applied.
  committed_ = storage_->first_index() - 1;
  applied_ = committed_;
}

Index RaftLog::first_index() const {
  if (unstable_snapshot_) return unstable_snapshot_->metadata.index + 1;
  return storage_->first_index();
}

Index RaftLog::last_index() const {
  if (!unstable_.empty()) return unstable_offset_ + unstable_.size() - 1;
  if (unstable_snapshot_) return unstable_snapshot_->metadata.index;
  return storage_->last_index();
}

std::optional<Term> RaftLog::unstable_term(Index i) const {
  if (i < unstable_offset_) {
    if (unstable_snapshot_ && unstable_snapshot_->metadata.index == i) {
      return unstable_snapshot_->metadata.term;
    }
    return std::nullopt;
  }
  if (i - unstable_offset_ < unstable_.size()) return unstable_[i - unstable_offset_].term;
  return std::nullopt;
}

StatusOr<Term> RaftLog::term(Index i) const {
  Index dummy = first_index() - 1;
  if (i < dummy) return Status::kCompacted;
  if (i > last_index()) return Status::kUnavailable;
  if (auto t = unstable_term(i)) return *t;
  return storage_->term(i);
}

Term RaftLog::term_or_zero(Index i) const {
  auto t = term(i);
  return t.ok() ? t.value : 0;
}

bool RaftLog::match_term(Index i, Term t) const {
  auto got = term(i);
  return got.ok() && got.value == t;
}

bool RaftLog::is_up_to_date(Index last, Term t) const {
  return t > last_term() || (t == last_term() && last >= last_index());
}

std::optional<Index> RaftLog::maybe_append(Index index, Term log_term, Index committed,
                                           const std::vector<Entry>& ents) {
  if (!match_term(index, log_term)) return std::nullopt;
  Index last_new = index + ents.size();
  Index conflict = find_conflict(ents);
  if (conflict != 0) {
    // §5.3: "If an existing entry conflicts with a new one, delete the existing entry and all that
    // follow it". A conflict at or below commit would mean two different committed entries.
    if (conflict <= committed_) fail("conflict with a committed entry", conflict, committed_);
    std::vector<Entry> rest(ents.begin() + static_cast<std::ptrdiff_t>(conflict - index - 1),
                            ents.end());
    append(rest);
  }
  // §5.3: "set commitIndex = min(leaderCommit, index of last new entry)" -- only what this
  // message proved we share with the leader.
  commit_to(std::min(committed, last_new));
  return last_new;
}

Index RaftLog::append(const std::vector<Entry>& ents) {
  if (ents.empty()) return last_index();
  Index after = ents.front().index;
  if (after <= committed_) fail("truncating committed entries", after, committed_);
  if (after > last_index() + 1) fail("append leaves a gap", after, last_index());
  if (after == unstable_offset_ + unstable_.size()) {
    unstable_.insert(unstable_.end(), ents.begin(), ents.end());
  } else if (after <= unstable_offset_) {
    // Replaces the whole unstable part, and logically the storage suffix from `after` on.
    unstable_offset_ = after;
    unstable_ = ents;
  } else {
    unstable_.resize(after - unstable_offset_);
    unstable_.insert(unstable_.end(), ents.begin(), ents.end());
  }
  return last_index();
}

Index RaftLog::find_conflict(const std::vector<Entry>& ents) const {
  for (const Entry& e : ents) {
    if (!match_term(e.index, e.term)) return e.index;
  }
  return 0;
}

Index RaftLog::find_conflict_by_term(Index index, Term t) const {
  // Walk back while our term is above `t`: every such entry cannot match the other log there.
  for (; index > 0; --index) {
    auto our = term(index);
    if (!our.ok()) break;  // compacted: stop at the boundary, the snapshot covers it
    if (our.value <= t) break;
  }
  return index;
}

StatusOr<std::vector<Entry>> RaftLog::slice(Index lo, Index hi, std::uint64_t max_bytes) const {
  if (lo < first_index()) return Status::kCompacted;
  if (hi > last_index() + 1) fail("slice beyond the last index", hi, last_index());
  std::vector<Entry> out;
  if (lo >= hi) return out;
  std::uint64_t size = 0;
  if (lo < unstable_offset_) {
    auto stored = storage_->entries(lo, std::min(hi, unstable_offset_), max_bytes);
    if (!stored.ok()) return stored.status;
    out = std::move(stored.value);
    for (const Entry& e : out)
      size += entry_size(e);
    // Storage stopped early because of the size limit: so do we.
    if (out.size() < std::min(hi, unstable_offset_) - lo) return out;
  }
  for (Index i = std::max(lo, unstable_offset_); i < hi; ++i) {
    const Entry& e = unstable_[i - unstable_offset_];
    size += entry_size(e);
    if (!out.empty() && size > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

StatusOr<Snapshot> RaftLog::snapshot() const {
  if (unstable_snapshot_) return *unstable_snapshot_;
  return storage_->snapshot();
}

void RaftLog::commit_to(Index i) {
  if (i <= committed_) return;
  if (i > last_index()) fail("commit beyond the last index", i, last_index());
  committed_ = i;
}

bool RaftLog::maybe_commit(Index i, Term t) {
  if (i > committed_ && term_or_zero(i) == t) {
    commit_to(i);
    return true;
  }
  return false;
}

void RaftLog::applied_to(Index i) {
  if (i == 0) return;
  if (i > committed_ || i < applied_) fail("applied out of range", i, committed_);
  applied_ = i;
}

void RaftLog::restore(const Snapshot& snap) {
  committed_ = snap.metadata.index;
  unstable_snapshot_ = snap;
  unstable_.clear();
  unstable_offset_ = snap.metadata.index + 1;
}

void RaftLog::stable_to(Index i, Term t) {
  auto got = unstable_term(i);
  if (!got || *got != t || i < unstable_offset_) return;
  unstable_.erase(unstable_.begin(),
                  unstable_.begin() + static_cast<std::ptrdiff_t>(i + 1 - unstable_offset_));
  unstable_offset_ = i + 1;
}

void RaftLog::stable_snap_to(Index i) {
  if (unstable_snapshot_ && unstable_snapshot_->metadata.index == i) unstable_snapshot_.reset();
}

bool RaftLog::has_next_committed_entries() const {
  if (unstable_snapshot_) return false;
  return committed_ > std::max(applied_, first_index() - 1);
}

std::vector<Entry> RaftLog::next_committed_entries(std::uint64_t max_bytes) const {
  if (!has_next_committed_entries()) return {};
  Index lo = std::max(applied_ + 1, first_index());
  auto ents = slice(lo, committed_ + 1, max_bytes);
  if (!ents.ok()) fail("committed entries unavailable", lo, committed_);
  return std::move(ents.value);
}

}  // namespace raft
