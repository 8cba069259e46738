// Wal::open: find the segments, replay them, and repair a torn tail (rules in wal.h).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "kvserver/storage/file_util.h"
#include "kvserver/storage/record.h"
#include "kvserver/storage/wal.h"
#include "kvserver/storage/wal_replay.h"

namespace storage {
namespace {

struct ScannedSegment {
  std::uint64_t seq = 0;
  std::string path;
  std::uint64_t end = 0;         // just past the last whole record
  std::uint64_t header_end = 0;  // 0: not even the header record is whole
};

std::string where(const std::string& path, std::uint64_t offset) {
  return path + " at byte offset " + std::to_string(offset);
}

}  // namespace

certs::Result<std::unique_ptr<Wal>> Wal::open(const WalOptions& options) {
  if (options.segment_bytes < 4096) {
    std::fprintf(stderr, "storage: WalOptions::segment_bytes below 4096\n");
    std::abort();
  }
  if (auto st = ensure_dir(options.dir); !st) return st.error();
  auto names = list_files(options.dir, ".wal");
  if (!names) return names.error();

  std::unique_ptr<Wal> wal(new Wal());
  wal->options_ = options;

  std::vector<ScannedSegment> segs;
  for (const std::string& name : *names) {
    auto seq = parse_segment_file_name(name);
    if (!seq) {
      return certs::Error("unexpected file " + options.dir + "/" + name +
                          " in the WAL directory; move it away");
    }
    if (!segs.empty() && *seq != segs.back().seq + 1) {
      return certs::Error("WAL segment " + segment_file_name(segs.back().seq + 1) +
                          " is missing in " + options.dir + " (found " + name + " after " +
                          segment_file_name(segs.back().seq) + ")");
    }
    segs.push_back(ScannedSegment{*seq, options.dir + "/" + name, 0, 0});
  }

  WalReplay replay;
  std::string torn;  // where a torn tail was found, for the log line / tests
  for (std::size_t k = 0; k < segs.size() && torn.empty(); ++k) {
    ScannedSegment& s = segs[k];
    auto content = read_file(s.path);
    if (!content) return content.error();
    std::uint64_t offset = 0;
    for (;;) {
      const ParsedRecord r = parse_record(*content, offset);
      if (r.kind == ParsedRecord::Kind::kEnd) break;
      if (r.kind == ParsedRecord::Kind::kDamaged) {
        // Torn write or damage in the middle? Only a crash mid-write can leave damage with nothing
        // valid after it, since every earlier batch was synced before the next one began.
        bool valid_after = any_valid_record_from(*content, offset + 1);
        for (std::size_t m = k + 1; m < segs.size() && !valid_after; ++m) {
          auto later = read_file(segs[m].path);
          if (!later) return later.error();
          valid_after = any_valid_record_from(*later, 0);
        }
        if (valid_after) {
          return certs::Error(
              "WAL " + where(s.path, offset) + ": " + r.reason +
              ", and valid records follow it: the log is damaged in the middle, not torn by a "
              "crash; refusing to start rather than drop acknowledged entries (restore this "
              "member's data dir, or remove and re-add the member)");
        }
        torn = where(s.path, offset) + " (" + r.reason + ")";
        break;
      }
      auto st = replay.apply(s.seq, s.path, offset, r.type, r.payload,
                             static_cast<std::uint32_t>(r.end - offset));
      if (!st) return st.error();
      if (offset == 0) s.header_end = r.end;
      offset = r.end;
    }
    s.end = offset;
  }

  // The segments that hold records; any after them are empty or torn leftovers of a crash.
  std::size_t kept = 0;
  for (std::size_t k = 0; k < segs.size(); ++k) {
    if (segs[k].header_end > 0) kept = k + 1;
  }
  for (std::size_t k = 0; k < kept; ++k) {
    if (segs[k].header_end == 0) {
      return certs::Error("WAL " + segs[k].path +
                          " holds no record but later segments do: the log is damaged in the "
                          "middle; refusing to start");
    }
  }
  if (kept == 0 && !segs.empty() && segs.front().seq != 0) {
    return certs::Error(
        "WAL " + options.dir + " has segments from " + segs.front().path +
        " on but none holds a whole record; refusing to start on an unreadable log");
  }
  if (auto st = replay.finish(); !st)
    return certs::Error("WAL " + options.dir + ": " + st.error().message);

  // Every check passed: only now change anything on disk.
  for (std::size_t k = kept; k < segs.size(); ++k) {
    if (::unlink(segs[k].path.c_str()) != 0)
      fail_stop("delete torn WAL segment " + segs[k].path, errno);
  }
  if (kept < segs.size()) sync_dir(options.dir);
  if (!torn.empty()) wal->repaired_tail_ = torn;

  if (kept == 0) {
    wal->start_segment(0);
    std::string none;
    wal->flush(none);
    return wal;
  }
  for (std::size_t k = 0; k < kept; ++k) {
    auto seg = Segment::open(options.dir, segs[k].seq, segs[k].end);
    if (!seg) return seg.error();
    const auto& max = replay.max_entry_index_by_segment();
    const auto it = max.find(segs[k].seq);
    wal->segments_.push_back(
        SegmentSlot{std::move(*seg), it == max.end() ? 0 : it->second, segs[k].header_end});
  }
  // Cut whatever follows the last whole record (a torn write, or nothing) and restore the
  // preallocation, so the next append lands right after the durable log.
  wal->current().truncate_to(segs[kept - 1].end, options.segment_bytes, options.preallocate);
  if (!torn.empty()) {
    std::fprintf(stderr, "storage: WAL had a torn tail at %s; cut it (a crash mid-write)\n",
                 torn.c_str());
  }
  wal->hard_state_ = replay.hard_state();
  wal->snapshot_ = replay.snapshot();
  wal->log_ = std::move(replay.log());
  return wal;
}

}  // namespace storage
