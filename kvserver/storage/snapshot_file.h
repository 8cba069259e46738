// Snapshot files: one raft::Snapshot (metadata + the state machine image) per file, in the data
// dir's snap/ directory, named `<term:016x>-<index:016x>.snap` so they sort by term, then index.
//
// On-disk format (integers little-endian):
//   file := magic "KVSNAP01" | SnapshotMetadata (coding.h) | data_len u64 | data | crc32c u32
//   crc32c covers every byte before it.
// A file is written as `<name>.tmp`, fsynced, renamed to `<name>`, and the directory fsynced: a
// crash leaves either no file or a whole one under the final name (a stray .tmp is removed later).
// The node writes its own snapshots in a forked child (write_snapshot_file, the same steps);
// the Storage then adopts the finished file (storage.h).
// Reading checks the magic, the lengths and the CRC; any mismatch is an Error naming the file.
//
// Thread-safety: none; one owner. Write/fsync failures are fail-stop (file_util.h).
#pragma once

#include <string>
#include <string_view>

#include "certs/result.h"
#include "kvserver/raft/types.h"
#include "kvserver/storage/file_remover.h"

namespace storage {

std::string snapshot_file_name(raft::Term term, raft::Index index);

// The bytes of a snapshot file, and back. `path` only names the file in errors.
std::string encode_snapshot_file(const raft::Snapshot& snapshot);
certs::Result<raft::Snapshot> decode_snapshot_file(std::string_view bytes, const std::string& path);

// Where a snapshot file's data starts: the size of everything before it (magic, metadata, length).
// The data is followed by the 4-byte CRC.
std::size_t snapshot_file_data_offset(const raft::SnapshotMetadata& metadata);
constexpr std::size_t kSnapshotFileTrailerBytes = 4;

// Writes a whole snapshot file (metadata + data) durably under `path` - `<path>.tmp` (0600),
// fsync, rename, fsync of the directory - without copying the data into one buffer first.
// Returns an Error naming the file instead of stopping the process: it runs in the snapshot
// writer's child, whose failure the node reports.
// durable = false (a scratch file that is read back at once and removed, e.g. the image a client
// streams): no pacing, no fsyncs, so it costs the disk (and the WAL's fsyncs) nothing unless
// writeback gets to it first.
certs::Status write_snapshot_file(const std::string& path, const raft::SnapshotMetadata& metadata,
                                  std::string_view data, bool durable = true);

class SnapshotStore {
 public:
  // Creates `dir` (0700) if missing.
  static certs::Result<SnapshotStore> open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::string path_for(raft::Term term, raft::Index index) const;
  // Where a snapshot is written before it is renamed to path_for(); removed as a leftover by
  // remove_older_than() unless renamed first.
  std::string temp_path_for(raft::Term term, raft::Index index) const;

  // Makes `snapshot` durable under its final name (temp file, fsync, rename, fsync dir).
  void save(const raft::Snapshot& snapshot);
  // Reads and verifies the snapshot the WAL's marker names.
  certs::Result<raft::Snapshot> load(const raft::SnapshotMetadata& metadata) const;
  // Deletes snapshot files for indexes below `index` and leftover .tmp files, without a directory
  // fsync (a file that comes back after a crash is harmless). Returns the count. With a `remover`,
  // they are handed to it instead of deleted here.
  std::size_t remove_older_than(raft::Index index, FileRemover* remover = nullptr);

 private:
  explicit SnapshotStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace storage
