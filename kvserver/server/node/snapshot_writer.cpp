#include "kvserver/server/node/snapshot_writer.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "kvserver/storage/snapshot_file.h"

namespace kvserver::node {
namespace {

constexpr int kChildNice = 10;     // where SCHED_IDLE is refused
constexpr int kChildResultFd = 3;  // the error pipe's write end, once the child has tidied up

// The child: everything here runs in a copy of the process with one thread. It must not log
// (spdlog's sinks have locks another thread may have held at the fork) and must leave by _exit,
// never by returning or exit(): the parent's destructors and atexit handlers are not its to run.
[[noreturn]] void run_child(pid_t parent, int result_fd, const raft::SnapshotMetadata& metadata,
                            const std::string& path, const std::function<std::string()>& build,
                            bool durable) {
  auto fail = [](std::string_view why) {
    [[maybe_unused]] ssize_t n = ::write(kChildResultFd, why.data(), why.size());
    ::_exit(1);
  };
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);  // the parent died before the line above
  if (result_fd != kChildResultFd && ::dup2(result_fd, kChildResultFd) < 0) ::_exit(1);
  ::close_range(kChildResultFd + 1, ~0U, 0);
  // SCHED_IDLE: the child gets a core only when no serving thread wants it. Under full load
  // the snapshot then takes longer, which only delays log compaction. Nice 10 still took a
  // visible share under `check perf --load=l`, where the three children write 100-200 MB each.
  sched_param idle{};
  if (::sched_setscheduler(0, SCHED_IDLE, &idle) != 0) ::setpriority(PRIO_PROCESS, 0, kChildNice);
  try {
    const std::string data = build();
    certs::Status st = storage::write_snapshot_file(path, metadata, data, durable);
    if (!st) fail(st.error().message);
  } catch (const std::exception& e) {
    fail(std::string("building the image: ") + e.what());
  }
  ::_exit(0);
}

}  // namespace

bool SnapshotWriter::start(const raft::SnapshotMetadata& metadata, std::string path,
                           const std::function<std::string()>& build, std::string* error,
                           bool durable) {
  if (busy()) {
    *error = "a snapshot is already being written";
    return false;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  const pid_t parent = ::getpid();
  const auto started = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) run_child(parent, fds[1], metadata, path, build, durable);
  fork_pause_ = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  ::close(fds[1]);
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  pid_ = pid;
  result_fd_ = fds[0];
  metadata_ = metadata;
  path_ = std::move(path);
  started_ = started;
  return true;
}

std::optional<SnapshotWriter::Finished> SnapshotWriter::poll() {
  if (!busy()) return std::nullopt;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0 || (r < 0 && errno == EINTR)) return std::nullopt;
  if (r < 0) status = -1;  // ECHILD: someone else reaped it (SIGCHLD ignored); treat as failed
  return reap(status);
}

SnapshotWriter::Finished SnapshotWriter::reap(int wait_status) {
  Finished f;
  f.metadata = metadata_;
  f.path = path_;
  f.fork_pause = fork_pause_;
  f.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 started_);
  // The child has exited, so the pipe holds all it wrote and then EOF.
  char buf[512];
  for (ssize_t n; (n = ::read(result_fd_, buf, sizeof buf)) > 0;)
    f.error.append(buf, static_cast<std::size_t>(n));
  ::close(result_fd_);
  result_fd_ = -1;
  pid_ = -1;
  if (wait_status != -1 && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) {
    f.ok = true;
    return f;
  }
  if (f.error.empty()) {
    if (wait_status == -1) {
      f.error = "the writer process could not be waited for";
    } else if (WIFSIGNALED(wait_status)) {
      f.error =
          std::string("the writer process died of signal ") + strsignal(WTERMSIG(wait_status));
    } else {
      f.error = "the writer process exited with status " + std::to_string(WEXITSTATUS(wait_status));
    }
  }
  remove_files();
  return f;
}

void SnapshotWriter::remove_files() const {
  ::unlink((path_ + ".tmp").c_str());
  ::unlink(path_.c_str());
}

void SnapshotWriter::cancel() {
  if (!busy()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reap(status);    // closes the pipe
  remove_files();  // even if the child finished first: nobody will adopt it
}

}  // namespace kvserver::node
