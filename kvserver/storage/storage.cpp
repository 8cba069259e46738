#include "kvserver/storage/storage.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "kvserver/storage/file_util.h"

namespace storage {

certs::Result<std::unique_ptr<Storage>> Storage::open(const StorageOptions& options) {
  if (auto st = ensure_dir(options.data_dir); !st) return st.error();
  auto snapshots = SnapshotStore::open(options.data_dir + "/snap");
  if (!snapshots) return snapshots.error();
  auto wal =
      Wal::open(WalOptions{options.data_dir + "/wal", options.segment_bytes, options.preallocate});
  if (!wal) return wal.error();
  const raft::SnapshotMetadata metadata = (*wal)->snapshot_metadata();
  if (metadata.index != 0) {
    // Checked now so a bad file stops the start with a message, not a later fail-stop.
    auto loaded = snapshots->load(metadata);
    if (!loaded) return loaded.error();
  }
  std::unique_ptr<Storage> s(new Storage(std::move(*wal), std::move(*snapshots)));
  s->snapshot_metadata_ = metadata;
  return s;
}

raft::StatusOr<raft::Snapshot> Storage::snapshot() const {
  if (snapshot_metadata_.index == 0) return raft::Snapshot{snapshot_metadata_, {}};
  auto loaded = snapshots_.load(snapshot_metadata_);
  if (!loaded) fail_stop(loaded.error().message, EIO);
  return std::move(*loaded);
}

raft::InitialState Storage::initial_state() const {
  return raft::InitialState{wal_->hard_state(), snapshot_metadata_.conf_state};
}

raft::StatusOr<std::vector<raft::Entry>> Storage::entries(raft::Index lo, raft::Index hi,
                                                          std::uint64_t max_bytes) const {
  if (lo < wal_->first_index()) return raft::Status::kCompacted;
  if (hi > wal_->last_index() + 1) return raft::Status::kUnavailable;
  return wal_->entries(lo, hi, max_bytes);
}

raft::StatusOr<raft::Term> Storage::term(raft::Index i) const {
  if (i + 1 < wal_->first_index()) return raft::Status::kCompacted;
  if (i > wal_->last_index()) return raft::Status::kUnavailable;
  return wal_->term(i);
}

void Storage::make_durable(const raft::Snapshot& snapshot, bool discard_log) {
  snapshots_.save(snapshot);
  mark_current(snapshot.metadata, discard_log);
}

void Storage::mark_current(const raft::SnapshotMetadata& metadata, bool discard_log) {
  wal_->mark_snapshot(metadata, discard_log);
  snapshot_metadata_ = metadata;
  snapshots_.remove_older_than(metadata.index);
}

bool Storage::adopt_snapshot(const raft::SnapshotMetadata& metadata, raft::Index compact_through) {
  const bool news =
      metadata.index > snapshot_metadata_.index && metadata.index + 1 >= wal_->first_index() &&
      metadata.index <= wal_->last_index() && wal_->term(metadata.index) == metadata.term;
  if (!news) {
    // Never the current snapshot's own file: that one has a different (term, index) name.
    if (metadata.index != snapshot_metadata_.index) {
      ::unlink(snapshots_.path_for(metadata.term, metadata.index).c_str());
    }
    return false;
  }
  // The files this releases go on remover_'s thread: this runs on the node loop (file_remover.h).
  wal_->mark_snapshot_and_compact(metadata, std::min(compact_through, metadata.index), &remover_);
  snapshot_metadata_ = metadata;
  snapshots_.remove_older_than(metadata.index, &remover_);
  return true;
}

bool Storage::apply_snapshot(const raft::Snapshot& snapshot) {
  if (snapshot.metadata.index <= snapshot_metadata_.index) return false;
  make_durable(snapshot, /*discard_log=*/true);
  wal_->compact(snapshot.metadata.index);  // the log restarted: release what it no longer needs
  return true;
}

void Storage::create_snapshot(raft::Index index, const raft::ConfState& conf_state,
                              std::string data) {
  if (index <= snapshot_metadata_.index) return;
  if (index > wal_->last_index()) {
    std::fprintf(stderr, "storage: create_snapshot(%llu) beyond the last index %llu\n",
                 static_cast<unsigned long long>(index),
                 static_cast<unsigned long long>(wal_->last_index()));
    std::abort();
  }
  raft::Snapshot s;
  s.metadata = {index, wal_->term(index), conf_state};
  s.data = std::move(data);
  make_durable(s, /*discard_log=*/false);
}

void Storage::set_conf_state(const raft::ConfState& conf_state) {
  if (snapshot_metadata_.index != 0) {
    std::fprintf(stderr, "storage: set_conf_state after a snapshot exists\n");
    std::abort();
  }
  // Index 0 has no snapshot file: the WAL marker alone carries the bootstrap membership.
  raft::SnapshotMetadata m{0, 0, conf_state};
  wal_->mark_snapshot(m, /*discard_log=*/false);
  snapshot_metadata_ = m;
}

}  // namespace storage
