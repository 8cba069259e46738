// Storage: everything kvserver keeps durable in its --data-dir, behind one object the server's node
// loop owns and hands to the Raft core as its raft::Storage (kvserver/raft/storage.h): the WAL
// (wal.h) in <data-dir>/wal and snapshot files (snapshot_file.h) in <data-dir>/snap. Directories
// are created with mode 0700: the log holds every key and value.
//
// The write side mirrors raft::MemoryStorage, so the node loop reads the same with either:
//   save(hs, entries)          one Ready's hard state + entries, one fdatasync (group commit)
//   apply_snapshot(snap)       a leader's snapshot from a Ready: replaces the whole log
//   create_snapshot(i, cs, d)  the application's own snapshot at applied index i (log stays)
//   adopt_snapshot(meta, c)    the same, for a snapshot file already written durably under
//                              snapshots().path_for(...) (by the node's forked writer); and
//                              compact(c) with it
//   compact(i)                 drop entries <= i (i <= snapshot index) and the segments they fill
//   set_conf_state(cs)         bootstrap membership of a brand-new cluster (no snapshot yet)
//
// Crash ordering: snapshot file durable -> WAL marker durable -> older snapshot files deleted;
// compact record durable -> old segments deleted. A crash at any point leaves a data dir that
// opens: an unmarked newer snapshot file is ignored, extra files are harmless.
//
// Memory: only the current snapshot's metadata is kept. snapshot() reads the file back (with its
// checksum) each time the Raft core asks, which is at start and when a follower is too far behind
// for the log: holding a store-sized image for those rare moments doubled a member's footprint.
//
// open() returns an Error (never aborts) for a data dir it must not start on: damage in the middle
// of the WAL, a snapshot file the WAL names that is missing or fails its checksum. The server
// prints it and exits non-zero. Write/fsync failures later are fail-stop (abort).
//
// Thread-safety: none; the node loop's thread only (the Raft core reads from that same thread).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "certs/result.h"
#include "kvserver/raft/storage.h"
#include "kvserver/raft/types.h"
#include "kvserver/storage/snapshot_file.h"
#include "kvserver/storage/wal.h"

namespace storage {

struct StorageOptions {
  std::string data_dir;
  std::uint64_t segment_bytes = 64u << 20;
  bool preallocate = true;
};

class Storage final : public raft::Storage {
 public:
  static certs::Result<std::unique_ptr<Storage>> open(const StorageOptions& options);

  // --- raft::Storage (the core's read side) ---
  raft::InitialState initial_state() const override;
  raft::StatusOr<std::vector<raft::Entry>> entries(raft::Index lo, raft::Index hi,
                                                   std::uint64_t max_bytes) const override;
  raft::StatusOr<raft::Term> term(raft::Index i) const override;
  raft::Index first_index() const override { return wal_->first_index(); }
  raft::Index last_index() const override { return wal_->last_index(); }
  // Reads the current snapshot file; fail-stop if the file that open() checked went bad since.
  raft::StatusOr<raft::Snapshot> snapshot() const override;
  const raft::SnapshotMetadata& snapshot_metadata() const { return snapshot_metadata_; }

  // --- writes (the node loop, after each Ready) ---
  void save(const raft::HardState& hs, std::span<const raft::Entry> entries) {
    wal_->save(hs, entries);
  }
  // Ignored (false) unless newer than the current snapshot, as MemoryStorage does.
  bool apply_snapshot(const raft::Snapshot& snapshot);
  // Ignored unless index is above the current snapshot; index must be <= last_index().
  void create_snapshot(raft::Index index, const raft::ConfState& conf_state, std::string data);
  // Makes the durable file at snapshots().path_for(metadata) the current snapshot (WAL marker,
  // older files deleted) and drops the log through `compact_through` (<= metadata.index; 0: keep
  // it all), with one WAL fsync for both: this runs on the node loop, so the older snapshot files
  // and released WAL segments are deleted on a thread of their own (file_remover.h;
  // wait_for_removals()). False, and the file removed, when it is no longer news: not above the
  // current snapshot (a leader's snapshot arrived meanwhile) or no longer matching the log.
  bool adopt_snapshot(const raft::SnapshotMetadata& metadata, raft::Index compact_through = 0);
  // Returns once the files adopt_snapshot() released are deleted.
  void wait_for_removals() { remover_.wait_idle(); }
  void compact(raft::Index index) { wal_->compact(index); }
  void set_conf_state(const raft::ConfState& conf_state);

  const raft::HardState& hard_state() const { return wal_->hard_state(); }
  const Wal& wal() const { return *wal_; }
  const SnapshotStore& snapshots() const { return snapshots_; }

 private:
  Storage(std::unique_ptr<Wal> wal, SnapshotStore snapshots)
      : wal_(std::move(wal)), snapshots_(std::move(snapshots)) {}
  void make_durable(const raft::Snapshot& snapshot, bool discard_log);
  // The WAL marker for a snapshot file already under its final name, then older files go.
  void mark_current(const raft::SnapshotMetadata& metadata, bool discard_log);

  FileRemover remover_;  // first: it outlives wal_ and snapshots_, and finishes its deletes last
  std::unique_ptr<Wal> wal_;
  SnapshotStore snapshots_;
  raft::SnapshotMetadata snapshot_metadata_;  // the current snapshot's (index 0: none yet)
};

}  // namespace storage
