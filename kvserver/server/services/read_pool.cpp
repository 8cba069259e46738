#include "kvserver/server/services/read_pool.h"

#include <utility>

namespace kvserver::services {

ReadPool::ReadPool(int threads) {
  for (int i = 0; i < (threads > 0 ? threads : 1); ++i)
    threads_.emplace_back([this] { loop(); });
}

ReadPool::~ReadPool() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void ReadPool::post(std::function<void()> job) {
  {
    std::lock_guard lk(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void ReadPool::loop() {
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stop_ and nothing left
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lk.unlock();
    job();
    lk.lock();
  }
}

}  // namespace kvserver::services
