#include "kvserver/storage/wal_replay.h"

#include <algorithm>

#include "kvserver/storage/coding.h"
#include "kvserver/storage/wal_payloads.h"

namespace storage {
namespace {

certs::Error bad(const std::string& path, std::uint64_t offset, const std::string& what) {
  return certs::Error("WAL " + path + " at byte offset " + std::to_string(offset) + ": " + what +
                      "; refusing to start on a WAL this program did not write (restore the data "
                      "dir from a snapshot or another member)");
}

}  // namespace

certs::Status WalReplay::apply(std::uint64_t seq, const std::string& path, std::uint64_t offset,
                               RecordType type, std::string_view payload,
                               std::uint32_t record_bytes) {
  if (offset == 0 && type != RecordType::kSegmentHeader) {
    return bad(path, offset, "segment does not start with a segment header record");
  }
  certs::Status s = certs::ok_status();
  switch (type) {
    case RecordType::kSegmentHeader:
      if (offset != 0) return bad(path, offset, "segment header record in the middle of a segment");
      s = apply_header(payload, seq);
      break;
    case RecordType::kEntry:
      s = apply_entry(payload, EntryLocation{0, seq, offset, record_bytes});
      break;
    case RecordType::kHardState: {
      auto hs = decode_hard_state(payload);
      if (!hs) return bad(path, offset, "undecodable hard state record");
      hard_state_ = *hs;
      break;
    }
    case RecordType::kSnapshot:
      s = apply_snapshot(payload);
      break;
    case RecordType::kCompact:
      s = apply_compact(payload);
      break;
    case RecordType::kZero:
      return bad(path, offset, "record of type 0");
  }
  if (!s) return bad(path, offset, s.error().message);
  return s;
}

certs::Status WalReplay::apply_header(std::string_view payload, std::uint64_t seq) {
  auto h = decode_segment_header(payload);
  if (!h) return certs::Error("undecodable segment header");
  if (h->seq != seq) {
    return certs::Error("segment header says seq " + std::to_string(h->seq) +
                        " but the file name says " + std::to_string(seq));
  }
  if (h->prev_index < h->compacted_index || h->compacted_index > h->snapshot.index) {
    return certs::Error("segment header's indexes are out of order");
  }
  if (!started_) {
    started_ = true;
    hard_state_ = h->hard_state;
    snapshot_ = h->snapshot;
    compacted_index_ = h->compacted_index;
    compacted_term_ = h->compacted_term;
    log_.reset(h->prev_index, h->prev_term);
  } else {
    if (seq != expected_seq_) {
      return certs::Error("expected segment " + std::to_string(expected_seq_) + " next");
    }
    if (h->prev_index != log_.last_index() ||
        (log_.term_at(h->prev_index) != 0 && h->prev_term != log_.term_at(h->prev_index))) {
      return certs::Error("segment header does not continue the log of the segment before it");
    }
  }
  expected_seq_ = seq + 1;
  max_entry_index_[seq] = 0;
  return certs::ok_status();
}

certs::Status WalReplay::apply_entry(std::string_view payload, const EntryLocation& where) {
  auto e = decode_entry(payload);
  if (!e) return certs::Error("undecodable entry record");
  if (e->index <= compacted_index_) {
    return certs::Error("entry " + std::to_string(e->index) + " at or below the compacted index " +
                        std::to_string(compacted_index_));
  }
  EntryLocation loc = where;
  loc.term = e->term;
  if (const char* err = log_.append(e->index, loc)) {
    return certs::Error("entry " + std::to_string(e->index) + ": " + err);
  }
  raft::Index& max = max_entry_index_[where.segment_seq];
  max = std::max(max, e->index);
  return certs::ok_status();
}

certs::Status WalReplay::apply_snapshot(std::string_view payload) {
  auto m = decode_snapshot_marker(payload);
  if (!m) return certs::Error("undecodable snapshot marker");
  const raft::SnapshotMetadata& meta = m->metadata;
  if (meta.index < snapshot_.index) return certs::Error("snapshot marker goes backwards");
  if (!m->keep_suffix) {
    log_.reset(meta.index, meta.term);
    compacted_index_ = meta.index;
    compacted_term_ = meta.term;
  } else if (meta.index > log_.last_index()) {
    return certs::Error("snapshot marker of this log is beyond its last entry");
  } else if (meta.index >= log_.base_index() && log_.term_at(meta.index) != 0 &&
             log_.term_at(meta.index) != meta.term) {
    return certs::Error("snapshot marker's term does not match the log it was taken of");
  }
  snapshot_ = meta;
  return certs::ok_status();
}

certs::Status WalReplay::apply_compact(std::string_view payload) {
  auto m = decode_compact_marker(payload);
  if (!m) return certs::Error("undecodable compact record");
  if (m->index > snapshot_.index || m->index < compacted_index_) {
    return certs::Error("compact record outside [compacted index, snapshot index]");
  }
  if (m->index > log_.last_index()) return certs::Error("compact record beyond the last entry");
  if (m->index >= log_.base_index()) {
    const raft::Term t = log_.term_at(m->index);
    if (t != 0 && t != m->term) return certs::Error("compact record's term does not match the log");
    log_.drop_through(m->index);
  }
  // else: the entries up to it were in released segments; the log keeps its (higher) base.
  compacted_index_ = m->index;
  compacted_term_ = m->term;
  return certs::ok_status();
}

certs::Status WalReplay::finish() {
  if (started_ && log_.base_index() != compacted_index_) {
    return certs::Error("WAL is missing entries " + std::to_string(compacted_index_ + 1) + ".." +
                        std::to_string(log_.base_index()) +
                        ": a segment holding them was released before the log was compacted");
  }
  if (started_) log_.set_base_term(compacted_term_);
  return certs::ok_status();
}

}  // namespace storage
