// FileRemover: deletes files the storage no longer needs (released WAL segments, replaced snapshot
// files) on its own thread, in the order they were handed over.
//
// Why: ext4 frees a big file's blocks inside unlink(). Adopting a periodic snapshot under `etcdctl
// check perf --load=l`'s load deleted two 64 MB WAL segments (36 ms with the directory fsync) and
// a 200 MB snapshot file (22-28 ms) on the node loop, which meanwhile stepped no Raft message and
// answered no client: a pause of up to 70 ms once per snapshot, on top of the queueing such a load
// already has. bench/kv's paced run at 8000 w/s: the requests sent just before an adoption were
// the run's slowest (200-300 ms); with the deletes here, an adoption holds the loop 3-7 ms.
//
// Deferring a delete is safe for both kinds. A segment is handed over only after the compact
// record that releases it is durable, and segments go oldest first: after a crash, a segment not
// deleted yet is one the log can still replay and releases again at the next compaction, as when
// a crash fell between the compact record and the unlink before. A snapshot file that survives is
// ignored (the WAL names the one to load) and deleted at the next snapshot.
//
// Thread-safety: remove() and wait_idle() from any thread. The destructor finishes what was handed
// over, then joins. Failures are fail-stop, as the inline deletes were.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace storage {

class FileRemover {
 public:
  FileRemover() = default;
  ~FileRemover();
  FileRemover(const FileRemover&) = delete;
  FileRemover& operator=(const FileRemover&) = delete;

  // Deletes `paths` in order, then fsyncs `dir_to_sync` unless it is empty. A path already gone
  // is not an error.
  void remove(std::vector<std::string> paths, std::string dir_to_sync);
  // Returns once everything handed over so far is deleted.
  void wait_idle();

 private:
  struct Job {
    std::vector<std::string> paths;
    std::string dir_to_sync;
  };
  void run();

  std::mutex mu_;
  std::condition_variable cv_;  // the thread waits for jobs, wait_idle() for the last one
  std::deque<Job> queue_;       // guarded by mu_
  bool busy_ = false;           // guarded by mu_: a job is off the queue, not done yet
  bool stopping_ = false;       // guarded by mu_
  std::thread thread_;          // started by the first remove()
};

}  // namespace storage
