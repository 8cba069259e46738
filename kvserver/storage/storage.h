// Storage: everything kvserver keeps durable in its --data-dir, behind one object the server's node
// loop owns: the WAL (wal.h) in <data-dir>/wal and snapshot files (snapshot_file.h) in
// <data-dir>/snap. Directories are created with mode 0700: the log holds every key and value.
//
// Ordering that makes a crash at any point recoverable:
//   save_snapshot: snapshot file durable -> WAL marker durable -> old segments and old snapshot
//   files deleted. A crash before the marker leaves an unused newer file (removed next time); a
//   crash before the deletions leaves extra files that replay handles.
//
// open() returns an Error (never aborts) for a data dir it must not start on: damage in the middle
// of the WAL, a snapshot file the WAL names that is missing or fails its checksum. The server
// prints it and exits non-zero. Write/fsync failures later are fail-stop (abort).
//
// Thread-safety: none; one owner.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "certs/result.h"
#include "kvserver/raft/types.h"
#include "kvserver/storage/snapshot_file.h"
#include "kvserver/storage/wal.h"

namespace storage {

struct StorageOptions {
  std::string data_dir;
  std::uint64_t segment_bytes = 64u << 20;
  bool preallocate = true;
};

class Storage {
 public:
  static certs::Result<std::unique_ptr<Storage>> open(const StorageOptions& options);

  // What was durable at open (and is kept current): the snapshot with its data, if any.
  const raft::Snapshot& snapshot() const { return snapshot_; }

  // Group commit of one Raft Ready: entries + hard state, one fdatasync (Wal::save).
  void save(const raft::HardState& hs, std::span<const raft::Entry> entries) {
    wal_->save(hs, entries);
  }
  // Makes `snapshot` durable, marks it in the WAL, then releases the segments and older snapshot
  // files it covers.
  void save_snapshot(const raft::Snapshot& snapshot);

  // The Raft log storage (Wal's read side).
  const raft::HardState& hard_state() const { return wal_->hard_state(); }
  raft::Index first_index() const { return wal_->first_index(); }
  raft::Index last_index() const { return wal_->last_index(); }
  raft::Term term(raft::Index i) const { return wal_->term(i); }
  std::vector<raft::Entry> entries(raft::Index lo, raft::Index hi,
                                   std::uint64_t max_bytes = UINT64_MAX) const {
    return wal_->entries(lo, hi, max_bytes);
  }

  Wal& wal() { return *wal_; }
  const SnapshotStore& snapshots() const { return snapshots_; }

 private:
  Storage(std::unique_ptr<Wal> wal, SnapshotStore snapshots)
      : wal_(std::move(wal)), snapshots_(std::move(snapshots)) {}
  std::unique_ptr<Wal> wal_;
  SnapshotStore snapshots_;
  raft::Snapshot snapshot_;
};

}  // namespace storage
