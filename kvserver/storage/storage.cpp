#include "kvserver/storage/storage.h"

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
  if ((*wal)->snapshot_metadata().index != 0) {
    auto loaded = snapshots->load((*wal)->snapshot_metadata());
    if (!loaded) return loaded.error();
    snap = std::move(*loaded);
  }
  std::unique_ptr<Storage> s(new Storage(std::move(*wal), std::move(*snapshots)));
  s->snapshot_ = std::move(snap);
  return s;
}

void Storage::save_snapshot(const raft::Snapshot& snapshot) {
  snapshots_.save(snapshot);
  wal_->mark_snapshot(snapshot.metadata);
  snapshot_ = snapshot;
  wal_->release_to(snapshot.metadata.index);
  snapshots_.remove_older_than(snapshot.metadata.index);
}

}  // namespace storage
