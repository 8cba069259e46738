#include "certs/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

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

}  // namespace

Status atomic_write(const std::string& path, const std::string& data, mode_t mode) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rng() % 1000000);
  // O_EXCL + the final mode from the start: a private key is never readable by others, not even
  // for the moment between create and chmod.
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Error(path + ": cannot create a file here: " + errno_text());
  bool ok = write_all(fd, data) && ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  std::string why = ok ? "" : errno_text();
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (why.empty()) why = errno_text();
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
