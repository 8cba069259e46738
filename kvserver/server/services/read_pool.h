// ReadPool: a few threads that run the reads which follow a read barrier (linearizable Range,
// LeaseLeases). NodeApi runs read_barrier() callbacks on the node's own threads, which must not be
// held up by a large range read; gRPC's callback API has no executor to hand such work to, so this
// small pool is it. Jobs run in FIFO order; the destructor runs what is queued, then joins.
//
// Thread-safety: post() from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kvserver::services {

class ReadPool {
 public:
  explicit ReadPool(int threads);
  ~ReadPool();
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  void post(std::function<void()> job);

 private:
  void loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kvserver::services
