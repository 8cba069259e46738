// Wal's write side and read side; open() and recovery live in wal_open.cpp.
#include "kvserver/storage/wal.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "kvserver/storage/coding.h"
#include "kvserver/storage/file_util.h"
#include "kvserver/storage/wal_payloads.h"

namespace storage {
namespace {

[[noreturn]] void check_failed(const char* what, raft::Index a, raft::Index b) {
  std::fprintf(stderr, "storage: Wal precondition failed: %s (%llu, %llu)\n", what,
               static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
  std::abort();
}

}  // namespace

std::uint64_t Wal::add_record(std::string& batch, RecordType type, const std::string& payload) {
  const std::uint64_t offset = make_room(batch, payload.size());
  append_record(batch, type, payload);
  return offset;
}

std::uint64_t Wal::make_room(std::string& batch, std::size_t payload_bytes) {
  const std::uint64_t bytes = kRecordHeaderBytes + payload_bytes;
  const std::uint64_t used = current().write_offset() + batch.size();
  // Roll unless the segment holds nothing but its header: a record bigger than a whole segment
  // then gets a segment of its own (which grows past segment_bytes) instead of rolling forever.
  if (used + bytes > options_.segment_bytes && used > segments_.back().header_end) roll(batch);
  return current().write_offset() + batch.size();
}

void Wal::roll(std::string& batch) {
  flush(batch);  // the old segment is complete and durable before the next one exists
  start_segment(current().seq() + 1);
}

void Wal::start_segment(std::uint64_t seq) {
  segments_.push_back(SegmentSlot{
      Segment::create(options_.dir, seq, options_.segment_bytes, options_.preallocate), 0, 0});
  SegmentHeader h;
  h.seq = seq;
  h.hard_state = hard_state_;
  h.snapshot = snapshot_;
  h.compacted_index = log_.base_index();
  h.compacted_term = log_.term_at(log_.base_index());
  h.prev_index = log_.last_index();
  h.prev_term = log_.term_at(h.prev_index);
  std::string batch;
  append_record(batch, RecordType::kSegmentHeader, encode_segment_header(h));
  current().append(batch);  // synced with the batch that follows (or flush())
  segments_.back().header_end = batch.size();
}

void Wal::flush(std::string& batch) {
  if (!batch.empty()) current().append(batch);
  batch.clear();
  current().sync();
  ++sync_count_;
}

void Wal::save(const raft::HardState& hs, std::span<const raft::Entry> entries) {
  const bool hs_changed = !hs.empty() && hs != hard_state_;
  if (entries.empty() && !hs_changed) return;
  std::string batch;
  std::size_t batch_bytes = 2 * kRecordHeaderBytes + 24;
  for (const raft::Entry& e : entries)
    batch_bytes += kRecordHeaderBytes + encoded_entry_size(e);
  // One allocation, and each entry encoded straight into it: at large batches the copies, not
  // the CRC, are what the CPU spends its time on.
  batch.reserve(std::min<std::size_t>(batch_bytes, options_.segment_bytes));
  std::string payload;
  for (const raft::Entry& e : entries) {
    if (&e != &entries.front() && e.index != (&e - 1)->index + 1) {
      check_failed("entries not consecutive", (&e - 1)->index, e.index);
    }
    if (e.index <= log_.base_index()) continue;  // compacted: committed and identical (§5.4)
    const std::size_t payload_bytes = encoded_entry_size(e);
    const std::uint64_t offset = make_room(batch, payload_bytes);
    const std::size_t start = begin_record(batch);
    encode_entry(batch, e);
    seal_record(batch, start, RecordType::kEntry);
    const EntryLocation loc{e.term, current().seq(), offset,
                            static_cast<std::uint32_t>(kRecordHeaderBytes + payload_bytes)};
    if (const char* err = log_.append(e.index, loc)) check_failed(err, e.index, log_.last_index());
    raft::Index& max = segments_.back().max_entry_index;
    if (e.index > max) max = e.index;
  }
  if (hs_changed) {
    payload.clear();
    encode_hard_state(payload, hs);
    add_record(batch, RecordType::kHardState, payload);
    hard_state_ = hs;
  }
  flush(batch);
}

void Wal::check_snapshot(const raft::SnapshotMetadata& metadata, bool of_this_log) const {
  if (metadata.index < snapshot_.index) {
    check_failed("snapshot older than the current one", metadata.index, snapshot_.index);
  }
  if (of_this_log && (metadata.index < log_.base_index() || metadata.index > log_.last_index() ||
                      log_.term_at(metadata.index) != metadata.term)) {
    check_failed("snapshot said to be of this log does not match it", metadata.index,
                 metadata.term);
  }
}

bool Wal::add_compact_record(std::string& batch, raft::Index index) {
  if (index > snapshot_.index) check_failed("compact beyond the snapshot", index, snapshot_.index);
  if (index <= log_.base_index()) return false;
  add_record(batch, RecordType::kCompact, encode_compact_marker({index, log_.term_at(index)}));
  return true;
}

void Wal::mark_snapshot(const raft::SnapshotMetadata& metadata, bool discard_log) {
  check_snapshot(metadata, /*of_this_log=*/!discard_log);
  std::string batch;
  add_record(batch, RecordType::kSnapshot, encode_snapshot_marker({metadata, !discard_log}));
  flush(batch);
  if (discard_log) log_.reset(metadata.index, metadata.term);
  snapshot_ = metadata;
}

std::size_t Wal::mark_snapshot_and_compact(const raft::SnapshotMetadata& metadata,
                                           raft::Index compact_through, FileRemover* remover) {
  check_snapshot(metadata, /*of_this_log=*/true);
  std::string batch;
  add_record(batch, RecordType::kSnapshot, encode_snapshot_marker({metadata, true}));
  // Set before the flush so the compact record may reach this snapshot; a failed flush is
  // fail-stop, so nobody sees the early update.
  snapshot_ = metadata;
  const bool drop = add_compact_record(batch, compact_through);
  flush(batch);
  if (drop) log_.drop_through(compact_through);
  return release_segments(remover);
}

std::size_t Wal::compact(raft::Index index) {
  std::string batch;
  // Durable before any segment goes: replay of the remaining segments relies on it.
  if (add_compact_record(batch, index)) {
    flush(batch);
    log_.drop_through(index);
  }
  return release_segments();
}

std::size_t Wal::release_segments(FileRemover* remover) {
  std::vector<std::string> released;
  while (segments_.size() > 1 && segments_.front().max_entry_index <= log_.base_index()) {
    released.push_back(segments_.front().segment.path());
    segments_.pop_front();  // closes its file; the unlink follows, here or on the remover
  }
  if (released.empty()) return 0;
  const std::size_t count = released.size();
  if (remover != nullptr) {
    remover->remove(std::move(released), options_.dir);
    return count;
  }
  for (const std::string& path : released) {
    if (::unlink(path.c_str()) != 0) fail_stop("delete released WAL segment " + path, errno);
  }
  sync_dir(options_.dir);
  return count;
}

raft::Term Wal::term(raft::Index i) const {
  if (i < log_.base_index() || i > log_.last_index()) {
    check_failed("term() outside [first index - 1, last index]", i, log_.last_index());
  }
  return log_.term_at(i);
}

std::vector<raft::Entry> Wal::entries(raft::Index lo, raft::Index hi,
                                      std::uint64_t max_bytes) const {
  if (lo < first_index() || lo > hi || hi > log_.last_index() + 1) {
    check_failed("entries() range outside [first index, last index + 1]", lo, hi);
  }
  // Decide how many entries fit before reading anything.
  raft::Index end = lo;
  std::uint64_t total = 0;
  while (end < hi) {
    // Data size + 24, the charge raft::entry_size makes: the record minus its fixed parts.
    const std::uint64_t bytes =
        log_.at(end).record_bytes - kRecordHeaderBytes - kEntryFixedBytes + 24;
    if (end > lo && total + bytes > max_bytes) break;
    total += bytes;
    ++end;
  }
  std::vector<raft::Entry> out;
  out.reserve(end - lo);
  raft::Index i = lo;
  while (i < end) {
    // One pread per run of records that sit back to back in one segment.
    const EntryLocation& first = log_.at(i);
    raft::Index j = i + 1;
    std::uint64_t run_end = first.offset + first.record_bytes;
    while (j < end && log_.at(j).segment_seq == first.segment_seq && log_.at(j).offset == run_end) {
      run_end += log_.at(j).record_bytes;
      ++j;
    }
    const Segment& seg = segments_[first.segment_seq - segments_.front().segment.seq()].segment;
    auto chunk = seg.read(first.offset, run_end - first.offset);
    if (!chunk) fail_stop(chunk.error().message, EIO);
    std::size_t pos = 0;
    for (raft::Index k = i; k < j; ++k) {
      const ParsedRecord r = parse_record(*chunk, pos);
      std::optional<raft::Entry> e;
      if (r.kind == ParsedRecord::Kind::kOk && r.type == RecordType::kEntry) {
        e = decode_entry(r.payload);
      }
      if (!e || e->index != k || e->term != log_.at(k).term) {
        // The file changed under us after it was written and read back: stop, never serve it.
        fail_stop("WAL " + seg.path() + " at byte offset " + std::to_string(log_.at(k).offset) +
                      ": entry " + std::to_string(k) + " no longer reads back as written",
                  EIO);
      }
      out.push_back(std::move(*e));
      pos = r.end;
    }
    i = j;
  }
  return out;
}

}  // namespace storage
