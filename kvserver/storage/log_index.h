// LogIndex: the in-memory map from Raft log index to where that entry's record sits on disk.
//
// It covers the entries (base_index, last_index] in order; base_index is the entry just before the
// first one held (the snapshot's index once the WAL is open). Only the term and the record's
// location are kept in memory; the entry data stays on disk and is read back with pread (from the
// page cache, in the common case of a leader sending what it just wrote).
//
// Invariants: indexes are consecutive; terms never decrease along the log (Raft §5.3).
// Mutators return nullptr on success or a static string naming the broken rule; the WAL writer
// treats that as a programmer error (abort), replay as a damaged WAL (an Error naming the file).
//
// Thread-safety: none; owned by one Wal.
#pragma once

#include <cstdint>
#include <deque>

#include "kvserver/raft/types.h"

namespace storage {

struct EntryLocation {
  raft::Term term = 0;
  std::uint64_t segment_seq = 0;
  std::uint64_t offset = 0;        // of the record's header in the segment file
  std::uint32_t record_bytes = 0;  // header + payload
};

class LogIndex {
 public:
  // Forget every entry; the log now ends at `base_index`, whose term was `base_term` (0: unknown).
  void reset(raft::Index base_index, raft::Term base_term);

  raft::Index base_index() const { return base_; }
  raft::Index last_index() const { return base_ + locs_.size(); }
  bool empty() const { return locs_.empty(); }

  // The location of entry i; base_index() < i <= last_index().
  const EntryLocation& at(raft::Index i) const { return locs_[i - base_ - 1]; }
  // The term of entry i for base_index() <= i <= last_index().
  raft::Term term_at(raft::Index i) const { return i == base_ ? base_term_ : at(i).term; }

  // Appends entry `i`. If i <= last_index() the entries from i on are replaced (conflicting
  // suffix); if i <= base_index() everything is replaced and the log restarts at i-1 with an
  // unknown term. Errors: a gap after last_index(), a term lower than the entry before it.
  const char* append(raft::Index i, const EntryLocation& loc);

  // Sets the term of base_index() (when replay learns it from a snapshot).
  void set_base_term(raft::Term t) { base_term_ = t; }

  // Drops entries <= i, which must be in [base_index(), last_index()]; base becomes i.
  void drop_through(raft::Index i);

 private:
  raft::Index base_ = 0;
  raft::Term base_term_ = 0;
  std::deque<EntryLocation> locs_;
};

}  // namespace storage
