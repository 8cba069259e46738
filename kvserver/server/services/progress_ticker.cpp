#include "kvserver/server/services/progress_ticker.h"

#include <utility>
#include <vector>

namespace kvserver::services {

ProgressTicker::ProgressTicker(std::chrono::milliseconds interval) : interval_(interval) {
  thread_ = std::thread([this] { loop(); });
}

ProgressTicker::~ProgressTicker() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

uint64_t ProgressTicker::add(std::function<void()> tick) {
  std::lock_guard lk(mu_);
  uint64_t token = next_token_++;
  ticks_.emplace(token, std::move(tick));
  return token;
}

void ProgressTicker::remove(uint64_t token) {
  std::lock_guard lk(mu_);
  ticks_.erase(token);
}

void ProgressTicker::loop() {
  std::unique_lock lk(mu_);
  // On a fixed schedule, as etcd's time.Ticker: a slow round does not push the next one back.
  auto next = std::chrono::steady_clock::now() + interval_;
  while (!stop_) {
    if (cv_.wait_until(lk, next, [this] { return stop_; })) return;
    next += interval_;
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + interval_;  // fell behind (a suspended VM): no burst of ticks
    std::vector<std::function<void()>> ticks;
    ticks.reserve(ticks_.size());
    for (const auto& [token, tick] : ticks_)
      ticks.push_back(tick);
    lk.unlock();
    for (auto& tick : ticks)
      tick();
    lk.lock();
  }
}

}  // namespace kvserver::services
