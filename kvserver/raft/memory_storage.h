// MemoryStorage: Storage kept in memory, for tests, the simulator and the benchmark.
//
// Layout: ents_[0] is a dummy entry standing for the snapshot (its index and term), so
// term(first_index() - 1) needs no special case; ents_[k] has index ents_[0].index + k.
// Writers (the application side): set_hard_state, append (a write at index i discards every
// entry >= i first, as Ready requires), apply_snapshot (replaces everything), create_snapshot and
// compact (log compaction, §7, done by the application behind its applied index).
// Misuse (a gap in an append, compacting past the last entry) is a programmer error and aborts.
//
// Thread-safety: none; one thread uses it.
#pragma once

#include <vector>

#include "kvserver/raft/storage.h"

namespace raft {

class MemoryStorage final : public Storage {
 public:
  MemoryStorage();

  InitialState initial_state() const override;
  StatusOr<std::vector<Entry>> entries(Index lo, Index hi, std::uint64_t max_bytes) const override;
  StatusOr<Term> term(Index i) const override;
  Index first_index() const override;
  Index last_index() const override;
  StatusOr<Snapshot> snapshot() const override;

  void set_hard_state(const HardState& hs) { hard_state_ = hs; }
  // Bootstraps a brand-new cluster's membership when there is no snapshot (the log starts at 1).
  void set_conf_state(const ConfState& cs) { snapshot_.metadata.conf_state = cs; }
  const HardState& hard_state() const { return hard_state_; }
  void append(const std::vector<Entry>& entries);
  // Replaces the whole log with `snap`; ignored (returns false) when older than what we have.
  bool apply_snapshot(const Snapshot& snap);
  // Records a snapshot at `index` (<= last index) whose image is `data`; does not compact.
  void create_snapshot(Index index, const ConfState& cs, std::string data);
  // Drops entries up to and including `compact_index` (which must be <= the snapshot's index,
  // so the log and the snapshot always cover every index together).
  void compact(Index compact_index);

 private:
  Index offset() const { return ents_[0].index; }

  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<Entry> ents_;
};

}  // namespace raft
