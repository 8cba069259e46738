// Storage: the read-only view of the durable log that the Raft core reads from.
//
// The application (the server loop) owns the storage and writes to it what a Ready says to persist;
// the core only reads. kvserver/storage implements this over its WAL; memory_storage.h is the
// in-memory implementation for tests and the simulator.
//
// Model: a snapshot covers indexes [1, snapshot.index]; entries follow it consecutively:
//   first_index() = snapshot index + 1, last_index() = index of the last entry (or the snapshot
//   index when there is none). term(first_index() - 1) is the snapshot's term and must be served
//   (the log matching check of §5.3 needs the term just before the first entry).
// Errors: kCompacted for an index below first_index() - 1, kUnavailable above last_index(),
// kSnapshotTemporarilyUnavailable when snapshot() cannot answer yet (the core retries later).
//
// Thread-safety: the core calls it from the one thread that drives it; an implementation that is
// written to concurrently must synchronise itself.
#pragma once

#include <cstdint>
#include <vector>

#include "kvserver/raft/status.h"
#include "kvserver/raft/types.h"

namespace raft {

struct InitialState {
  HardState hard_state;
  ConfState conf_state;  // the membership as of the snapshot (later changes are in the log)
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual InitialState initial_state() const = 0;
  // Entries [lo, hi), at least one if lo < hi, then only while the total data size stays within
  // max_bytes (so one message never grows without bound).
  virtual StatusOr<std::vector<Entry>> entries(Index lo, Index hi,
                                               std::uint64_t max_bytes) const = 0;
  virtual StatusOr<Term> term(Index i) const = 0;
  virtual Index first_index() const = 0;
  virtual Index last_index() const = 0;
  virtual StatusOr<Snapshot> snapshot() const = 0;
};

// The size the core charges an entry against max_bytes limits (data plus a fixed header cost).
inline std::uint64_t entry_size(const Entry& e) {
  return e.data.size() + 24;
}

}  // namespace raft
