#include "kvserver/kv/reclaimer.h"

#include <utility>

namespace kv {

Reclaimer::~Reclaimer() {
  stop();
}

void Reclaimer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Reclaimer::give(MvccStore::Dropped dropped) {
  if (dropped.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;  // `dropped` is freed here
    queue_.push_back(std::move(dropped));
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  cv_.notify_one();
}

std::size_t Reclaimer::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + freeing_;
}

void Reclaimer::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is freed
    MvccStore::Dropped batch = std::move(queue_.front());
    queue_.pop_front();
    ++freeing_;
    lock.unlock();
    batch = MvccStore::Dropped{};  // the frees, outside the lock
    lock.lock();
    --freeing_;
  }
}

}  // namespace kv
