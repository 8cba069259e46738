#include "kvserver/server/node/busy_watch.h"

#include <utility>

#include "kvserver/server/node/clock.h"

namespace kvserver::node {

BusyWatch::BusyWatch(std::chrono::milliseconds interval, std::chrono::milliseconds limit,
                     std::function<void()> vouch)
    : interval_(interval), limit_(limit), vouch_(std::move(vouch)) {}

BusyWatch::~BusyWatch() {
  stop();
}

void BusyWatch::start() {
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void BusyWatch::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

BusyWatch::Scope::Scope(BusyWatch& watch) : watch_(watch) {
  if (watch_.depth_++ == 0) watch_.busy_since_ms_.store(now_ms(), std::memory_order_relaxed);
}

BusyWatch::Scope::~Scope() {
  if (--watch_.depth_ == 0) watch_.busy_since_ms_.store(0, std::memory_order_relaxed);
}

void BusyWatch::run() {
  auto next = std::chrono::steady_clock::now() + interval_;
  std::unique_lock lock(mu_);
  while (!cv_.wait_until(lock, next, [this] { return stopping_; })) {
    next += interval_;
    if (next < std::chrono::steady_clock::now())
      next = std::chrono::steady_clock::now() + interval_;
    const int64_t since = busy_since_ms_.load(std::memory_order_relaxed);
    if (since != 0) {
      const auto busy = std::chrono::milliseconds(now_ms() - since);
      if (busy >= interval_ && busy < limit_) {
        lock.unlock();  // vouch() sends: stop() must not wait on it under the lock
        vouch_();
        lock.lock();
      }
    }
    rounds_.fetch_add(1);
  }
}

}  // namespace kvserver::node
