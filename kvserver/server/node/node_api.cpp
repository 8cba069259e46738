// Node: the NodeApi entry points (any thread). Each validates what it can without the loop, then
// hands the loop a task; answers arrive through the registry when the entry is applied.
#include <chrono>
#include <type_traits>
#include <variant>

#include "kvserver/raft/codec.h"
#include "kvserver/server/flags.h"
#include "kvserver/server/log.h"
#include "kvserver/server/node/clock.h"
#include "kvserver/server/node/command.h"
#include "kvserver/server/node/node.h"
#include "kvserver/server/node/state_image.h"

namespace kvserver::node {
namespace {

constexpr uint64_t kMaxApplyLag = 5000;  // etcd's maxGapBetweenApplyAndCommitIndex

bool walks_keys(const kv::TxnRequest& txn);

// Whether applying the write walks a range of keys, and so may pause each member's loop for long
// (a delete of 300k keys: 0.1-1.8 s): the leader then tells the followers its commit at once, so
// that they apply it beside it rather than after it (Node::maybe_notify_commit).
bool walks_keys(const WriteRequest& w) {
  return std::visit(
      [](const auto& q) {
        using T = std::decay_t<decltype(q)>;
        if constexpr (std::is_same_v<T, kv::DeleteRangeRequest>) return !q.range_end.empty();
        if constexpr (std::is_same_v<T, kv::TxnRequest>) return walks_keys(q);
        // A compaction visits every key; a revocation deletes every key the lease holds.
        if constexpr (std::is_same_v<T, CompactRequest> || std::is_same_v<T, LeaseRevokeRequest>) {
          return true;
        }
        return false;
      },
      w);
}

bool walks_keys(const kv::TxnRequest& txn) {
  for (const auto* branch : {&txn.success, &txn.failure}) {
    for (const kv::RequestOp& op : *branch) {
      if (const auto* del = std::get_if<kv::DeleteRangeRequest>(&op.request)) {
        if (!del->range_end.empty()) return true;
      } else if (const auto* range = std::get_if<kv::RangeRequest>(&op.request)) {
        if (!range->range_end.empty()) return true;
      } else if (const auto* nested = std::get_if<kv::TxnRequest>(&op.request)) {
        if (walks_keys(*nested)) return true;
      }
    }
  }
  return false;
}

}  // namespace

int64_t Node::request_deadline_ms() const {
  // etcd: 5 s + 2 x election timeout.
  return now_ms() + 5000 + 2 * election_ms_;
}

std::optional<ApiError> Node::admission_check(std::size_t request_bytes) const {
  if (request_bytes > options_.config.max_request_bytes) return request_too_large();
  if (committed_.load() > applied_.load() + kMaxApplyLag) return too_many_requests();
  if (removed_.load()) return ApiError{ApiCode::kUnavailable, "etcdserver: server stopped"};
  return std::nullopt;
}

uint64_t Node::propose_command(Command c, ProposalRegistry::Callback cb) {
  c.origin = id_;
  c.request_id = registry_.add(std::move(cb), request_deadline_ms());
  uint64_t rid = c.request_id;
  const bool walks = c.kind == CommandKind::kWrite && walks_keys(c.write);
  submit([this, data = encode_command(c), rid, walks]() mutable {
    local_propose(std::move(data), rid, walks);
  });
  return rid;
}

void Node::propose_conf(raft::ConfChange cc, ProposalRegistry::Callback cb) {
  auto cmd = decode_command(cc.context);
  cmd->origin = id_;
  cmd->request_id = registry_.add(std::move(cb), request_deadline_ms());
  uint64_t rid = cmd->request_id;
  cc.context = encode_command(*cmd);
  submit([this, cc, rid] { local_propose_conf(cc, rid, id_); });
}

void Node::write(WriteRequest request, Done<WriteResponse> done) {
  // Registered first so the command is encoded once, with its request id, and that encoding is
  // both what the size check measures and what goes into the log (encoding is a few % of a
  // leader's CPU under load).
  Command c;
  c.kind = CommandKind::kWrite;
  c.write = std::move(request);
  c.origin = id_;
  c.request_id = registry_.add(
      [done = std::move(done)](Outcome o) {
        if (o.error) {
          done(*o.error);
        } else {
          done(std::move(o.write));
        }
      },
      request_deadline_ms());
  const uint64_t rid = c.request_id;
  const bool walks = walks_keys(c.write);
  std::string encoded = encode_command(c);
  if (auto err = admission_check(encoded.size())) {
    if (auto cb = registry_.take(rid)) (*cb)(Outcome{*err, {}, 0, {}});
    return;
  }
  run_or_submit([this, data = std::move(encoded), rid, walks]() mutable {
    local_propose(std::move(data), rid, walks);
  });
}

void Node::read_barrier(std::function<void(std::optional<ApiError>)> done) {
  int64_t deadline = request_deadline_ms();
  submit([this, done = std::move(done), deadline]() mutable {
    reads_waiting_.push_back({std::move(done), deadline});
  });
}

Header Node::header() const {
  return Header{membership_.cluster_id(), id_, store_.revision(), term_.load()};
}

void Node::lease_keep_alive(int64_t id, Done<int64_t> done) {
  // Keep-alives go through the log: every member refreshes the lease's expiry clock when it
  // applies the entry, so whichever member leads next has the refresh, and a follower needs no
  // second channel to the leader. It costs one small entry per keep-alive (etcdctl sends one
  // every TTL/3), which the batching absorbs.
  if (auto err = admission_check(0)) {
    done(*err);
    return;
  }
  Command c;
  c.kind = CommandKind::kLeaseKeepAlive;
  c.lease_id = id;
  propose_command(std::move(c), [done = std::move(done)](Outcome o) {
    if (o.error) {
      done(*o.error);
    } else {
      done(o.ttl_s);
    }
  });
}

void Node::lease_time_to_live(int64_t id, bool keys, Done<kv::LeaseTimeToLiveResponse> done) {
  // Every member's expiry clock follows the replicated keep-alives (above), so after a read
  // barrier the local answer is the leader's within one apply delay.
  read_barrier([this, id, keys, done = std::move(done)](std::optional<ApiError> err) {
    if (err) {
      done(*err);
      return;
    }
    auto r = store_.lease_time_to_live(id, keys, now_ms());
    if (!r.ok()) {
      done(ApiError{ApiCode::kNotFound, r.error().message()});
    } else {
      done(std::move(*r));
    }
  });
}

namespace {
ProposalRegistry::Callback member_callback(NodeApi::Done<MemberChangeResult> done) {
  return [done = std::move(done)](Outcome o) {
    if (o.error) {
      done(*o.error);
    } else {
      done(std::move(o.member));
    }
  };
}
}  // namespace

std::optional<ApiError> Node::strict_reconfig(Reconfig change, uint64_t target) const {
  if (!options_.config.strict_reconfig_check) return std::nullopt;
  ReconfigView view;
  view.self = id_;
  view.members = membership_.members();
  view.up_since = [this](uint64_t peer) { return transport_->up_since(peer); };
  view.now = std::chrono::steady_clock::now();
  std::optional<ApiError> refused = check_reconfig(change, target, view);
  if (refused) {
    spdlog::warn("refusing member {} {:x} (--strict-reconfig-check): {}", reconfig_name(change),
                 target, refused->message);
  }
  return refused;
}

void Node::member_add(std::vector<std::string> peer_urls, bool is_learner,
                      Done<MemberChangeResult> done) {
  if (peer_urls.empty()) {
    done(ApiError{ApiCode::kInvalidArgument, "etcdserver: member add needs at least one peer URL"});
    return;
  }
  for (const auto& u : peer_urls) {
    if (!server::parse_url(u, "peerURLs")) {
      done(ApiError{ApiCode::kInvalidArgument, "etcdserver: bad peer URL " + u});
      return;
    }
    if (membership_.find_by_peer_url(u)) {
      done(ApiError{ApiCode::kFailedPrecondition, "etcdserver: Peer URLs already exists"});
      return;
    }
  }
  if (is_learner && membership_.learner_count() >= 1) {
    done(ApiError{ApiCode::kFailedPrecondition, "etcdserver: too many learner members in cluster"});
    return;
  }
  Command c;
  c.kind = CommandKind::kMemberAdd;
  c.member.id = derive_member_id(peer_urls, token_);
  c.member.peer_urls = std::move(peer_urls);
  c.member.is_learner = is_learner;
  if (membership_.find(c.member.id)) {
    done(ApiError{ApiCode::kFailedPrecondition, "etcdserver: member ID already exist"});
    return;
  }
  if (auto refused =
          strict_reconfig(is_learner ? Reconfig::kAddLearner : Reconfig::kAddVoter, c.member.id)) {
    done(*refused);
    return;
  }
  raft::ConfChange cc{
      is_learner ? raft::ConfChangeType::kAddLearner : raft::ConfChangeType::kAddVoter, c.member.id,
      encode_command(c)};
  propose_conf(std::move(cc), member_callback(std::move(done)));
}

void Node::member_remove(uint64_t id, Done<MemberChangeResult> done) {
  if (!membership_.find(id)) {
    done(member_not_found());
    return;
  }
  if (auto refused = strict_reconfig(Reconfig::kRemove, id)) {
    done(*refused);
    return;
  }
  Command c;
  c.kind = CommandKind::kMemberRemove;
  c.member.id = id;
  propose_conf(raft::ConfChange{raft::ConfChangeType::kRemoveNode, id, encode_command(c)},
               member_callback(std::move(done)));
}

void Node::member_update(uint64_t id, std::vector<std::string> peer_urls,
                         Done<MemberChangeResult> done) {
  if (!membership_.find(id)) {
    done(member_not_found());
    return;
  }
  for (const auto& u : peer_urls) {
    auto other = membership_.find_by_peer_url(u);
    if (!server::parse_url(u, "peerURLs") || (other && other->id != id)) {
      done(ApiError{ApiCode::kFailedPrecondition, "etcdserver: Peer URLs already exists"});
      return;
    }
  }
  if (peer_urls.empty()) {
    done(ApiError{ApiCode::kInvalidArgument, "etcdserver: member update needs a peer URL"});
    return;
  }
  Command c;
  c.kind = CommandKind::kMemberUpdate;
  c.member.id = id;
  c.member.peer_urls = std::move(peer_urls);
  propose_command(std::move(c), member_callback(std::move(done)));
}

void Node::member_promote(uint64_t id, Done<MemberChangeResult> done) {
  auto m = membership_.find(id);
  if (!m) {
    done(member_not_found());
    return;
  }
  if (!m->is_learner) {
    done(ApiError{ApiCode::kFailedPrecondition, "etcdserver: can only promote a learner member"});
    return;
  }
  if (auto refused = strict_reconfig(Reconfig::kPromote, id)) {
    done(*refused);
    return;
  }
  Command c;
  c.kind = CommandKind::kMemberPromote;
  c.member = *m;
  propose_conf(raft::ConfChange{raft::ConfChangeType::kAddVoter, id, encode_command(c)},
               member_callback(std::move(done)));
}

NodeStatus Node::status() const {
  NodeStatus s;
  s.member_id = id_;
  s.leader = leader_.load();
  s.raft_term = term_.load();
  s.raft_index = committed_.load();
  s.raft_applied_index = applied_.load();
  s.db_size = static_cast<int64_t>(store_.size_bytes());
  s.db_size_in_use = s.db_size;
  auto self = membership_.find(id_);
  s.is_learner = self && self->is_learner;
  return s;
}

void Node::move_leader(uint64_t target_id, std::function<void(std::optional<ApiError>)> done) {
  int64_t deadline = request_deadline_ms();
  submit([this, target_id, done = std::move(done), deadline]() mutable {
    if (!is_leader_.load()) {
      done(ApiError{ApiCode::kFailedPrecondition, "etcdserver: not leader"});
      return;
    }
    if (target_id == id_) {
      done(std::nullopt);
      return;
    }
    if (raw_->transfer_leader(target_id) != raft::Status::kOk) {
      done(ApiError{ApiCode::kFailedPrecondition,
                    "etcdserver: bad leader transferee (not a voting member)"});
      return;
    }
    transfers_.push_back({target_id, std::move(done), deadline});
  });
}

void Node::snapshot_image(Done<ImageFile> done) {
  submit([this, done = std::move(done)]() mutable { export_image(std::move(done)); });
}

}  // namespace kvserver::node
