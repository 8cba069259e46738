// SnapshotWriter: takes the node's periodic snapshot without stopping the node loop.
//
// Why: the image is the whole store with its history. Built on the loop thread, it stopped every
// request for 100s of ms at 100k keys and for seconds under `etcdctl check perf --load=l`, once
// per --snapshot-count entries (bench/kv). etcd avoids this because its bbolt file is already on
// disk; our store lives in memory, so we take a copy-on-write view of it instead:
//
//   start()  fork()s. The child inherits a frozen copy of the whole process, builds the image
//            with `build` (which must not take locks another thread may hold at the fork: the
//            caller holds what it needs across start(), see KvStore::freeze()), writes the
//            snapshot file durably under `path` (write_snapshot_file: temp file, fsync, rename,
//            directory fsync), and _exit()s. The loop goes on at once;
//            the kernel copies only the pages the loop writes while the child runs.
//   poll()   (the loop, every tick) reaps a finished child without blocking: the caller then
//            has the Storage adopt the file (WAL marker + compaction) on success.
//
// The child runs only on otherwise idle CPU (SCHED_IDLE; nice 10 if that is refused): serving
// requests comes first, and a snapshot that takes longer only delays log compaction. It closes
// every inherited descriptor but stderr and its result pipe, so a port or peer connection the
// parent closes is really closed, and it dies with the thread that forked it (PR_SET_PDEATHSIG), so
// a killed member's child cannot keep its ports or data dir busy. One child at a time.
//
// ImageExporter uses it too, for the image a client streams (durable = false: a scratch file).
//
// Thread-safety: none; the node loop's thread only (the one that forks is the one that reaps).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "kvserver/raft/types.h"

namespace kvserver::node {

class SnapshotWriter {
 public:
  struct Finished {
    raft::SnapshotMetadata metadata;
    std::string path;
    bool ok = false;
    std::string error;  // when !ok: what the child reported, or how it died
    std::chrono::milliseconds took{0};
    // How long fork() held the calling loop: it copies the page tables, so it grows with the
    // process (bench/kv: 2-6 ms at 100k keys, 10-60 ms at 400 MB under check perf l); the one
    // pause this design leaves on the loop.
    std::chrono::microseconds fork_pause{0};
  };

  SnapshotWriter() = default;
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;
  ~SnapshotWriter() { cancel(); }

  // Forks the child. False (nothing started) when busy() or when fork() fails; `error` then says
  // why, and the caller may build the snapshot itself.
  // durable = false writes a scratch file (write_snapshot_file: no fsyncs).
  bool start(const raft::SnapshotMetadata& metadata, std::string path,
             const std::function<std::string()>& build, std::string* error, bool durable = true);
  bool busy() const { return pid_ > 0; }
  const raft::SnapshotMetadata& pending() const { return metadata_; }

  // The child's result once it has exited; nullopt while it runs (or when none was started).
  std::optional<Finished> poll();
  // Kills a running child, waits for it and removes its file (finished or not).
  void cancel();

 private:
  Finished reap(int wait_status);
  void remove_files() const;

  pid_t pid_ = -1;
  int result_fd_ = -1;  // the read end of the child's error pipe
  raft::SnapshotMetadata metadata_;
  std::string path_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::microseconds fork_pause_{0};
};

}  // namespace kvserver::node
