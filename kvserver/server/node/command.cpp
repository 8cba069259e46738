#include "kvserver/server/node/command.h"

#include <type_traits>

#include "kvserver/kv/codec.h"

namespace kvserver::node {
namespace {

constexpr std::string_view kMagic = "kc1";
// A Txn nests at most this deep; deeper input is malformed (etcd refuses deep nesting too), and
// the bound keeps a hostile buffer from recursing the decoder off the stack.
constexpr int kMaxTxnDepth = 64;

void put_member(kv::Writer& w, const Member& m) {
  w.u64(m.id);
  w.bytes(m.name);
  w.u64(m.peer_urls.size());
  for (const auto& u : m.peer_urls)
    w.bytes(u);
  w.u64(m.client_urls.size());
  for (const auto& u : m.client_urls)
    w.bytes(u);
  w.u64(m.is_learner ? 1 : 0);
}

bool get_strings(kv::Reader& r, std::vector<std::string>* out) {
  uint64_t n = r.u64();
  if (!r.ok() || n > r.remaining()) return false;  // each string takes at least one byte
  out->resize(n);
  for (auto& s : *out)
    s = r.bytes();
  return r.ok();
}

bool get_member(kv::Reader& r, Member* m) {
  m->id = r.u64();
  m->name = r.bytes();
  if (!get_strings(r, &m->peer_urls) || !get_strings(r, &m->client_urls)) return false;
  m->is_learner = r.u64() != 0;
  return r.ok();
}

void put_range(kv::Writer& w, const kv::RangeRequest& q) {
  w.bytes(q.key);
  w.bytes(q.range_end);
  w.i64(q.limit);
  w.i64(q.revision);
  w.u64(static_cast<uint64_t>(q.sort_order));
  w.u64(static_cast<uint64_t>(q.sort_target));
  w.u64((q.keys_only ? 1 : 0) | (q.count_only ? 2 : 0));
  w.i64(q.min_mod_revision);
  w.i64(q.max_mod_revision);
  w.i64(q.min_create_revision);
  w.i64(q.max_create_revision);
}

bool get_range(kv::Reader& r, kv::RangeRequest* q) {
  q->key = r.bytes();
  q->range_end = r.bytes();
  q->limit = r.i64();
  q->revision = r.i64();
  uint64_t order = r.u64();
  uint64_t target = r.u64();
  if (order > 2 || target > 4) return false;
  q->sort_order = static_cast<kv::SortOrder>(order);
  q->sort_target = static_cast<kv::SortTarget>(target);
  uint64_t flags = r.u64();
  q->keys_only = flags & 1;
  q->count_only = flags & 2;
  q->min_mod_revision = r.i64();
  q->max_mod_revision = r.i64();
  q->min_create_revision = r.i64();
  q->max_create_revision = r.i64();
  return r.ok();
}

void put_put(kv::Writer& w, const kv::PutRequest& q) {
  w.bytes(q.key);
  w.bytes(q.value);
  w.i64(q.lease);
  w.u64((q.prev_kv ? 1 : 0) | (q.ignore_value ? 2 : 0) | (q.ignore_lease ? 4 : 0));
}

bool get_put(kv::Reader& r, kv::PutRequest* q) {
  q->key = r.bytes();
  q->value = r.bytes();
  q->lease = r.i64();
  uint64_t flags = r.u64();
  q->prev_kv = flags & 1;
  q->ignore_value = flags & 2;
  q->ignore_lease = flags & 4;
  return r.ok();
}

void put_delete(kv::Writer& w, const kv::DeleteRangeRequest& q) {
  w.bytes(q.key);
  w.bytes(q.range_end);
  w.u64(q.prev_kv ? 1 : 0);
}

bool get_delete(kv::Reader& r, kv::DeleteRangeRequest* q) {
  q->key = r.bytes();
  q->range_end = r.bytes();
  q->prev_kv = r.u64() != 0;
  return r.ok();
}

void put_txn(kv::Writer& w, const kv::TxnRequest& t);

void put_ops(kv::Writer& w, const std::vector<kv::RequestOp>& ops) {
  w.u64(ops.size());
  for (const auto& op : ops) {
    w.u64(op.request.index());
    std::visit(
        [&](const auto& q) {
          using T = std::decay_t<decltype(q)>;
          if constexpr (std::is_same_v<T, kv::RangeRequest>) put_range(w, q);
          if constexpr (std::is_same_v<T, kv::PutRequest>) put_put(w, q);
          if constexpr (std::is_same_v<T, kv::DeleteRangeRequest>) put_delete(w, q);
          if constexpr (std::is_same_v<T, kv::TxnRequest>) put_txn(w, q);
        },
        op.request);
  }
}

void put_txn(kv::Writer& w, const kv::TxnRequest& t) {
  w.u64(t.compare.size());
  for (const auto& c : t.compare) {
    w.u64(static_cast<uint64_t>(c.result));
    w.u64(static_cast<uint64_t>(c.target));
    w.bytes(c.key);
    w.bytes(c.range_end);
    w.i64(c.version);
    w.i64(c.create_revision);
    w.i64(c.mod_revision);
    w.i64(c.lease);
    w.bytes(c.value);
  }
  put_ops(w, t.success);
  put_ops(w, t.failure);
}

bool get_txn(kv::Reader& r, kv::TxnRequest* t, int depth);

bool get_ops(kv::Reader& r, std::vector<kv::RequestOp>* ops, int depth) {
  uint64_t n = r.u64();
  if (!r.ok() || n > r.remaining()) return false;
  ops->resize(n);
  for (auto& op : *ops) {
    switch (r.u64()) {
      case 0: {
        kv::RangeRequest q;
        if (!get_range(r, &q)) return false;
        op.request = std::move(q);
        break;
      }
      case 1: {
        kv::PutRequest q;
        if (!get_put(r, &q)) return false;
        op.request = std::move(q);
        break;
      }
      case 2: {
        kv::DeleteRangeRequest q;
        if (!get_delete(r, &q)) return false;
        op.request = std::move(q);
        break;
      }
      case 3: {
        kv::TxnRequest q;
        if (!get_txn(r, &q, depth + 1)) return false;
        op.request = std::move(q);
        break;
      }
      default:
        return false;
    }
  }
  return r.ok();
}

bool get_txn(kv::Reader& r, kv::TxnRequest* t, int depth) {
  if (depth > kMaxTxnDepth) return false;
  uint64_t n = r.u64();
  if (!r.ok() || n > r.remaining()) return false;
  t->compare.resize(n);
  for (auto& c : t->compare) {
    uint64_t result = r.u64();
    uint64_t target = r.u64();
    if (result > 3 || target > 4) return false;
    c.result = static_cast<kv::CompareResult>(result);
    c.target = static_cast<kv::CompareTarget>(target);
    c.key = r.bytes();
    c.range_end = r.bytes();
    c.version = r.i64();
    c.create_revision = r.i64();
    c.mod_revision = r.i64();
    c.lease = r.i64();
    c.value = r.bytes();
  }
  return get_ops(r, &t->success, depth) && get_ops(r, &t->failure, depth) && r.ok();
}

void put_write(kv::Writer& w, const WriteRequest& req) {
  w.u64(req.index());
  std::visit(
      [&](const auto& q) {
        using T = std::decay_t<decltype(q)>;
        if constexpr (std::is_same_v<T, kv::PutRequest>) put_put(w, q);
        if constexpr (std::is_same_v<T, kv::DeleteRangeRequest>) put_delete(w, q);
        if constexpr (std::is_same_v<T, kv::TxnRequest>) put_txn(w, q);
        if constexpr (std::is_same_v<T, CompactRequest>) {
          w.i64(q.revision);
          w.u64(q.physical ? 1 : 0);
        }
        if constexpr (std::is_same_v<T, LeaseGrantRequest>) {
          w.i64(q.id);
          w.i64(q.ttl_s);
        }
        if constexpr (std::is_same_v<T, LeaseRevokeRequest>) w.i64(q.id);
      },
      req);
}

bool get_write(kv::Reader& r, WriteRequest* req) {
  switch (r.u64()) {
    case 0: {
      kv::PutRequest q;
      if (!get_put(r, &q)) return false;
      *req = std::move(q);
      return true;
    }
    case 1: {
      kv::DeleteRangeRequest q;
      if (!get_delete(r, &q)) return false;
      *req = std::move(q);
      return true;
    }
    case 2: {
      kv::TxnRequest q;
      if (!get_txn(r, &q, 0)) return false;
      *req = std::move(q);
      return true;
    }
    case 3: {
      CompactRequest q;
      q.revision = r.i64();
      q.physical = r.u64() != 0;
      *req = q;
      return r.ok();
    }
    case 4: {
      LeaseGrantRequest q;
      q.id = r.i64();
      q.ttl_s = r.i64();
      *req = q;
      return r.ok();
    }
    case 5: {
      LeaseRevokeRequest q;
      q.id = r.i64();
      *req = q;
      return r.ok();
    }
    default:
      return false;
  }
}

}  // namespace

std::string encode_member(const Member& m) {
  kv::Writer w;
  put_member(w, m);
  return std::move(w.out());
}

std::optional<Member> decode_member(std::string_view data) {
  kv::Reader r(data);
  Member m;
  if (!get_member(r, &m) || !r.at_end()) return std::nullopt;
  return m;
}

std::string encode_command(const Command& c) {
  kv::Writer w;
  w.raw(kMagic);
  w.u64(static_cast<uint64_t>(c.kind));
  w.u64(c.request_id);
  w.u64(c.origin);
  switch (c.kind) {
    case CommandKind::kWrite:
      put_write(w, c.write);
      break;
    case CommandKind::kLeaseKeepAlive:
      w.i64(c.lease_id);
      break;
    case CommandKind::kPublish:
    case CommandKind::kMemberAdd:
    case CommandKind::kMemberRemove:
    case CommandKind::kMemberPromote:
    case CommandKind::kMemberUpdate:
      put_member(w, c.member);
      w.u64(c.cluster_id);
      break;
  }
  return std::move(w.out());
}

std::optional<Command> decode_command(std::string_view data) {
  if (data.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  kv::Reader r(data.substr(kMagic.size()));
  Command c;
  uint64_t kind = r.u64();
  if (kind < 1 || kind > 7) return std::nullopt;
  c.kind = static_cast<CommandKind>(kind);
  c.request_id = r.u64();
  c.origin = r.u64();
  if (!r.ok()) return std::nullopt;
  switch (c.kind) {
    case CommandKind::kWrite:
      if (!get_write(r, &c.write)) return std::nullopt;
      break;
    case CommandKind::kLeaseKeepAlive:
      c.lease_id = r.i64();
      break;
    default:
      if (!get_member(r, &c.member)) return std::nullopt;
      c.cluster_id = r.u64();
      break;
  }
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return c;
}

}  // namespace kvserver::node
