#include "kvserver/storage/snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "kvserver/storage/coding.h"
#include "kvserver/storage/crc32c.h"
#include "kvserver/storage/file_util.h"

namespace storage {
namespace {

constexpr std::string_view kMagic = "KVSNAP01";
constexpr std::string_view kSuffix = ".snap";

}  // namespace

std::string snapshot_file_name(raft::Term term, raft::Index index) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%016llx-%016llx", static_cast<unsigned long long>(term),
                static_cast<unsigned long long>(index));
  return std::string(buf) + std::string(kSuffix);
}

namespace {

// Everything before the data: magic, metadata, data length.
std::string file_header(const raft::SnapshotMetadata& metadata, std::size_t data_len) {
  std::string out(kMagic);
  encode_snapshot_metadata(out, metadata);
  put_u64(out, data_len);
  return out;
}

certs::Status write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return certs::Error("write " + path + ": " + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return certs::ok_status();
}

// Writes `data` at `offset` a chunk at a time, starting each chunk's writeback as soon as it is
// written and waiting for the one before: at most two chunks are ever dirty. Written in one go,
// a 50 MB image sat dirty in the page cache until the final fsync, and on ext4 (data=ordered)
// the next journal commit - which the WAL's fdatasync of a freshly allocated block forces - had
// to write it all out first: the member's own log fsyncs stalled behind its snapshot (bench/kv:
// Put p99 doubled while snapshots were written).
certs::Status write_paced(int fd, std::uint64_t offset, std::string_view data,
                          const std::string& path) {
  constexpr std::size_t kChunk = 1 << 20;
  std::uint64_t previous = offset;
  std::size_t previous_len = 0;
  while (!data.empty()) {
    const std::size_t n = std::min(kChunk, data.size());
    if (certs::Status st = write_all(fd, data.substr(0, n), path); !st) return st;
    ::sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(n), SYNC_FILE_RANGE_WRITE);
    if (previous_len > 0) {
      ::sync_file_range(
          fd, static_cast<off_t>(previous), static_cast<off_t>(previous_len),
          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    }
    previous = offset;
    previous_len = n;
    offset += n;
    data.remove_prefix(n);
  }
  return certs::ok_status();  // errors sync_file_range might see are reported by the final fsync
}

}  // namespace

std::size_t snapshot_file_data_offset(const raft::SnapshotMetadata& metadata) {
  return file_header(metadata, 0).size();
}

std::string encode_snapshot_file(const raft::Snapshot& snapshot) {
  std::string out = file_header(snapshot.metadata, snapshot.data.size());
  out.append(snapshot.data);
  put_u32(out, crc32c::value(out));
  return out;
}

certs::Status write_snapshot_file(const std::string& path, const raft::SnapshotMetadata& metadata,
                                  std::string_view data, bool durable) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return certs::Error("create " + tmp + ": " + std::strerror(errno));
  const std::string header = file_header(metadata, data.size());
  std::string trailer;
  put_u32(trailer, crc32c::extend(crc32c::value(header), data.data(), data.size()));
  certs::Status st = write_all(fd, header, tmp);
  if (st) st = durable ? write_paced(fd, header.size(), data, tmp) : write_all(fd, data, tmp);
  if (st) st = write_all(fd, trailer, tmp);
  const bool sync = durable && !unsafe_no_fsync();
  if (st && sync && ::fsync(fd) != 0) {
    st = certs::Error("fsync " + tmp + ": " + std::strerror(errno));
  }
  ::close(fd);
  if (!st) return st;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return certs::Error("rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  if (!sync) return st;
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || ::fsync(dfd) != 0)
    st = certs::Error("fsync directory " + dir + ": " + std::strerror(errno));
  if (dfd >= 0) ::close(dfd);
  return st;
}

certs::Result<raft::Snapshot> decode_snapshot_file(std::string_view bytes,
                                                   const std::string& path) {
  const std::string damaged = "snapshot file " + path + " is damaged: ";
  if (bytes.size() < kMagic.size() + 4 || bytes.substr(0, kMagic.size()) != kMagic) {
    return certs::Error(damaged + "not a snapshot file (bad magic or too short)");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (crc32c::value(body) != load_u32(bytes.data() + body.size())) {
    return certs::Error(damaged + "CRC32C mismatch");
  }
  Reader r(body.substr(kMagic.size()));
  raft::Snapshot snap;
  auto meta = read_snapshot_metadata(r);
  const std::uint64_t n = r.u64();
  if (!meta || !r.ok() || n > body.size()) return certs::Error(damaged + "bad lengths");
  snap.data = std::string(r.bytes(n));
  if (!r.done()) return certs::Error(damaged + "bad lengths");
  snap.metadata = std::move(*meta);
  return snap;
}

certs::Result<SnapshotStore> SnapshotStore::open(const std::string& dir) {
  if (auto st = ensure_dir(dir); !st) return st.error();
  return SnapshotStore(dir);
}

std::string SnapshotStore::path_for(raft::Term term, raft::Index index) const {
  return dir_ + "/" + snapshot_file_name(term, index);
}

std::string SnapshotStore::temp_path_for(raft::Term term, raft::Index index) const {
  return path_for(term, index) + ".tmp";
}

void SnapshotStore::save(const raft::Snapshot& snapshot) {
  const std::string path = path_for(snapshot.metadata.term, snapshot.metadata.index);
  const std::string tmp = temp_path_for(snapshot.metadata.term, snapshot.metadata.index);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail_stop("create " + tmp, errno);
  pwrite_all(fd, encode_snapshot_file(snapshot), 0, tmp);
  fullsync(fd, tmp);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail_stop("rename " + tmp + " to " + path, errno);
  sync_dir(dir_);
}

certs::Result<raft::Snapshot> SnapshotStore::load(const raft::SnapshotMetadata& metadata) const {
  const std::string path = path_for(metadata.term, metadata.index);
  auto bytes = read_file(path);
  if (!bytes) {
    return certs::Error("the WAL names snapshot " + path + " but it cannot be read (" +
                        bytes.error().message + ")");
  }
  auto snap = decode_snapshot_file(*bytes, path);
  if (!snap) return snap;
  if (!(snap->metadata == metadata)) {
    return certs::Error("snapshot file " + path + " holds different metadata than the WAL names");
  }
  return snap;
}

std::size_t SnapshotStore::remove_older_than(raft::Index index, FileRemover* remover) {
  std::vector<std::string> removed;
  auto names = list_files(dir_, "");
  if (!names) fail_stop("list " + dir_ + ": " + names.error().message, EIO);
  for (const std::string& name : *names) {
    bool remove = name.ends_with(".tmp");
    // <term>-<index>.snap: the index is the 16 hex digits after the dash.
    if (name.size() == 16 + 1 + 16 + kSuffix.size() && name.ends_with(kSuffix)) {
      const raft::Index i = std::strtoull(name.substr(17, 16).c_str(), nullptr, 16);
      remove = i < index;
    }
    if (remove) removed.push_back(dir_ + "/" + name);
  }
  const std::size_t count = removed.size();
  if (remover != nullptr) {
    remover->remove(std::move(removed), "");
    return count;
  }
  for (const std::string& path : removed) {
    if (::unlink(path.c_str()) != 0) fail_stop("delete old snapshot " + path, errno);
  }
  // No directory fsync: a deleted file that comes back after a crash is ignored (the WAL names
  // the snapshot to load) and deleted again next time, and the sync cost the node loop a few ms.
  return count;
}

}  // namespace storage
