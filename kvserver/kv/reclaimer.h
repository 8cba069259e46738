// Reclaimer: frees what a compaction dropped from the store (MvccStore::Dropped), or a store a
// snapshot replaced, on its own thread.
//
// Why: freeing a compaction's dropped keys and values was most of its time - 150-250 ms for 300k
// keys of 1 KiB on an idle cluster, mostly glibc free and consolidation - spent on the apply
// thread, which meanwhile steps no Raft message, and under the store's exclusive lock, which holds
// up every read. Here it costs a thread that sleeps otherwise, started at the first batch.
//
// Thread-safety: give() and pending() from any thread; stop() (also run by the destructor) frees
// what is left and joins; give() after it frees on the caller's thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>

#include "kvserver/kv/mvcc_store.h"

namespace kv {

class Reclaimer {
 public:
  Reclaimer() = default;
  ~Reclaimer();
  Reclaimer(const Reclaimer&) = delete;
  Reclaimer& operator=(const Reclaimer&) = delete;

  void give(MvccStore::Dropped dropped);
  void stop();
  // How many handed-over batches are not freed yet.
  std::size_t pending() const;

 private:
  void run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<MvccStore::Dropped> queue_;  // guarded by mu_
  std::size_t freeing_ = 0;               // guarded by mu_: taken off queue_, not freed yet
  bool stopping_ = false;                 // guarded by mu_
  std::thread thread_;                    // started by the first give()
};

}  // namespace kv
