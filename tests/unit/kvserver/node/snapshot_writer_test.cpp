// SnapshotWriter with real fork()s, files and fsyncs: the child writes what the parent's memory
// held at the fork, failures come back as text, and a cancelled child is gone with its file.
#include "kvserver/server/node/snapshot_writer.h"

#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "kvserver/storage/snapshot_file.h"
#include "tests/unit/kvserver/storage/test_util.h"

using kvserver::node::SnapshotWriter;
using storage_test::TempDir;

namespace {

const raft::SnapshotMetadata kMeta{120, 4, {{1, 2, 3}, {}}};

// Polls until the child has finished, for at most 30 s (a loaded CI machine); fails otherwise.
SnapshotWriter::Finished wait_done(SnapshotWriter& w) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto f = w.poll()) return *f;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll interval, not a sync
  }
  FAIL("the snapshot writer's child did not finish within 30 s");
  return {};
}

}  // namespace

TEST_CASE("the child writes the state as it was at the fork while the parent changes it",
          "[snapshot_writer]") {
  TempDir t;
  SnapshotWriter w;
  std::string state = "state at the fork";
  std::string error;
  const std::string file = t.sub("a.snap");
  REQUIRE(w.start(
      kMeta, file, [&] { return state; }, &error));
  state = "changed by the parent afterwards";  // copy-on-write: the child still sees the old one
  CHECK(w.busy());
  std::string again;
  CHECK_FALSE(w.start(
      kMeta, t.sub("b.snap"), [] { return std::string(); }, &again));
  CHECK_THAT(again, Catch::Contains("already"));

  SnapshotWriter::Finished f = wait_done(w);
  CHECK(f.ok);
  CHECK(f.error.empty());
  CHECK(f.metadata == kMeta);
  CHECK(f.path == file);
  CHECK_FALSE(w.busy());
  auto snap = storage::decode_snapshot_file(storage_test::slurp(file), file);
  REQUIRE(snap);
  CHECK(snap->metadata == kMeta);
  CHECK(snap->data == "state at the fork");
  CHECK_FALSE(w.poll());  // nothing more to reap
}

TEST_CASE("a failed snapshot comes back with the child's reason and leaves no file",
          "[snapshot_writer]") {
  TempDir t;
  SnapshotWriter w;
  std::string error;
  const std::string file = t.sub("c.snap");
  REQUIRE(w.start(
      kMeta, file, []() -> std::string { throw std::runtime_error("image too odd"); }, &error));
  SnapshotWriter::Finished f = wait_done(w);
  CHECK_FALSE(f.ok);
  CHECK_THAT(f.error, Catch::Contains("image too odd"));
  CHECK_FALSE(std::filesystem::exists(file));
  CHECK_FALSE(std::filesystem::exists(file + ".tmp"));

  const std::string nowhere = t.sub("missing-dir/d.snap");
  REQUIRE(w.start(
      kMeta, nowhere, [] { return std::string("x"); }, &error));
  f = wait_done(w);
  CHECK_FALSE(f.ok);
  CHECK_THAT(f.error, Catch::Contains(nowhere));
}

TEST_CASE("the child holds none of the parent's descriptors, and cancel() ends it",
          "[snapshot_writer]") {
  TempDir t;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  SnapshotWriter w;
  std::string error;
  const std::string file = t.sub("e.snap");
  // A build that never ends, so the child is surely alive while we look.
  REQUIRE(w.start(
      kMeta, file,
      []() -> std::string {
        for (;;)
          ::pause();
      },
      &error));
  // Closing the write end in the parent must give the reader EOF: had the child kept its copy
  // (as a socket it would keep a peer connection or port open), the read end would stay silent.
  ::close(fds[1]);
  pollfd p{fds[0], POLLIN, 0};
  REQUIRE(::poll(&p, 1, 10000) == 1);
  char c;
  CHECK(::read(fds[0], &c, 1) == 0);
  ::close(fds[0]);

  CHECK(w.busy());
  w.cancel();
  CHECK_FALSE(w.busy());
  CHECK_FALSE(w.poll());
  CHECK_FALSE(std::filesystem::exists(file));
  CHECK_FALSE(std::filesystem::exists(file + ".tmp"));
}

TEST_CASE("the child builds the image on idle CPU only", "[snapshot_writer]") {
  TempDir t;
  SnapshotWriter w;
  std::string error;
  const std::string file = t.sub("f.snap");
  // `build` runs in the child, after it has lowered itself: report the policy it runs under.
  REQUIRE(w.start(
      kMeta, file, [] { return std::to_string(::sched_getscheduler(0)); }, &error));
  REQUIRE(wait_done(w).ok);
  auto snap = storage::decode_snapshot_file(storage_test::slurp(file), file);
  REQUIRE(snap);
  CHECK(snap->data == std::to_string(SCHED_IDLE));
  CHECK(::sched_getscheduler(0) == SCHED_OTHER);  // the parent is untouched
}
