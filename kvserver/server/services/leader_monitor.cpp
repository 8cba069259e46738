#include "kvserver/server/services/leader_monitor.h"

#include <chrono>
#include <utility>
#include <vector>

namespace kvserver::services {

LeaderMonitor::LeaderMonitor(NodeApi& node, int64_t election_timeout_ms)
    : node_(node), election_timeout_ms_(election_timeout_ms) {
  thread_ = std::thread([this] { loop(); });
}

LeaderMonitor::~LeaderMonitor() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

uint64_t LeaderMonitor::add(std::function<void()> cancel) {
  std::lock_guard lk(mu_);
  uint64_t token = next_token_++;
  streams_.emplace(token, std::move(cancel));
  return token;
}

void LeaderMonitor::remove(uint64_t token) {
  std::lock_guard lk(mu_);
  streams_.erase(token);
}

void LeaderMonitor::loop() {
  int no_leader_checks = 0;
  std::unique_lock lk(mu_);
  while (!stop_) {
    cv_.wait_for(lk, std::chrono::milliseconds(election_timeout_ms_), [this] { return stop_; });
    if (stop_) return;
    lk.unlock();
    bool has_leader = node_.status().leader != 0;
    lk.lock();
    no_leader_checks = has_leader ? 0 : no_leader_checks + 1;
    if (no_leader_checks < kMaxNoLeaderChecks || streams_.empty()) continue;
    std::vector<std::function<void()>> cancels;
    for (auto& [token, cancel] : streams_)
      cancels.push_back(std::move(cancel));
    streams_.clear();
    lk.unlock();
    for (auto& cancel : cancels)
      cancel();
    lk.lock();
  }
}

}  // namespace kvserver::services
