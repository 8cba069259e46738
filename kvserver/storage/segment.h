// One WAL segment file: `<dir>/<seq as 16 hex digits>.wal`, a sequence of records (record.h).
//
// A segment is preallocated to its capacity with fallocate when created, so appends do not change
// the file size and fdatasync need not journal a size update on every batch; unwritten space reads
// back as zeros, which is how a reader finds the end of the data. A segment whose last record would
// pass the capacity is closed and the next one started (records never span segments), except that
// a single record larger than a whole segment gets a segment of its own that grows past capacity.
//
// Preallocated space is zero-filled ahead of the writes, kZeroAheadBytes at a time. fallocate
// leaves "unwritten" extents (ext4, xfs): the first write into each block converts its extent, a
// metadata update that the next fdatasync must also write - a second synchronous I/O. Writing
// zeros a chunk ahead pays that once per chunk, in the fdatasync that follows it; every batch
// after it rewrites blocks that are already written. Measured on the test VM (ext4, 4 KiB
// appends, each followed by fdatasync): 133 us per append without, 85 us with, as fast as a
// fully zero-filled file. The price: each WAL block is written twice (zeros, then data), and the
// one fdatasync per chunk that carries the zeros takes about 1 ms instead of 0.1-0.25 ms.
// RocksDB recycles WAL files for the same reason.
//
// Write failures and fsync failures are fail-stop (file_util.h).
//
// Thread-safety: none; owned by one Wal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "certs/result.h"

namespace storage {

constexpr std::uint64_t kZeroAheadBytes = 1 << 20;

std::string segment_file_name(std::uint64_t seq);
// The seq of a name made by segment_file_name, or nullopt for any other name.
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);

class Segment {
 public:
  // Creates a new, empty segment file (fails if it exists), preallocated to `capacity_bytes` when
  // `preallocate`, and makes its directory entry durable. Fail-stop on I/O errors.
  static Segment create(const std::string& dir, std::uint64_t seq, std::uint64_t capacity_bytes,
                        bool preallocate);
  // Opens an existing segment for reading and appending at `write_offset` (the end of its valid
  // records, found by the caller's scan). Zero-fills ahead within the file's current size.
  static certs::Result<Segment> open(const std::string& dir, std::uint64_t seq,
                                     std::uint64_t write_offset);

  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&& other) noexcept;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  std::uint64_t seq() const { return seq_; }
  const std::string& path() const { return path_; }
  std::uint64_t write_offset() const { return write_offset_; }

  // Writes `data` at the write offset and advances it, zero-filling the next chunk of preallocated
  // space when the writes come near its end; no sync. Fail-stop.
  void append(std::string_view data);
  // fdatasync: everything appended so far is durable when this returns. Fail-stop.
  void sync();
  // Cuts the file at `offset` (dropping a torn tail), re-preallocates to `capacity_bytes` and
  // syncs, so the dropped bytes read back as zeros and the next append goes at `offset`.
  void truncate_to(std::uint64_t offset, std::uint64_t capacity_bytes, bool preallocate);
  // Reads `n` bytes at `offset` (a record the index points at).
  certs::Result<std::string> read(std::uint64_t offset, std::size_t n) const;

 private:
  Segment(std::string path, std::uint64_t seq, int fd, std::uint64_t write_offset,
          std::uint64_t preallocated)
      : path_(std::move(path)),
        seq_(seq),
        fd_(fd),
        write_offset_(write_offset),
        preallocated_(preallocated),
        zeroed_until_(write_offset) {}

  void zero_ahead();

  std::string path_;
  std::uint64_t seq_ = 0;
  int fd_ = -1;
  std::uint64_t write_offset_ = 0;
  std::uint64_t preallocated_ = 0;  // zero-fill only below this: never grow the file
  std::uint64_t zeroed_until_ = 0;  // bytes before this are written (data or zeros)
};

}  // namespace storage
