#include "kvserver/server/node/reconfig_check.h"

namespace kvserver::node {
namespace {

ApiError not_enough_started() {
  return ApiError{ApiCode::kFailedPrecondition,
                  "etcdserver: re-configuration failed due to not enough started members"};
}

ApiError unhealthy() {
  return ApiError{ApiCode::kUnavailable, "etcdserver: unhealthy cluster"};
}

bool started(const Member& m) {
  return !m.name.empty();
}

bool connected(const ReconfigView& view, uint64_t id) {
  if (id == view.self) return true;
  std::optional<ReconfigView::Clock::time_point> since = view.up_since(id);
  return since && *since <= view.now - kHealthInterval;
}

std::size_t quorum(std::size_t voters) {
  return voters / 2 + 1;
}

}  // namespace

const char* reconfig_name(Reconfig change) {
  switch (change) {
    case Reconfig::kAddVoter:
      return "add voter";
    case Reconfig::kAddLearner:
      return "add learner";
    case Reconfig::kPromote:
      return "promote";
    case Reconfig::kRemove:
      return "remove";
  }
  return "change";
}

std::optional<ApiError> check_reconfig(Reconfig change, uint64_t target, const ReconfigView& view) {
  std::vector<const Member*> voters;
  const Member* target_member = nullptr;
  for (const auto& m : view.members) {
    if (!m.is_learner) voters.push_back(&m);
    if (m.id == target) target_member = &m;
  }
  std::size_t started_voters = 0;
  std::size_t connected_voters = 0;
  for (const Member* m : voters) {
    started_voters += started(*m) ? 1 : 0;
    connected_voters += connected(view, m->id) ? 1 : 0;
  }
  const bool all_connected = connected_voters == voters.size();

  switch (change) {
    case Reconfig::kAddVoter: {
      const std::size_t grown = voters.size() + 1;
      const bool restoring_from_one = started_voters == 1 && grown == 2;
      if (!restoring_from_one && started_voters < quorum(grown)) return not_enough_started();
      if (!all_connected) return unhealthy();
      return std::nullopt;
    }
    case Reconfig::kAddLearner:
      if (!all_connected) return unhealthy();
      return std::nullopt;
    case Reconfig::kPromote:
      // The learner counts as started: it is in sync with the leader by then.
      if (started_voters + 1 < quorum(voters.size() + 1)) return not_enough_started();
      return std::nullopt;
    case Reconfig::kRemove: {
      if (target_member == nullptr || target_member->is_learner) return std::nullopt;
      std::size_t others = 0, others_started = 0;
      for (const Member* m : voters) {
        if (m->id == target) continue;
        ++others;
        others_started += started(*m) ? 1 : 0;
      }
      if (others_started < quorum(others)) return not_enough_started();
      // A voter that is down is not part of the active quorum: removing it is safe.
      if (target != view.self && !view.up_since(target)) return std::nullopt;
      if (connected_voters < 1 + quorum(voters.size() - 1)) return unhealthy();
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace kvserver::node
