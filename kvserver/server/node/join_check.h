// JoinCheck: stops a joining member that the cluster never admitted, with the reason and the fix,
// instead of letting it wait for a leader forever.
//
// Why: a member started with --initial-cluster-state existing and an empty data dir does nothing
// until a leader contacts it. No leader ever does if the cluster has no such member: `member add`
// was forgotten, or was given other peer URLs, or --initial-cluster-token differs (member ids
// derive from both, membership.h), or the member was removed, or no one in --initial-cluster is
// in a cluster at all (every member was started with `existing`). Its unit (Type=notify) then
// hangs in "activating" with nothing in the journal. etcd checks this at start: it fetches the
// member list from its peers and exits with an error. We ask the peers over the peer port's
// Membership RPC (peer.proto).
//
// assess_join(): the verdict on one round of answers. It is pure, and unit-tested.
//   - kAdmitted when any answer lists this member's id. A peer that lists it wins over one that
//     does not: the others may not have applied the `member add` yet.
//   - kRefused with the reason and the fix, when no answer lists it but some peer answered:
//     removed (a peer applied its removal); not listed (a cluster answered, and the reason names
//     the cluster's members; when one of them has this member's peer URLs under another id, it
//     names the token); no cluster (every peer that answered is waiting to join one too).
//   - kUnknown when no peer answered.
// JoinWatcher: a thread that asks every peer URL it is given once per interval. It stops when the
// member is admitted (assess_join, or the caller's `admitted` test, e.g. a leader has contacted
// it). A refusal must hold for `grace` before on_refused(reason) is called, once: a follower asked
// right after the `member add` may not have applied it yet. A peer that does not answer (down, an
// older version without the RPC) counts as no answer. With no URL to ask, it says so once and
// ends.
//
// Thread-safety: assess_join is a plain function. JoinWatcher: construct and destroy from one
// thread; the callbacks run on its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kvserver/server/node_api.h"
#include "kvserver/server/tls.h"

namespace kvserver::node {

// Who is asking to join: what the cluster would have to list.
struct JoinIdentity {
  uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;  // --initial-advertise-peer-urls
  std::string token;                   // --initial-cluster-token
};

// One peer's answer to the Membership RPC.
struct PeerMembership {
  std::string url;          // the peer URL that was asked
  uint64_t cluster_id = 0;  // 0: that member knows no cluster yet (it is joining too)
  std::vector<Member> members;
  bool removed = false;  // that member applied this member's removal
};

enum class JoinVerdict { kUnknown, kAdmitted, kRefused };

struct JoinAssessment {
  JoinVerdict verdict = JoinVerdict::kUnknown;
  std::string reason;  // kRefused: what is wrong and what to do
};

JoinAssessment assess_join(const JoinIdentity& self, const std::vector<PeerMembership>& answers);

struct JoinWatcherOptions {
  JoinIdentity self;
  std::vector<std::string> ask_urls;                // the other members' peer URLs
  server::PeerDialCredentials* dial = nullptr;      // null: dial without TLS; must outlive
  std::function<bool()> admitted;                   // e.g. a leader has contacted this member
  std::function<void(const std::string&)> refused;  // called once, then the watcher ends
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds grace{5000};
};

class JoinWatcher {
 public:
  explicit JoinWatcher(JoinWatcherOptions options);  // starts the thread
  ~JoinWatcher();                                    // stops it (waits for a round in flight)
  JoinWatcher(const JoinWatcher&) = delete;
  JoinWatcher& operator=(const JoinWatcher&) = delete;

  // The watcher has stopped asking: admitted, refused, or being destroyed.
  bool done() const { return done_.load(); }

 private:
  void run();
  std::vector<PeerMembership> ask_all();

  const JoinWatcherOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace kvserver::node
