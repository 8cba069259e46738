// WalReplay: rebuilds the durable Raft state from the whole records of the WAL, oldest first.
//
// Rules (record meanings in record.h):
//   - The first segment replayed starts the state from its header: hard state, snapshot, and a log
//     that ends at prev_index. Entries in (compacted_index, prev_index] lived in released
//     segments, so a later compact record must cover them; finish() reports it if none did.
//   - Every later segment's header must continue the log exactly where the previous one ended.
//   - Entries replace any conflicting suffix; a hard state record replaces the previous one; a
//     snapshot marker with keep_suffix=0 discards the log; a compact record drops its prefix.
// Any broken rule is an Error naming the segment file and the byte offset of the record: the WAL
// is then not what this program wrote, and the server must stop rather than guess.
//
// Thread-safety: none; used once, by Wal::open.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "certs/result.h"
#include "kvserver/raft/types.h"
#include "kvserver/storage/log_index.h"
#include "kvserver/storage/record.h"

namespace storage {

class WalReplay {
 public:
  // One whole record of segment `seq` (file `path`) at byte `offset`, `record_bytes` long.
  certs::Status apply(std::uint64_t seq, const std::string& path, std::uint64_t offset,
                      RecordType type, std::string_view payload, std::uint32_t record_bytes);
  // Called once after the last record; checks nothing is missing.
  certs::Status finish();

  bool started() const { return started_; }
  const raft::HardState& hard_state() const { return hard_state_; }
  const raft::SnapshotMetadata& snapshot() const { return snapshot_; }
  raft::Index compacted_index() const { return compacted_index_; }
  LogIndex& log() { return log_; }
  // The highest entry index each segment holds (0: none), for releasing segments later.
  const std::map<std::uint64_t, raft::Index>& max_entry_index_by_segment() const {
    return max_entry_index_;
  }

 private:
  certs::Status apply_header(std::string_view payload, std::uint64_t seq);
  certs::Status apply_entry(std::string_view payload, const EntryLocation& loc);
  certs::Status apply_snapshot(std::string_view payload);
  certs::Status apply_compact(std::string_view payload);

  bool started_ = false;
  std::uint64_t expected_seq_ = 0;
  raft::HardState hard_state_;
  raft::SnapshotMetadata snapshot_;
  raft::Index compacted_index_ = 0;  // the log holds nothing at or below this
  raft::Term compacted_term_ = 0;
  LogIndex log_;
  std::map<std::uint64_t, raft::Index> max_entry_index_;
};

}  // namespace storage
