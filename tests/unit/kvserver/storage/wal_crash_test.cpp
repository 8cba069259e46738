// A writer process killed (SIGKILL) at arbitrary points: every batch it was told is durable must
// be there after reopening, and the log must reopen at all. The kernel keeps a killed process's
// written pages, so this checks process crashes mid-batch and mid-roll, not power loss (that is
// what the every-byte cut tests in wal_open_test model).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <vector>

#include "kvserver/storage/wal.h"
#include "tests/unit/kvserver/storage/test_util.h"

using namespace storage;
using storage_test::entry;
using storage_test::payload_for;
using storage_test::TempDir;

namespace {

// Child: appends batches of 7 entries forever, writing the last durable index to `fd` after each.
[[noreturn]] void writer(const WalOptions& o, int fd) {
  auto w = Wal::open(o);
  if (!w) ::_exit(2);
  for (;;) {
    const raft::Index from = (*w)->last_index() + 1;
    std::vector<raft::Entry> batch;
    for (raft::Index i = from; i < from + 7; ++i)
      batch.push_back(entry(i, 1, payload_for(i, 700)));
    (*w)->save({1, 1, from}, batch);
    const raft::Index acked = from + 6;
    if (::write(fd, &acked, sizeof acked) != sizeof acked) ::_exit(3);
  }
}

// Kills and reaps the child if the test fails before doing so itself (no writer left behind).
struct ChildGuard {
  pid_t pid;
  ~ChildGuard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

}  // namespace

TEST_CASE("a writer killed at any moment loses nothing it acknowledged", "[wal][crash]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 8192, true};  // small segments: kills also land mid-roll
  raft::Index acked = 0;
  for (int round = 0; round < 8; ++round) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(p[0]);
      writer(o, p[1]);
    }
    ChildGuard guard{pid};
    ::close(p[1]);
    // Let it acknowledge a round-dependent number of batches, then kill it wherever it is.
    const int want = 3 + round * 5;
    for (int got = 0; got < want;) {
      raft::Index v;
      const ssize_t n = ::read(p[0], &v, sizeof v);
      REQUIRE(n == static_cast<ssize_t>(sizeof v));
      acked = v;
      ++got;
    }
    ::kill(pid, SIGKILL);
    // Acks already in the pipe were durable too.
    raft::Index v;
    while (::read(p[0], &v, sizeof v) == static_cast<ssize_t>(sizeof v))
      acked = v;
    ::close(p[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    guard.pid = 0;
    REQUIRE(WIFSIGNALED(status));

    auto w = Wal::open(o);
    if (!w) FAIL(w.error().message);
    INFO("round " << round << ", acknowledged up to " << acked);
    REQUIRE((*w)->last_index() >= acked);
    const auto all = (*w)->entries(1, (*w)->last_index() + 1);
    for (raft::Index i = 1; i <= all.size(); ++i) {
      REQUIRE(all[i - 1] == entry(i, 1, payload_for(i, 700)));
    }
  }
}
