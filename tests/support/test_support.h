// Small helpers shared by the tests: a temp directory that cleans up after itself, and running a
// command (the outside judges: openssl, etcdctl, ssh) with its exit code and output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved, as a person would see them
};

// Runs `command` through /bin/sh; stdin is /dev/null.
CommandResult run(const std::string& command);

std::string shell_quote(const std::string& s);

// A child process the test owns: started with argv (no shell), output appended to `log_path`,
// terminated by its PID and reaped on destruction.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  pid_t pid() const { return pid_; }
  bool running();
  // Polls until the process exits (then it is reaped: the destructor leaves it alone) and returns
  // its exit code (128 + signal if killed), or -1 if it still runs at the deadline.
  int wait_for_exit(std::chrono::milliseconds deadline);

 private:
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it).
int free_tcp_port();

// Polls `pred` every 10 ms until it holds or `timeout` passes, and returns its last answer: how a
// test waits for what another thread or process does (never a bare sleep).
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// Polls until something accepts TCP connections on host:port, or the deadline passes.
bool wait_for_tcp_port(const std::string& host, int port, std::chrono::milliseconds deadline);

}  // namespace test_support
