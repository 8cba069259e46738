// ReconfigCheck: etcd's --strict-reconfig-check (on by default): refuse a membership change that
// could leave the cluster without a working quorum, before it is proposed.
//
// The rules are etcd 3.4's, so the same runbook gets the same answers. "Started" means the member
// has published its name (member list shows it started). "Connected" means this member's peer
// stream to it has been up for at least kHealthInterval (5 s, etcd's HealthInterval); this member
// itself always counts. Only voters count toward a quorum.
//   - add a voter: the started voters must make a quorum of the grown cluster (except when a
//     one-member cluster gets its second member, to restore from it), and every voter must be
//     connected;
//   - add a learner: every voter must be connected;
//   - promote a learner: the started voters plus the learner must make a quorum of the grown
//     cluster;
//   - remove a learner: always allowed. Remove a voter: the other started voters must make a
//     quorum of what is left; a voter this member is not connected to at all (down) may go;
//     otherwise the connected voters, minus the one removed, must still make a quorum.
// A refusal is etcd's error: FailedPrecondition "etcdserver: re-configuration failed due to not
// enough started members", or Unavailable "etcdserver: unhealthy cluster". Both clear by
// themselves once members start or reconnect, so a client retries (etcdctl shows the text).
//
// Thread-safety: plain functions over values.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "kvserver/server/node_api.h"

namespace kvserver::node {

constexpr std::chrono::seconds kHealthInterval{5};

enum class Reconfig { kAddVoter, kAddLearner, kPromote, kRemove };
const char* reconfig_name(Reconfig change);  // "add voter", "promote", ... for log lines

struct ReconfigView {
  using Clock = std::chrono::steady_clock;
  uint64_t self = 0;
  std::vector<Member> members;  // the applied membership
  // Since when this member's peer stream to `id` has been up; nullopt while it is down.
  std::function<std::optional<Clock::time_point>(uint64_t id)> up_since;
  Clock::time_point now;
};

// `target`: the member to promote or remove (ignored for adds).
std::optional<ApiError> check_reconfig(Reconfig change, uint64_t target, const ReconfigView& view);

}  // namespace kvserver::node
