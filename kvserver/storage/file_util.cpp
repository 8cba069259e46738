#include "kvserver/storage/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace storage {

namespace {
std::atomic<bool> no_fsync{false};
std::atomic<std::uint64_t> skipped{0};

// True when the switch is on; counts the skipped sync.
bool skip_sync() {
  if (!no_fsync.load(std::memory_order_relaxed)) return false;
  skipped.fetch_add(1, std::memory_order_relaxed);
  return true;
}
}  // namespace

void set_unsafe_no_fsync(bool on) {
  no_fsync.store(on);
}

bool unsafe_no_fsync() {
  return no_fsync.load(std::memory_order_relaxed);
}

std::uint64_t skipped_syncs() {
  return skipped.load();
}

void fail_stop(const std::string& what, int errno_value) {
  std::fprintf(stderr,
               "storage: FATAL: %s: %s (stopping: durable state can no longer be trusted)\n",
               what.c_str(), std::strerror(errno_value));
  std::fflush(stderr);
  std::abort();
}

certs::Status ensure_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) return certs::ok_status();
  const int err = errno;
  struct stat st {};
  if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return certs::ok_status();
  }
  return certs::Error("cannot create directory " + dir + ": " + std::strerror(err));
}

void sync_dir(const std::string& dir) {
  if (skip_sync()) return;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail_stop("open directory " + dir + " for fsync", errno);
  if (::fsync(fd) != 0) fail_stop("fsync directory " + dir, errno);
  ::close(fd);
}

void pwrite_all(int fd, std::string_view data, std::uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_stop("write " + path + " at byte offset " + std::to_string(offset), errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

void datasync(int fd, const std::string& path) {
  if (skip_sync()) return;
  if (::fdatasync(fd) != 0) fail_stop("fdatasync " + path, errno);
}

void fullsync(int fd, const std::string& path) {
  if (skip_sync()) return;
  if (::fsync(fd) != 0) fail_stop("fsync " + path, errno);
}

certs::Result<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return certs::Error("cannot open " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return certs::Error("cannot read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

certs::Result<std::string> pread_exact(int fd, std::size_t n, std::uint64_t offset,
                                       const std::string& path) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return certs::Error("cannot read " + path + " at byte offset " + std::to_string(offset) +
                          ": " + std::strerror(errno));
    }
    if (r == 0) {
      return certs::Error(path + " ends before byte offset " + std::to_string(offset + n));
    }
    got += static_cast<std::size_t>(r);
  }
  return out;
}

certs::Result<std::vector<std::string>> list_files(const std::string& dir,
                                                   std::string_view suffix) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return certs::Error("cannot list " + dir + ": " + std::strerror(errno));
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      names.emplace_back(name);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace storage
