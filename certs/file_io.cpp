#include "certs/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace certs {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

std::string parent_of(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error(dir + ": cannot open directory to sync it: " + errno_text());
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error(dir + ": fsync failed: " + errno_text());
  return ok_status();
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string temp_name(const std::string& path) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rng() % 1000000);
}

// Creates `temp` with `mode` from the start (O_EXCL: a private key is never readable by others,
// not even between create and chmod) and writes `data`; syncs it when `sync`.
Status write_temp(const std::string& path, const std::string& temp, const std::string& data,
                  mode_t mode, bool sync) {
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Error(path + ": cannot create a file here: " + errno_text());
  bool ok = write_all(fd, data) && ::fchmod(fd, mode) == 0 && (!sync || ::fsync(fd) == 0);
  std::string why = ok ? "" : errno_text();
  ::close(fd);
  if (!ok) {
    ::unlink(temp.c_str());
    return Error(path + ": write failed: " + why);
  }
  return ok_status();
}

Status fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(path + ": cannot open to sync: " + errno_text());
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error(path + ": fsync failed: " + errno_text());
  return ok_status();
}

// Runs `op` on every item on its own thread and returns the first error.
template <typename T, typename Op>
Status parallel_for(const std::vector<T>& items, Op op) {
  std::vector<Status> results(items.size(), ok_status());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < items.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = op(items[i]); });
  }
  for (auto& t : threads)
    t.join();
  for (auto& r : results) {
    if (!r) return r;
  }
  return ok_status();
}

}  // namespace

void AtomicWriteBatch::add(std::string path, std::string data, mode_t mode) {
  files_.push_back({std::move(path), std::move(data), mode, ""});
}

Status AtomicWriteBatch::commit() {
  auto cleanup = [this] {
    for (auto& f : files_) {
      if (!f.temp.empty()) ::unlink(f.temp.c_str());
    }
  };
  for (auto& f : files_) {
    f.temp = temp_name(f.path);
    if (auto s = write_temp(f.path, f.temp, f.data, f.mode, false); !s) {
      f.temp.clear();
      cleanup();
      return s;
    }
  }
  std::vector<std::string> temps;
  for (const auto& f : files_)
    temps.push_back(f.temp);
  if (auto s = parallel_for(temps, fsync_path); !s) {
    cleanup();
    return s;
  }
  std::vector<std::string> dirs;
  for (auto& f : files_) {
    if (::rename(f.temp.c_str(), f.path.c_str()) != 0) {
      Status failed = Error(f.path + ": rename into place failed: " + errno_text());
      cleanup();
      return failed;
    }
    f.temp.clear();
    std::string dir = parent_of(f.path);
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  }
  files_.clear();
  return parallel_for(dirs, fsync_dir);
}

Status atomic_write(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = temp_name(path);
  if (auto s = write_temp(path, tmp, data, mode, true); !s) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = errno_text();
    ::unlink(tmp.c_str());
    return Error(path + ": write failed: " + why);
  }
  return fsync_dir(parent_of(path));
}

Status ensure_dir(const std::string& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::path p(path);
  if (!std::filesystem::exists(p, ec)) {
    // Create parents one by one so every directory we create gets `mode`, not the umask's.
    std::filesystem::path built;
    for (const auto& part : p) {
      built /= part;
      if (std::filesystem::exists(built, ec)) continue;
      if (::mkdir(built.c_str(), mode) != 0 && errno != EEXIST) {
        return Error(path + ": cannot create directory " + built.string() + ": " + errno_text() +
                     "; choose a writable location (pki.dir in the inventory)");
      }
      ::chmod(built.c_str(), mode);
    }
  }
  if (!std::filesystem::is_directory(p, ec)) {
    return Error(path + ": exists but is not a directory; choose another pki.dir");
  }
  if (::access(path.c_str(), W_OK | X_OK) != 0) {
    return Error(path + ": directory is not writable (" + errno_text() +
                 "); fix its permissions or choose another pki.dir");
  }
  return ok_status();
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(path + ": cannot read: " + errno_text());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace certs
