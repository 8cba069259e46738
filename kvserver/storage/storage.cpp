#include "kvserver/storage/storage.h"

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
  raft::Snapshot snap;
  snap.metadata = (*wal)->snapshot_metadata();
  if (snap.metadata.index != 0) {
    auto loaded = snapshots->load(snap.metadata);
    if (!loaded) return loaded.error();
    snap = std::move(*loaded);
  }
  std::unique_ptr<Storage> s(new Storage(std::move(*wal), std::move(*snapshots)));
  s->snapshot_ = std::move(snap);
  return s;
}

raft::InitialState Storage::initial_state() const {
  return raft::InitialState{wal_->hard_state(), snapshot_.metadata.conf_state};
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

void Storage::make_durable(raft::Snapshot snapshot, bool discard_log) {
  snapshots_.save(snapshot);
  wal_->mark_snapshot(snapshot.metadata, discard_log);
  const raft::Index index = snapshot.metadata.index;
  snapshot_ = std::move(snapshot);
  snapshots_.remove_older_than(index);
}

bool Storage::apply_snapshot(const raft::Snapshot& snapshot) {
  if (snapshot.metadata.index <= snapshot_.metadata.index) return false;
  make_durable(snapshot, /*discard_log=*/true);
  wal_->compact(snapshot.metadata.index);  // the log restarted: release what it no longer needs
  return true;
}

void Storage::create_snapshot(raft::Index index, const raft::ConfState& conf_state,
                              std::string data) {
  if (index <= snapshot_.metadata.index) return;
  if (index > wal_->last_index()) {
    std::fprintf(stderr, "storage: create_snapshot(%llu) beyond the last index %llu\n",
                 static_cast<unsigned long long>(index),
                 static_cast<unsigned long long>(wal_->last_index()));
    std::abort();
  }
  raft::Snapshot s;
  s.metadata = {index, wal_->term(index), conf_state};
  s.data = std::move(data);
  make_durable(std::move(s), /*discard_log=*/false);
}

void Storage::set_conf_state(const raft::ConfState& conf_state) {
  if (snapshot_.metadata.index != 0) {
    std::fprintf(stderr, "storage: set_conf_state after a snapshot exists\n");
    std::abort();
  }
  // Index 0 has no snapshot file: the WAL marker alone carries the bootstrap membership.
  raft::SnapshotMetadata m{0, 0, conf_state};
  wal_->mark_snapshot(m, /*discard_log=*/false);
  snapshot_.metadata = m;
}

}  // namespace storage
