// Node: applying committed entries and installing snapshots (the loop only). Every member
// applies every entry in log order, so every member's KvStore and Membership go through the same
// states; only the member that proposed an entry (Command::origin) answers its caller.
#include <chrono>
#include <type_traits>
#include <variant>

#include "kvserver/raft/codec.h"
#include "kvserver/server/log.h"
#include "kvserver/server/node/clock.h"
#include "kvserver/server/node/command.h"
#include "kvserver/server/node/node.h"
#include "kvserver/server/node/state_image.h"

namespace kvserver::node {
namespace {

ApiError from_kv(const kv::Error& e) {
  ApiCode code = ApiCode::kInvalidArgument;
  switch (e.code()) {
    case kv::ErrorCode::kCompacted:
    case kv::ErrorCode::kFutureRevision:
    case kv::ErrorCode::kLeaseTtlTooLarge:
      code = ApiCode::kOutOfRange;
      break;
    case kv::ErrorCode::kLeaseNotFound:
      code = ApiCode::kNotFound;
      break;
    case kv::ErrorCode::kLeaseExists:
      code = ApiCode::kFailedPrecondition;
      break;
    case kv::ErrorCode::kBadSnapshot:
      code = ApiCode::kDataLoss;
      break;
    default:
      code = ApiCode::kInvalidArgument;
  }
  return {code, e.message()};
}

template <typename T>
Outcome to_outcome(kv::Result<T> r) {
  Outcome o;
  if (!r.ok()) {
    o.error = from_kv(r.error());
  } else {
    o.write = std::move(r).value();
  }
  return o;
}

// What an entry asked for, for the slow-apply warning.
const char* describe(const Command& c) {
  if (c.kind != CommandKind::kWrite) return "membership or lease bookkeeping";
  return std::visit(
      [](const auto& q) {
        using T = std::decay_t<decltype(q)>;
        if constexpr (std::is_same_v<T, kv::PutRequest>) return "put";
        if constexpr (std::is_same_v<T, kv::DeleteRangeRequest>) return "delete";
        if constexpr (std::is_same_v<T, kv::TxnRequest>) return "txn";
        if constexpr (std::is_same_v<T, CompactRequest>) return "compaction";
        if constexpr (std::is_same_v<T, LeaseGrantRequest>) return "lease grant";
        if constexpr (std::is_same_v<T, LeaseRevokeRequest>) return "lease revoke";
      },
      c.write);
}

}  // namespace

Outcome Node::apply_command(const Command& c) {
  int64_t now = now_ms();
  Outcome o;
  switch (c.kind) {
    case CommandKind::kWrite:
      return std::visit(
          [&](const auto& q) -> Outcome {
            using T = std::decay_t<decltype(q)>;
            if constexpr (std::is_same_v<T, kv::PutRequest>) return to_outcome(store_.put(q));
            if constexpr (std::is_same_v<T, kv::DeleteRangeRequest>) {
              return to_outcome(store_.delete_range(q));
            }
            if constexpr (std::is_same_v<T, kv::TxnRequest>) return to_outcome(store_.txn(q));
            if constexpr (std::is_same_v<T, CompactRequest>) {
              return to_outcome(store_.compact(q.revision));
            }
            if constexpr (std::is_same_v<T, LeaseGrantRequest>) {
              return to_outcome(store_.lease_grant(q.id, q.ttl_s, now));
            }
            if constexpr (std::is_same_v<T, LeaseRevokeRequest>) {
              revoking_.erase(q.id);
              auto r = store_.lease_revoke(q.id);
              Outcome out;
              if (!r.ok()) {
                out.error = from_kv(r.error());
              } else {
                out.write = LeaseRevokeResponse{*r};
              }
              return out;
            }
          },
          c.write);
    case CommandKind::kLeaseKeepAlive: {
      auto r = store_.lease_keep_alive(c.lease_id, now);
      if (!r.ok()) {
        o.error = from_kv(r.error());
      } else {
        o.ttl_s = *r;
      }
      return o;
    }
    case CommandKind::kPublish: {
      auto m = membership_.find(c.member.id);
      if (!m) {
        o.error = member_not_found();
        return o;
      }
      m->name = c.member.name;
      m->client_urls = c.member.client_urls;
      membership_.upsert(*m);
      spdlog::info("member {:x} published name {} and {} client URL(s)", m->id, m->name,
                   m->client_urls.size());
      o.member = {*m, membership_.members()};
      return o;
    }
    case CommandKind::kMemberUpdate: {
      auto m = membership_.find(c.member.id);
      if (!m) {
        o.error = member_not_found();
        return o;
      }
      m->peer_urls = c.member.peer_urls;
      membership_.upsert(*m);
      if (m->id != id_) defer_peer_change(m->id);
      spdlog::info("member {:x} updated: peer URLs now {}", m->id, m->peer_urls.front());
      o.member = {*m, membership_.members()};
      return o;
    }
    default:
      o.error = ApiError{ApiCode::kInvalidArgument,
                         "etcdserver: membership command in a "
                         "normal entry"};
      return o;
  }
}

void Node::apply_conf_entry(const raft::Entry& e) {
  raft::ConfChange cc;
  if (!raft::decode_conf_change(e.data, &cc)) {
    // Our own leader wrote it: a malformed one means a bug or disk damage the CRC missed.
    spdlog::critical("undecodable membership entry at index {}", e.index);
    std::abort();
  }
  auto cmd = decode_command(cc.context);
  Outcome o;
  if (cmd) {
    if (cmd->cluster_id != 0 && membership_.cluster_id() == 0) {
      membership_.set_cluster_id(cmd->cluster_id);
    }
    switch (cc.type) {
      case raft::ConfChangeType::kAddVoter:
      case raft::ConfChangeType::kAddLearner: {
        Member m = membership_.find(cc.node_id).value_or(cmd->member);
        m.id = cc.node_id;
        m.is_learner = cc.type == raft::ConfChangeType::kAddLearner;
        membership_.upsert(m);
        if (m.id != id_) transport_->set_peer(m.id, m.peer_urls);
        {
          std::lock_guard lock(removed_ids_mu_);
          removed_ids_.erase(m.id);  // re-added under the same id (same peer URLs and token)
        }
        if (cmd->cluster_id == 0) {  // bootstrap entries carry the cluster id: not logged
          spdlog::info("member {:x} {} ({})", m.id,
                       cmd->kind == CommandKind::kMemberPromote ? "promoted to voter"
                       : m.is_learner                           ? "added as learner"
                                                                : "added as voter",
                       m.peer_urls.empty() ? "" : m.peer_urls.front());
        }
        o.member = {m, {}};
        break;
      }
      case raft::ConfChangeType::kRemoveNode: {
        auto m = membership_.find(cc.node_id);
        o.member.member = m.value_or(Member{cc.node_id, "", {}, {}, false});
        membership_.remove(cc.node_id);
        spdlog::info("member {:x} removed", cc.node_id);
        break;
      }
    }
  }
  raw_->apply_conf_change(cc);
  o.member.members = membership_.members();
  if (cc.type == raft::ConfChangeType::kRemoveNode && cc.node_id != id_) {
    defer_peer_change(cc.node_id);
    std::lock_guard lock(removed_ids_mu_);
    removed_ids_.insert(cc.node_id);
  }
  if (cmd && cmd->origin == id_ && cmd->request_id != 0) {
    if (auto cb = registry_.take(cmd->request_id)) (*cb)(std::move(o));
  }
  if (cc.type == raft::ConfChangeType::kRemoveNode && cc.node_id == id_) {
    self_removal_applied_ = true;  // acted on in apply_committed
  }
}

void Node::apply_committed(const std::vector<raft::Entry>& entries) {
  BusyWatch::Scope busy(busy_watch_);
  for (const auto& e : entries) {
    apply_entry(e);
    applied_ = e.index;
    log_bytes_since_snapshot_ += e.data.size();
  }
  // Our own removal counts once we have caught up. A member replaced at the same address (member
  // remove, then member add with the same peer URLs: the same id) replays its predecessor's
  // removal on the way to its own admission, and must not stop on it. (A removed member that
  // never catches up - the leader sends it nothing more - is told by its peers' refusals.)
  if (self_removal_applied_ && caught_up()) {
    self_removal_applied_ = false;
    if (!membership_.find(id_)) mark_removed();
  }
}

void Node::apply_entry(const raft::Entry& e) {
  if (e.type == raft::EntryType::kConfChange) {
    apply_conf_entry(e);
    return;
  }
  if (e.data.empty()) return;  // a new leader's no-op (§8)
  auto cmd = decode_command(e.data);
  if (!cmd) {
    spdlog::critical("undecodable entry at index {}", e.index);
    std::abort();
  }
  const auto started = std::chrono::steady_clock::now();
  Outcome o = apply_command(*cmd);
  // etcd warns past 100 ms ("apply request took too long"). Here the loop that applies also steps
  // Raft messages: meanwhile only BusyWatch speaks for this member, and only up to its limit.
  // Deleting or compacting 300k keys took 100-160 ms per member on an idle cluster, and 0.3-1.8 s
  // at the end of etcdctl check perf --load=l, a snapshot's fork() having made the pages
  // copy-on-write.
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (took.count() > heartbeat_ms_) {
    spdlog::warn(
        "applying entry {} ({}) took {} ms, longer than the heartbeat interval ({} ms): this "
        "member stepped no Raft message meanwhile",
        e.index, describe(*cmd), took.count(), heartbeat_ms_);
  }
  if (cmd->origin == id_ && cmd->request_id != 0) {
    if (auto cb = registry_.take(cmd->request_id)) (*cb)(std::move(o));
  }
}

void Node::install_snapshot(const raft::Snapshot& snap) {
  BusyWatch::Scope busy(busy_watch_);
  auto parts = decode_state(snap.data);
  if (!parts || !membership_.decode(parts->membership) ||
      !store_.restore(parts->kv, now_ms()).ok()) {
    // The sender checked a sha256 and our storage a checksum: this is a bug, not bad luck.
    spdlog::critical("snapshot at index {} does not decode", snap.metadata.index);
    std::abort();
  }
  sync_peers();
}

void Node::mark_removed() {
  if (removed_.load()) return;
  removed_ = true;
  spdlog::warn("this member ({:x}) was removed from the cluster: stopping", id_);
  if (options_.on_removed) options_.on_removed();
}

}  // namespace kvserver::node
