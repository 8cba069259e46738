// JoinCheck: assess_join's verdicts and reasons on hand-made answers, then JoinWatcher asking a
// real PeerService's Membership RPC over a loopback gRPC port (no TLS): a member the peer lists is
// admitted without a refusal; one it does not list is refused once the grace has passed, with the
// reason naming the fix; with no URL to ask, the watcher ends without a verdict.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "kvserver/server/node/join_check.h"
#include "kvserver/server/node/membership.h"
#include "kvserver/server/node/peer_service.h"
#include "tests/support/test_support.h"

using namespace kvserver;
using namespace kvserver::node;
using namespace std::chrono_literals;
using test_support::eventually;

namespace {

const std::string kToken = "tok";
const std::vector<std::string> kN4Urls = {"https://10.0.0.4:2380"};

JoinIdentity n4() {
  return JoinIdentity{derive_member_id(kN4Urls, kToken), "n4", kN4Urls, kToken};
}

Member member(const std::string& name, const std::string& url, const std::string& token = kToken) {
  Member m;
  m.id = derive_member_id({url}, token);
  m.name = name;
  m.peer_urls = {url};
  return m;
}

PeerMembership answer_from_cluster(std::vector<Member> members) {
  PeerMembership a;
  a.url = "https://10.0.0.1:2380";
  a.cluster_id = 0xc1;
  a.members = std::move(members);
  return a;
}

std::vector<Member> three_members() {
  return {member("n1", "https://10.0.0.1:2380"), member("n2", "https://10.0.0.2:2380"),
          member("n3", "https://10.0.0.3:2380")};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("assess_join: no answer yet is no verdict", "[join]") {
  JoinAssessment a = assess_join(n4(), {});
  CHECK(a.verdict == JoinVerdict::kUnknown);
  CHECK(a.reason.empty());
}

TEST_CASE("assess_join: a peer that lists the member admits it, whatever the others say",
          "[join]") {
  std::vector<Member> with_n4 = three_members();
  with_n4.push_back(member("", kN4Urls[0]));                      // added, not started yet: no name
  PeerMembership lagging = answer_from_cluster(three_members());  // not applied the add yet
  PeerMembership current = answer_from_cluster(with_n4);
  CHECK(assess_join(n4(), {lagging, current}).verdict == JoinVerdict::kAdmitted);
  CHECK(assess_join(n4(), {current, lagging}).verdict == JoinVerdict::kAdmitted);
}

TEST_CASE("assess_join: a cluster without the member refuses it and says to run member add",
          "[join]") {
  JoinAssessment a = assess_join(n4(), {answer_from_cluster(three_members())});
  REQUIRE(a.verdict == JoinVerdict::kRefused);
  CHECK(contains(a.reason, "etcdctl member add n4 --peer-urls=https://10.0.0.4:2380"));
  CHECK(contains(a.reason, "n1=https://10.0.0.1:2380, n2=https://10.0.0.2:2380"));
  CHECK(contains(a.reason, "cluster " + id_hex(0xc1)));
  CHECK(contains(a.reason, "asked at https://10.0.0.1:2380"));
}

TEST_CASE("assess_join: its peer URLs under another id point at the token", "[join]") {
  std::vector<Member> members = three_members();
  members.push_back(member("n4", kN4Urls[0], "the-clusters-token"));
  JoinAssessment a = assess_join(n4(), {answer_from_cluster(members)});
  REQUIRE(a.verdict == JoinVerdict::kRefused);
  CHECK(contains(a.reason, "--initial-cluster-token"));
  CHECK(contains(a.reason, "'" + kToken + "'"));
  CHECK(contains(a.reason, id_hex(members.back().id)));
  CHECK_FALSE(contains(a.reason, "member add"));
}

TEST_CASE("assess_join: a removal outranks a plain absence", "[join]") {
  PeerMembership plain = answer_from_cluster(three_members());
  PeerMembership removed = answer_from_cluster(three_members());
  removed.url = "https://10.0.0.2:2380";
  removed.removed = true;
  JoinAssessment a = assess_join(n4(), {plain, removed});
  REQUIRE(a.verdict == JoinVerdict::kRefused);
  CHECK(contains(a.reason, "was removed"));
  CHECK(contains(a.reason, "https://10.0.0.2:2380 applied its removal"));
  CHECK(contains(a.reason, "empty --data-dir"));
}

TEST_CASE("assess_join: peers that are all joining themselves mean no cluster exists", "[join]") {
  PeerMembership a1, a2;
  a1.url = "https://10.0.0.1:2380";
  a2.url = "https://10.0.0.2:2380";
  JoinAssessment a = assess_join(n4(), {a1, a2});
  REQUIRE(a.verdict == JoinVerdict::kRefused);
  CHECK(contains(a.reason, "--initial-cluster-state new"));
  CHECK(contains(a.reason, "https://10.0.0.1:2380,https://10.0.0.2:2380"));
}

namespace {

// A member answering Membership on a loopback port with the members it is given.
struct AnsweringPeer {
  std::mutex mu;
  std::vector<Member> members;  // guarded by mu
  std::atomic<int> asked{0};
  PeerService service{
      PeerServiceCallbacks{[] { return uint64_t{0x1}; }, [] { return uint64_t{0xc1}; },
                           [](uint64_t, std::vector<Frame>) {}, [](uint64_t) { return false; },
                           [this] {
                             asked++;
                             std::lock_guard lock(mu);
                             return members;
                           }}};
  std::string address = "127.0.0.1:" + std::to_string(test_support::free_tcp_port());
  std::unique_ptr<grpc::Server> server;

  AnsweringPeer() {
    members = three_members();
    grpc::ServerBuilder b;
    b.AddListeningPort(address, grpc::InsecureServerCredentials());
    b.RegisterService(&service);
    server = b.BuildAndStart();
    REQUIRE(server);
  }
  ~AnsweringPeer() { server->Shutdown(std::chrono::system_clock::now() + 1s); }
};

struct Outcome {
  std::mutex mu;
  std::vector<std::string> refusals;  // guarded by mu
  std::size_t count() {
    std::lock_guard lock(mu);
    return refusals.size();
  }
};

JoinWatcherOptions watch(
    const AnsweringPeer& peer, Outcome& outcome,
    std::function<bool()> admitted = [] { return false; }) {
  JoinWatcherOptions o;
  o.self = n4();
  o.ask_urls = {"http://" + peer.address};
  o.admitted = std::move(admitted);
  o.refused = [&outcome](const std::string& reason) {
    std::lock_guard lock(outcome.mu);
    outcome.refusals.push_back(reason);
  };
  o.interval = 50ms;
  o.grace = 300ms;
  return o;
}

}  // namespace

TEST_CASE("JoinWatcher: a member the peer does not list is refused once, after the grace",
          "[join]") {
  AnsweringPeer peer;
  Outcome outcome;
  const auto started = std::chrono::steady_clock::now();
  JoinWatcher watcher(watch(peer, outcome));
  REQUIRE(eventually([&] { return outcome.count() == 1; }));
  CHECK(std::chrono::steady_clock::now() - started >= 300ms);
  CHECK(eventually([&] { return watcher.done(); }));
  std::lock_guard lock(outcome.mu);
  CHECK(contains(outcome.refusals[0], "etcdctl member add n4"));
  CHECK(contains(outcome.refusals[0], "asked at http://" + peer.address));
}

TEST_CASE("JoinWatcher: the member add arriving within the grace admits it", "[join]") {
  AnsweringPeer peer;
  Outcome outcome;
  JoinWatcher watcher(watch(peer, outcome));
  REQUIRE(eventually([&] { return peer.asked.load() >= 1; }));  // refused so far: the grace runs
  {
    std::lock_guard lock(peer.mu);
    peer.members.push_back(member("", kN4Urls[0]));
  }
  REQUIRE(eventually([&] { return watcher.done(); }));
  CHECK(outcome.count() == 0);
}

TEST_CASE("JoinWatcher: an admitted member asks no one", "[join]") {
  AnsweringPeer peer;
  Outcome outcome;
  JoinWatcher watcher(watch(peer, outcome, [] { return true; }));
  REQUIRE(eventually([&] { return watcher.done(); }));
  CHECK(peer.asked.load() == 0);
  CHECK(outcome.count() == 0);
}

TEST_CASE("JoinWatcher: with no one to ask it ends without a verdict", "[join]") {
  Outcome outcome;
  JoinWatcherOptions o;
  o.self = n4();
  o.admitted = [] { return false; };
  o.refused = [&outcome](const std::string& reason) {
    std::lock_guard lock(outcome.mu);
    outcome.refusals.push_back(reason);
  };
  JoinWatcher watcher(std::move(o));
  REQUIRE(eventually([&] { return watcher.done(); }));
  CHECK(outcome.count() == 0);
}
