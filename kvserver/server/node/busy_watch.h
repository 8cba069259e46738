// BusyWatch: speaks for a member while its loop is busy applying, so a long apply does not cost
// the cluster its leader.
//
// Why: one thread steps Raft messages and applies committed entries (node.h). An apply that walks
// many keys answers no heartbeat meanwhile: etcdctl check perf's final delete of 300k keys took
// 1.2-1.8 s per member during a snapshot fork, and a leader that heard nothing from its followers
// for an election timeout stepped down (check quorum), failing the request in flight with
// "leader changed". A leader busy that long would likewise see its followers campaign. etcd
// applies beside its raft loop; we keep one loop and let this thread vouch for it: vouch() sends
// an Alive frame (frame.h) that the peers hand to raft's note_alive.
//
// The loop wraps each long job (an apply, a snapshot install) in a Scope. A thread wakes every
// `interval` (the heartbeat interval) and calls vouch() while one job has run for at least
// `interval` and less than `limit`. The limit matters: a loop stuck for good (a bug, not a slow
// apply) must not be vouched for forever, or a dead leader is never replaced. An fsync is not a
// job: a member whose disk hangs should lose its leadership.
//
// Thread-safety: Scopes on one thread at a time (the loop, which holds loop_mu_); vouch() runs on
// the watch thread; start()/stop() from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace kvserver::node {

class BusyWatch {
 public:
  BusyWatch(std::chrono::milliseconds interval, std::chrono::milliseconds limit,
            std::function<void()> vouch);
  ~BusyWatch();
  BusyWatch(const BusyWatch&) = delete;
  BusyWatch& operator=(const BusyWatch&) = delete;

  void start();
  void stop();  // joins the thread: no vouch() runs after it returns

  // One long job of the loop; nested Scopes count as the outer one.
  class Scope {
   public:
    explicit Scope(BusyWatch& watch);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    BusyWatch& watch_;
  };

  // How many times the thread has woken up (tests wait on it instead of sleeping).
  uint64_t rounds() const { return rounds_.load(); }

 private:
  void run();

  const std::chrono::milliseconds interval_;
  const std::chrono::milliseconds limit_;
  const std::function<void()> vouch_;
  int depth_ = 0;                          // open Scopes; the loop's thread only
  std::atomic<int64_t> busy_since_ms_{0};  // now_ms() (clock.h) as the job began; 0: none
  std::atomic<uint64_t> rounds_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace kvserver::node
