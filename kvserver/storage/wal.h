// Wal: the write-ahead log of one kvserver: Raft entries, hard state and snapshot markers in
// segment files, plus the read side the Raft core uses as its log storage.
//
// Directory: `<dir>/<seq:016x>.wal`, seq consecutive from the oldest kept segment. Record framing
// and record types: record.h; payloads: coding.h and wal_payloads.h. Each segment starts with a
// header record (seq, hard state, snapshot, compacted index, last entry before it) so replay can
// begin at any segment once older ones are released. Segments are released only by compact(),
// after a durable compact record, and only while every entry they hold is at or below it.
//
// Durability: save() writes a whole batch (entries, then the hard state if it changed) with one
// pwrite and makes it durable with one fdatasync (group commit); when it returns, the batch is on
// disk. Entries go before the hard state so a torn batch never leaves a commit index pointing past
// the durable log. Write and fsync failures abort the process (file_util.h explains why).
//
// Recovery (open): every record is replayed in order (wal_replay.h). A damaged record with no valid
// record anywhere after it is a torn write from a crash: the log is cut there (and later empty
// segments are removed) and the server starts with what was durable. A damaged record followed by
// a valid one - a CRC mismatch, an impossible length or a zeroed header in the middle - is an Error
// naming the file and byte offset: silent loss of acknowledged entries is never an option.
// (Known limit: a torn last record whose own payload embeds a complete, CRC-valid WAL record - an
// entry whose value is a copy of WAL bytes - reads as "valid record follows" and stops the
// server; an operator then cuts the file at the named offset.)
//
// Read side: first_index()/last_index()/term()/entries() answer from an in-memory index of record
// locations (log_index.h); entry data is read back from the segment files.
//
// Invariants: the log holds entries (compacted index, last_index()], consecutive, terms
// non-decreasing; compacted index <= snapshot index. Every method's preconditions are CHECKed
// (abort) - they are programmer errors.
//
// Thread-safety: none. One owner (the server's node loop) calls every method.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "certs/result.h"
#include "kvserver/raft/types.h"
#include "kvserver/storage/file_remover.h"
#include "kvserver/storage/log_index.h"
#include "kvserver/storage/record.h"
#include "kvserver/storage/segment.h"

namespace storage {

struct WalOptions {
  std::string dir;                          // created 0700 if missing; its parent must exist
  std::uint64_t segment_bytes = 64u << 20;  // roll to a new segment beyond this size
  bool preallocate = true;                  // fallocate each segment to segment_bytes
};

class Wal {
 public:
  // Opens (or creates) the WAL in options.dir and recovers what was durable; see the header
  // comment for what is repaired and what is an Error.
  static certs::Result<std::unique_ptr<Wal>> open(const WalOptions& options);

  // Appends `entries` (consecutive; the first may overlap the log, replacing the conflicting
  // suffix; entries at or below the compacted index are skipped, as they are committed and
  // identical, §5.4) and `hs` if it differs from the last one saved and is not empty, then
  // fdatasyncs once. Nothing to write: no sync.
  void save(const raft::HardState& hs, std::span<const raft::Entry> entries);

  // Records that a snapshot with `metadata` is durable (write its file first); synced.
  // discard_log=false: the snapshot was taken of this log (metadata.index within it, same term);
  // the log stays until compact(). discard_log=true: a leader's snapshot replaces the whole log,
  // which restarts after metadata.index.
  void mark_snapshot(const raft::SnapshotMetadata& metadata, bool discard_log);
  // mark_snapshot(metadata, false) then compact(compact_through), with ONE fdatasync for both
  // records: the node does the two together after each snapshot, on its loop thread. With a
  // `remover`, the released segments are handed to it instead of deleted here.
  std::size_t mark_snapshot_and_compact(const raft::SnapshotMetadata& metadata,
                                        raft::Index compact_through,
                                        FileRemover* remover = nullptr);

  // Drops entries <= `index` (which must be <= the snapshot index; no-op at or below the
  // compacted index), durably, then deletes the oldest segments that hold only dropped entries
  // (never the one being written). Returns how many segments were deleted.
  std::size_t compact(raft::Index index);

  // --- read side (the Raft log storage) ---
  const raft::HardState& hard_state() const { return hard_state_; }
  const raft::SnapshotMetadata& snapshot_metadata() const { return snapshot_; }
  // The log holds (first_index()-1, last_index()]; first_index()-1 is the compacted index, at or
  // below the snapshot's index.
  raft::Index first_index() const { return log_.base_index() + 1; }
  raft::Index last_index() const { return log_.last_index(); }
  // Term of entry i, for first_index()-1 <= i <= last_index().
  raft::Term term(raft::Index i) const;
  // Entries [lo, hi), first_index() <= lo <= hi <= last_index()+1, stopping before the total
  // size (data + 24 bytes per entry, as raft::entry_size counts) would exceed max_bytes - but
  // always at least one entry when lo < hi.
  std::vector<raft::Entry> entries(raft::Index lo, raft::Index hi,
                                   std::uint64_t max_bytes = UINT64_MAX) const;

  // --- introspection (tests, benchmarks, metrics) ---
  const std::string& dir() const { return options_.dir; }
  std::size_t segment_count() const { return segments_.size(); }
  std::uint64_t first_segment_seq() const { return segments_.front().segment.seq(); }
  std::uint64_t sync_count() const { return sync_count_; }
  // Where open() cut a torn tail ("" when it did not): "<file> at byte offset <n>".
  const std::string& repaired_tail() const { return repaired_tail_; }

 private:
  struct SegmentSlot {
    Segment segment;
    raft::Index max_entry_index = 0;  // highest entry index written into it (0: none)
    std::uint64_t header_end = 0;     // byte offset just past its header record
  };

  Wal() = default;
  Segment& current() { return segments_.back().segment; }
  // Appends one record to the pending batch, rolling to a new segment first if it would not fit.
  // Returns the record's offset in the current segment.
  std::uint64_t add_record(std::string& batch, RecordType type, const std::string& payload);
  // The roll decision of add_record for a record of `payload_bytes`; returns its offset.
  std::uint64_t make_room(std::string& batch, std::size_t payload_bytes);
  void roll(std::string& batch);
  void start_segment(std::uint64_t seq);
  std::size_t release_segments(FileRemover* remover = nullptr);
  void flush(std::string& batch);  // writes and fdatasyncs the batch
  // The preconditions of a snapshot marker; `of_this_log`: the snapshot was taken of this log.
  void check_snapshot(const raft::SnapshotMetadata& metadata, bool of_this_log) const;
  // Adds a compact record for `index` to `batch` unless the log is compacted that far already;
  // returns whether it did (the caller then drops the entries once the batch is flushed).
  bool add_compact_record(std::string& batch, raft::Index index);

  WalOptions options_;
  std::deque<SegmentSlot> segments_;
  LogIndex log_;
  raft::HardState hard_state_;  // the last one written
  raft::SnapshotMetadata snapshot_;
  std::uint64_t sync_count_ = 0;
  std::string repaired_tail_;
};

}  // namespace storage
