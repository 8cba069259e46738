#include "kvserver/storage/file_util.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "tests/unit/kvserver/storage/test_util.h"

using namespace storage;
using storage_test::TempDir;

namespace {

// Runs `fn` in a child process and returns {terminating signal (0 if it exited), its stderr}.
// A fork, not a mock: the real write fails and the real abort happens, just not in this process.
template <typename Fn>
std::pair<int, std::string> run_in_child(Fn fn) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(pipe_fds[1], 2);
    ::close(pipe_fds[0]);
    fn();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string err;
  char buf[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;)
    err.append(buf, n);
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return {WIFSIGNALED(status) ? WTERMSIG(status) : 0, err};
}

}  // namespace

TEST_CASE("a failed write is fail-stop: abort with the file and offset named", "[file_util]") {
  // /dev/full fails every write with ENOSPC: a real full disk, on demand.
  auto [sig, err] = run_in_child([] {
    const int fd = ::open("/dev/full", O_WRONLY);
    if (fd < 0) ::_exit(3);
    pwrite_all(fd, "record bytes", 4096, "/dev/full");
  });
  CHECK(sig == SIGABRT);
  CHECK(err.find("write /dev/full at byte offset 4096") != std::string::npos);
  CHECK(err.find("No space left on device") != std::string::npos);
}

TEST_CASE("a failed fsync is fail-stop", "[file_util]") {
  // fsync of a pipe fails with EINVAL: a real failing fsync without a broken disk.
  auto [sig, err] = run_in_child([] {
    int p[2];
    if (::pipe(p) != 0) ::_exit(3);
    datasync(p[1], "the-pipe");
  });
  CHECK(sig == SIGABRT);
  CHECK(err.find("fdatasync the-pipe") != std::string::npos);
}

TEST_CASE("read helpers report errors as values", "[file_util]") {
  TempDir t;
  auto missing = read_file(t.sub("nope"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find(t.sub("nope")) != std::string::npos);
  storage_test::spit(t.sub("f"), "abc");
  auto all = read_file(t.sub("f"));
  REQUIRE(all);
  CHECK(*all == "abc");
  auto names = list_files(t.path(), "");
  REQUIRE(names);
  CHECK(std::find(names->begin(), names->end(), "f") != names->end());
}
