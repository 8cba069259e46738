#include "kvserver/server/node/proposal_registry.h"

#include <random>

namespace kvserver::node {

ProposalRegistry::ProposalRegistry(uint64_t first_id) : next_id_(first_id == 0 ? 1 : first_id) {}

ProposalRegistry::ProposalRegistry()
    : ProposalRegistry((uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()) {}

uint64_t ProposalRegistry::add(Callback cb, int64_t deadline_ms) {
  std::lock_guard lock(mu_);
  uint64_t id = next_id_++;
  if (next_id_ == 0) next_id_ = 1;  // 0 means "nobody waits"
  waiters_.emplace(id, Waiter{std::move(cb), deadline_ms});
  return id;
}

std::optional<ProposalRegistry::Callback> ProposalRegistry::take(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return std::nullopt;
  Callback cb = std::move(it->second.cb);
  waiters_.erase(it);
  return cb;
}

std::vector<ProposalRegistry::Callback> ProposalRegistry::expire(int64_t now_ms) {
  std::lock_guard lock(mu_);
  std::vector<Callback> out;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->second.deadline_ms <= now_ms) {
      out.push_back(std::move(it->second.cb));
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<ProposalRegistry::Callback> ProposalRegistry::take_all() {
  std::lock_guard lock(mu_);
  std::vector<Callback> out;
  for (auto& [id, w] : waiters_)
    out.push_back(std::move(w.cb));
  waiters_.clear();
  return out;
}

std::size_t ProposalRegistry::size() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

}  // namespace kvserver::node
