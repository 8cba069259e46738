// RaftLog: one node's view of its log = the durable part (Storage) + the unstable part (entries and
// maybe a snapshot that a Ready has handed out but the application has not yet reported persisted).
//
// Invariants:
//   - indexes are consecutive across storage and unstable; unstable_offset_ is the index of the
//     first unstable entry; storage may still hold stale entries >= unstable_offset_ (they are
//     being overwritten), so reads below unstable_offset_ go to storage and the rest to the
//     unstable part;
//   - applied_ <= committed_ <= last_index() (committed only grows, §5.4: committed is forever);
//   - an unstable snapshot, when present, replaces everything at or below its index.
//
// Thread-safety: none; owned by one Raft.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "kvserver/raft/status.h"
#include "kvserver/raft/storage.h"
#include "kvserver/raft/types.h"

namespace raft {

class RaftLog {
 public:
  explicit RaftLog(const Storage* storage);

  Index first_index() const;
  Index last_index() const;
  Term last_term() const { return term_or_zero(last_index()); }
  StatusOr<Term> term(Index i) const;
  Term term_or_zero(Index i) const;  // 0 when compacted or beyond the end
  bool match_term(Index i, Term t) const;
  // §5.4.1: a candidate's log is at least as up-to-date as ours.
  bool is_up_to_date(Index last, Term term) const;

  // §5.3, the receiver side of AppendEntries: when our entry at `index` has `log_term`, append
  // `ents` (truncating at the first conflict), advance commit to min(committed, last new index)
  // and return that last new index; otherwise nullopt (the caller rejects).
  std::optional<Index> maybe_append(Index index, Term log_term, Index committed,
                                    const std::vector<Entry>& ents);
  // Appends after truncating any suffix at ents[0].index; returns the new last index.
  Index append(const std::vector<Entry>& ents);
  // The first index of `ents` whose term differs from ours (or that we lack); 0 if none.
  Index find_conflict(const std::vector<Entry>& ents) const;
  // The largest index <= `index` whose term is <= `term` (fast backtracking, the reject hint).
  Index find_conflict_by_term(Index index, Term term) const;

  // Entries [lo, hi) within max_bytes (at least one).
  StatusOr<std::vector<Entry>> slice(Index lo, Index hi, std::uint64_t max_bytes) const;
  StatusOr<std::vector<Entry>> entries_from(Index lo, std::uint64_t max_bytes) const {
    return slice(lo, last_index() + 1, max_bytes);
  }
  StatusOr<Snapshot> snapshot() const;

  Index committed() const { return committed_; }
  Index applied() const { return applied_; }
  void commit_to(Index i);  // never moves backwards; aborts beyond the last index
  // §5.4.2: commit `i` only if the entry there is from `term` (the leader's current term).
  bool maybe_commit(Index i, Term term);
  void applied_to(Index i);

  // Replaces the log with a snapshot from the leader (§7): everything up to its index is committed.
  void restore(const Snapshot& snap);

  // The unstable part, for Ready.
  const std::vector<Entry>& unstable_entries() const { return unstable_; }
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_snapshot_; }
  // The application reports entries up to (i, t) durable; ignored if a later truncation replaced
  // the entry at i (its term no longer t).
  void stable_to(Index i, Term t);
  void stable_snap_to(Index i);
  // The last index that is durable (below the unstable part).
  Index stable_last_index() const { return unstable_offset_ - 1; }

  // Committed entries not yet handed to the application (none while a snapshot is pending).
  bool has_next_committed_entries() const;
  std::vector<Entry> next_committed_entries(std::uint64_t max_bytes) const;

 private:
  std::optional<Term> unstable_term(Index i) const;

  const Storage* storage_;
  std::optional<Snapshot> unstable_snapshot_;
  std::vector<Entry> unstable_;
  Index unstable_offset_ = 1;
  Index committed_ = 0;
  Index applied_ = 0;
};

}  // namespace raft
