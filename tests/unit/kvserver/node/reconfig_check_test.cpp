// check_reconfig: etcd 3.4's --strict-reconfig-check rules on hand-made memberships - which change
// each rule refuses, with etcd's code and text, and which it lets through.
#include <catch2/catch.hpp>

#include <map>
#include <optional>

#include "kvserver/server/node/reconfig_check.h"

using namespace kvserver;
using namespace kvserver::node;
using namespace std::chrono_literals;

namespace {

using Clock = ReconfigView::Clock;
const Clock::time_point kNow = Clock::time_point{} + 1h;
const Clock::time_point kLongAgo = kNow - 60s;

Member voter(uint64_t id, bool started = true) {
  Member m;
  m.id = id;
  m.name = started ? "n" + std::to_string(id) : "";
  m.peer_urls = {"https://10.0.0." + std::to_string(id) + ":2380"};
  return m;
}

Member learner(uint64_t id) {
  Member m = voter(id);
  m.is_learner = true;
  return m;
}

// Member 1 asks; `up` maps a peer to when its stream came up (absent: down).
struct Fixture {
  std::vector<Member> members{voter(1), voter(2), voter(3)};
  std::map<uint64_t, Clock::time_point> up{{2, kLongAgo}, {3, kLongAgo}};

  std::optional<ApiError> check(Reconfig change, uint64_t target = 9) const {
    ReconfigView view;
    view.self = 1;
    view.members = members;
    view.up_since = [this](uint64_t id) -> std::optional<Clock::time_point> {
      auto it = up.find(id);
      if (it == up.end()) return std::nullopt;
      return it->second;
    };
    view.now = kNow;
    return check_reconfig(change, target, view);
  }
};

bool is_not_enough_started(const std::optional<ApiError>& e) {
  return e && e->code == ApiCode::kFailedPrecondition &&
         e->message == "etcdserver: re-configuration failed due to not enough started members";
}

bool is_unhealthy(const std::optional<ApiError>& e) {
  return e && e->code == ApiCode::kUnavailable && e->message == "etcdserver: unhealthy cluster";
}

}  // namespace

TEST_CASE("strict reconfig: a healthy cluster may add, promote and remove", "[reconfig]") {
  Fixture f;
  CHECK_FALSE(f.check(Reconfig::kAddVoter));
  CHECK_FALSE(f.check(Reconfig::kAddLearner));
  f.members.push_back(learner(4));
  CHECK_FALSE(f.check(Reconfig::kPromote, 4));
  CHECK_FALSE(f.check(Reconfig::kRemove, 4));
  CHECK_FALSE(f.check(Reconfig::kRemove, 3));
  CHECK_FALSE(f.check(Reconfig::kRemove, 1));  // itself
}

TEST_CASE("strict reconfig: adding needs every voter connected for 5 s", "[reconfig]") {
  Fixture f;
  f.up[3] = kNow - 4s;  // reconnected a moment ago
  CHECK(is_unhealthy(f.check(Reconfig::kAddVoter)));
  CHECK(is_unhealthy(f.check(Reconfig::kAddLearner)));
  f.up[3] = kNow - 5s;
  CHECK_FALSE(f.check(Reconfig::kAddVoter));
  f.up.erase(3);  // down
  CHECK(is_unhealthy(f.check(Reconfig::kAddLearner)));
}

TEST_CASE("strict reconfig: adding a voter needs a started quorum of the grown cluster",
          "[reconfig]") {
  Fixture f;
  f.members = {voter(1), voter(2), voter(3, false)};  // 2 started of 3: 4 needs 3
  CHECK(is_not_enough_started(f.check(Reconfig::kAddVoter)));
  CHECK_FALSE(f.check(Reconfig::kAddLearner));  // a learner does not count toward a quorum
  // A one-member cluster may get its second member (etcd's restore-from-one case).
  f.members = {voter(1)};
  f.up.clear();
  CHECK_FALSE(f.check(Reconfig::kAddVoter));
}

TEST_CASE("strict reconfig: promoting counts the learner as started", "[reconfig]") {
  Fixture f;
  f.members = {voter(1), voter(2, false), voter(3, false), learner(4)};  // 1 + 1 of 4
  CHECK(is_not_enough_started(f.check(Reconfig::kPromote, 4)));
  f.members = {voter(1), voter(2), voter(3, false), learner(4)};  // 2 + 1 of 4
  CHECK_FALSE(f.check(Reconfig::kPromote, 4));
}

TEST_CASE("strict reconfig: removing a voter keeps a connected quorum", "[reconfig]") {
  Fixture f;
  f.members.push_back(voter(4));
  f.up[3] = kNow - 1s;
  f.up[4] = kNow - 1s;  // connected: 1 and 2; without 2 only 1 of the 3 left
  CHECK(is_unhealthy(f.check(Reconfig::kRemove, 2)));
  f.up[4] = kLongAgo;  // connected: 1, 2, 4; without 2, 2 of the 3 left: a quorum
  CHECK_FALSE(f.check(Reconfig::kRemove, 2));
  // A voter that is down is not in the active quorum: it may go even when others are shaky.
  f.up.erase(4);
  f.up[3] = kNow - 1s;
  CHECK_FALSE(f.check(Reconfig::kRemove, 4));
}

TEST_CASE("strict reconfig: removing a voter needs a started quorum of the rest", "[reconfig]") {
  Fixture f;
  f.members = {voter(1), voter(2), voter(3, false), voter(4, false)};
  f.up = {{2, kLongAgo}, {3, kLongAgo}, {4, kLongAgo}};
  CHECK(is_not_enough_started(f.check(Reconfig::kRemove, 2)));  // 1 started of the other 3
  CHECK_FALSE(f.check(Reconfig::kRemove, 4));                   // 2 started of the other 3
  f.members = {voter(1), voter(2), voter(3, false), learner(4)};
  CHECK_FALSE(f.check(Reconfig::kRemove, 4));  // a learner always may go
}

TEST_CASE("strict reconfig: reconfig_name names each change for the log", "[reconfig]") {
  CHECK(std::string(reconfig_name(Reconfig::kAddVoter)) == "add voter");
  CHECK(std::string(reconfig_name(Reconfig::kRemove)) == "remove");
}
