#include "kvserver/storage/segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "kvserver/storage/file_util.h"

namespace storage {
namespace {

constexpr std::string_view kSuffix = ".wal";

// fallocate may be unsupported (tmpfs on old kernels, some network filesystems); the WAL is still
// correct without it, only each fdatasync also journals the size change. Returns whether the space
// is allocated.
bool preallocate_file(int fd, std::uint64_t bytes, const std::string& path) {
  if (::fallocate(fd, 0, 0, static_cast<off_t>(bytes)) == 0) return true;
  if (errno == EOPNOTSUPP || errno == ENOSYS) return false;
  fail_stop("preallocate " + std::to_string(bytes) + " bytes for " + path, errno);
}

std::uint64_t file_size(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_stop("stat " + path, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

std::uint64_t round_up_to_block(std::uint64_t offset) {
  constexpr std::uint64_t kBlock = 4096;
  return (offset + kBlock - 1) / kBlock * kBlock;
}

}  // namespace

std::string segment_file_name(std::uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(seq));
  return std::string(buf) + std::string(kSuffix);
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != 16 + kSuffix.size() || name.substr(16) != kSuffix) return std::nullopt;
  std::uint64_t seq = 0;
  for (char c : name.substr(0, 16)) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    seq = seq << 4 | static_cast<std::uint64_t>(d);
  }
  return seq;
}

Segment Segment::create(const std::string& dir, std::uint64_t seq, std::uint64_t capacity_bytes,
                        bool preallocate) {
  std::string path = dir + "/" + segment_file_name(seq);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) fail_stop("create WAL segment " + path, errno);
  const bool allocated = preallocate && preallocate_file(fd, capacity_bytes, path);
  // fsync (not fdatasync): the allocation is metadata that must be durable before we rely on it.
  fullsync(fd, path);
  sync_dir(dir);
  return Segment(std::move(path), seq, fd, 0, allocated ? capacity_bytes : 0);
}

certs::Result<Segment> Segment::open(const std::string& dir, std::uint64_t seq,
                                     std::uint64_t write_offset) {
  std::string path = dir + "/" + segment_file_name(seq);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return certs::Error("cannot open WAL segment " + path + ": " + std::strerror(errno));
  const std::uint64_t size = file_size(fd, path);
  return Segment(std::move(path), seq, fd, write_offset, size);
}

Segment::Segment(Segment&& other) noexcept
    : path_(std::move(other.path_)),
      seq_(other.seq_),
      fd_(std::exchange(other.fd_, -1)),
      write_offset_(other.write_offset_),
      preallocated_(other.preallocated_),
      zeroed_until_(other.zeroed_until_) {}

Segment& Segment::operator=(Segment&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    seq_ = other.seq_;
    fd_ = std::exchange(other.fd_, -1);
    write_offset_ = other.write_offset_;
    preallocated_ = other.preallocated_;
    zeroed_until_ = other.zeroed_until_;
  }
  return *this;
}

Segment::~Segment() {
  if (fd_ >= 0) ::close(fd_);
}

void Segment::append(std::string_view data) {
  pwrite_all(fd_, data, write_offset_, path_);
  write_offset_ += data.size();
  zero_ahead();
}

void Segment::zero_ahead() {
  // Refill when less than half a chunk of written space is left ahead of the data.
  if (write_offset_ + kZeroAheadBytes / 2 <= zeroed_until_) return;
  // The block the data ends in was written by the data itself. Chunks end on multiples of
  // kZeroAheadBytes.
  const std::uint64_t from = std::max(zeroed_until_, round_up_to_block(write_offset_));
  const std::uint64_t to = std::min((from / kZeroAheadBytes + 1) * kZeroAheadBytes, preallocated_);
  if (from >= to) return;
  static const std::string zeros(kZeroAheadBytes, '\0');
  pwrite_all(fd_, std::string_view(zeros).substr(0, to - from), from, path_);
  zeroed_until_ = to;
}

void Segment::sync() {
  datasync(fd_, path_);
}

void Segment::truncate_to(std::uint64_t offset, std::uint64_t capacity_bytes, bool preallocate) {
  if (::ftruncate(fd_, static_cast<off_t>(offset)) != 0) {
    fail_stop("truncate " + path_ + " to byte offset " + std::to_string(offset), errno);
  }
  const bool allocated =
      preallocate && capacity_bytes > offset && preallocate_file(fd_, capacity_bytes, path_);
  fullsync(fd_, path_);
  write_offset_ = offset;
  preallocated_ = allocated ? capacity_bytes : offset;
  zeroed_until_ = offset;
}

certs::Result<std::string> Segment::read(std::uint64_t offset, std::size_t n) const {
  return pread_exact(fd_, n, offset, path_);
}

}  // namespace storage
