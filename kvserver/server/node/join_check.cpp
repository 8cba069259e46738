#include "kvserver/server/node/join_check.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "kvserver/api/raftpb/peer.grpc.pb.h"
#include "kvserver/server/flags.h"
#include "kvserver/server/log.h"
#include "kvserver/server/node/membership.h"

namespace kvserver::node {
namespace {

std::string comma_joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ",") + item;
  return out;
}

// "n1=https://10.0.0.1:2380" per member, as --initial-cluster and `member list` name them.
std::string describe_members(const std::vector<Member>& members) {
  std::string out;
  for (const auto& m : members) {
    out += out.empty() ? "" : ", ";
    out +=
        (m.name.empty() ? id_hex(m.id) + " (unstarted)" : m.name) + "=" + comma_joined(m.peer_urls);
    if (m.is_learner) out += " (learner)";
  }
  return out.empty() ? "none" : out;
}

bool same_urls(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

std::string member_add_hint(const JoinIdentity& self) {
  return "`etcdctl member add " + self.name + " --peer-urls=" + comma_joined(self.peer_urls) + "`";
}

std::string removed_reason(const JoinIdentity& self, const PeerMembership& answer) {
  return "member " + self.name + " (" + id_hex(self.id) + ") was removed from cluster " +
         id_hex(answer.cluster_id) + " (the member at " + answer.url +
         " applied its removal), so no leader will contact it. To bring it back, run " +
         member_add_hint(self) +
         " against the cluster, then start this member again with an empty --data-dir and "
         "--initial-cluster-state existing";
}

std::string not_listed_reason(const JoinIdentity& self, const PeerMembership& answer) {
  std::string why = "cluster " + id_hex(answer.cluster_id) + " (asked at " + answer.url +
                    ") has no member " + id_hex(self.id) + ": its members are " +
                    describe_members(answer.members) + ". ";
  for (const auto& m : answer.members) {
    if (same_urls(m.peer_urls, self.peer_urls)) {
      // Same URLs, other id: the id was derived with another token (membership.h).
      return why + "It lists this member's peer URLs as member " + id_hex(m.id) +
             ", which a different --initial-cluster-token gives: start this member with the "
             "cluster's token instead of '" +
             self.token + "'";
    }
  }
  return why + "Run " + member_add_hint(self) +
         " against the cluster first, then start this member again (its data dir may stay); "
         "if it was added, start it with exactly the peer URLs given to `member add` "
         "(--initial-advertise-peer-urls) and the cluster's --initial-cluster-token";
}

std::string no_cluster_reason(const std::vector<PeerMembership>& answers) {
  std::vector<std::string> urls;
  for (const auto& a : answers)
    urls.push_back(a.url);
  return "no member of --initial-cluster that answered (" + comma_joined(urls) +
         ") belongs to a cluster: each is waiting to join one, like this member. To form a new "
         "cluster, start every member with --initial-cluster-state new; to join a running one, "
         "list its members in --initial-cluster";
}

}  // namespace

JoinAssessment assess_join(const JoinIdentity& self, const std::vector<PeerMembership>& answers) {
  for (const auto& a : answers) {
    for (const auto& m : a.members) {
      if (m.id == self.id) return {JoinVerdict::kAdmitted, ""};
    }
  }
  for (const auto& a : answers) {
    if (a.removed) return {JoinVerdict::kRefused, removed_reason(self, a)};
  }
  for (const auto& a : answers) {
    if (a.cluster_id != 0) return {JoinVerdict::kRefused, not_listed_reason(self, a)};
  }
  if (!answers.empty()) return {JoinVerdict::kRefused, no_cluster_reason(answers)};
  return {JoinVerdict::kUnknown, ""};
}

JoinWatcher::JoinWatcher(JoinWatcherOptions options) : options_(std::move(options)) {
  thread_ = std::thread([this] {
    run();
    done_ = true;
  });
}

JoinWatcher::~JoinWatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JoinWatcher::run() {
  using Clock = std::chrono::steady_clock;
  if (options_.ask_urls.empty()) {
    if (options_.admitted && options_.admitted()) return;
    spdlog::warn(
        "--initial-cluster names no other member to ask whether the cluster admitted this one; "
        "waiting for a leader to contact it (give --initial-cluster as `etcdctl member add` "
        "prints it)");
    return;
  }
  std::optional<Clock::time_point> refused_since;
  Clock::time_point next_quiet_log = Clock::now() + std::chrono::seconds(10);
  while (true) {
    if (options_.admitted && options_.admitted()) return;
    std::vector<PeerMembership> answers = ask_all();
    if (options_.admitted && options_.admitted()) return;
    JoinAssessment a = assess_join(options_.self, answers);
    const Clock::time_point now = Clock::now();
    if (a.verdict == JoinVerdict::kAdmitted) return;
    if (a.verdict == JoinVerdict::kRefused) {
      if (!refused_since) {
        refused_since = now;
        spdlog::warn("{} (waiting {:.1f} s in case the cluster has not applied it yet)", a.reason,
                     static_cast<double>(options_.grace.count()) / 1000);
      } else if (now - *refused_since >= options_.grace) {
        options_.refused(a.reason);
        return;
      }
    } else if (now >= next_quiet_log) {
      spdlog::info("waiting for a leader; no peer in --initial-cluster ({}) answers yet",
                   comma_joined(options_.ask_urls));
      next_quiet_log = now + std::chrono::seconds(10);
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, options_.interval, [this] { return stopping_; })) return;
  }
}

std::vector<PeerMembership> JoinWatcher::ask_all() {
  std::vector<PeerMembership> answers;
  for (const auto& url_text : options_.ask_urls) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    auto url = server::parse_url(url_text, "--initial-cluster");
    if (!url) continue;  // validate_config has checked them: not expected
    std::shared_ptr<grpc::ChannelCredentials> creds = url->scheme == "https" && options_.dial
                                                          ? options_.dial->current()
                                                          : grpc::InsecureChannelCredentials();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a fresh handshake, current certs
    auto stub = raftpb::RaftPeer::NewStub(grpc::CreateCustomChannel(url->host_port(), creds, args));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + options_.interval);
    raftpb::MembershipRequest request;
    request.set_member_id(options_.self.id);
    raftpb::MembershipReply reply;
    if (!stub->Membership(&context, request, &reply).ok()) continue;
    PeerMembership answer;
    answer.url = url_text;
    answer.cluster_id = reply.cluster_id();
    answer.removed = reply.removed();
    for (const auto& info : reply.members()) {
      Member m;
      m.id = info.id();
      m.name = info.name();
      m.peer_urls.assign(info.peer_urls().begin(), info.peer_urls().end());
      m.is_learner = info.is_learner();
      answer.members.push_back(std::move(m));
    }
    answers.push_back(std::move(answer));
  }
  return answers;
}

}  // namespace kvserver::node
