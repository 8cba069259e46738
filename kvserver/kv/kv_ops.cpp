// KvStore's operations with etcd 3.4's semantics (apply.go): range with its limit/sort/filter
// rules, put with lease and ignore flags, delete_range, and txns with compares and nested txns.
// Callers in kv_store.cpp hold the lock.
#include <algorithm>
#include <mutex>
#include <set>

#include "kvserver/kv/kv_store.h"

namespace kv {
namespace {

int64_t sort_field(const KeyValue& kv, SortTarget t) {
  switch (t) {
    case SortTarget::kVersion:
      return kv.version;
    case SortTarget::kCreate:
      return kv.create_revision;
    case SortTarget::kMod:
      return kv.mod_revision;
    case SortTarget::kKey:
    case SortTarget::kValue:
      break;
  }
  return 0;
}

void sort_kvs(std::vector<KeyValue>& kvs, SortOrder order, SortTarget target) {
  // The store hands keys out ascending, so ascend-by-key is already done.
  if (target == SortTarget::kKey) {
    if (order == SortOrder::kDescend) std::reverse(kvs.begin(), kvs.end());
    return;
  }
  auto less = [target](const KeyValue& a, const KeyValue& b) {
    if (target == SortTarget::kValue) return a.value < b.value;
    return sort_field(a, target) < sort_field(b, target);
  };
  if (order == SortOrder::kDescend) {
    std::stable_sort(kvs.begin(), kvs.end(),
                     [&less](const KeyValue& a, const KeyValue& b) { return less(b, a); });
  } else {
    std::stable_sort(kvs.begin(), kvs.end(), less);
  }
}

template <typename T>
bool compare_values(CompareResult r, const T& have, const T& want) {
  switch (r) {
    case CompareResult::kEqual:
      return have == want;
    case CompareResult::kNotEqual:
      return have != want;
    case CompareResult::kGreater:
      return have > want;
    case CompareResult::kLess:
      return have < want;
  }
  return false;
}

bool compare_kv(const Compare& c, const KeyValue& kv) {
  switch (c.target) {
    case CompareTarget::kVersion:
      return compare_values(c.result, kv.version, c.version);
    case CompareTarget::kCreate:
      return compare_values(c.result, kv.create_revision, c.create_revision);
    case CompareTarget::kMod:
      return compare_values(c.result, kv.mod_revision, c.mod_revision);
    case CompareTarget::kLease:
      return compare_values(c.result, kv.lease, c.lease);
    case CompareTarget::kValue:
      return compare_values(c.result, kv.value, c.value);
  }
  return false;
}

const std::vector<RequestOp>& branch(const TxnRequest& req, bool succeeded) {
  return succeeded ? req.success : req.failure;
}

}  // namespace

Result<RangeResponse> KvStore::range(const RangeRequest& req) const {
  // etcd refuses an empty key; "all keys" is key "\0" with range_end "\0".
  if (req.key.empty()) return etcd_error(ErrorCode::kEmptyKey);
  std::shared_lock lk(mu_);
  Result<int64_t> rev = store_.resolve_read_revision(req.revision);
  if (!rev.ok()) return rev.error();
  return range_at(req, *rev, store_.current_revision());
}

Result<RangeResponse> KvStore::range_at(const RangeRequest& req, int64_t read_rev,
                                        int64_t header_rev) const {
  RangeResponse resp;
  resp.revision = header_rev;
  // etcd fetches everything when it must sort or filter before cutting to the limit; otherwise
  // one more than the limit, to learn `more`. `count` is always every key in the range.
  bool fetch_all = req.sort_order != SortOrder::kNone || req.min_mod_revision != 0 ||
                   req.max_mod_revision != 0 || req.min_create_revision != 0 ||
                   req.max_create_revision != 0;
  std::size_t want = static_cast<std::size_t>(-1);
  if (req.count_only) {
    want = 0;
  } else if (!fetch_all && req.limit > 0) {
    want = static_cast<std::size_t>(req.limit) + 1;
  }
  int64_t count = 0;
  store_.visit(req.key, req.range_end, read_rev, [&](const std::string& key, const Version& v) {
    ++count;
    if (resp.kvs.size() < want) {
      if (req.keys_only && req.sort_target != SortTarget::kValue) {
        // Skip copying values nobody will see (large prefixes); a value sort needs them first.
        KeyValue kv;
        kv.key = key;
        kv.create_revision = v.create_revision;
        kv.mod_revision = v.mod_revision;
        kv.version = v.version;
        kv.lease = v.lease;
        resp.kvs.push_back(std::move(kv));
      } else {
        resp.kvs.push_back(MvccStore::to_kv(key, v));
      }
    }
    return true;
  });
  resp.count = count;
  auto prune = [&resp](auto drop) {
    resp.kvs.erase(std::remove_if(resp.kvs.begin(), resp.kvs.end(), drop), resp.kvs.end());
  };
  if (req.max_mod_revision != 0) {
    prune([&](const KeyValue& kv) { return kv.mod_revision > req.max_mod_revision; });
  }
  if (req.min_mod_revision != 0) {
    prune([&](const KeyValue& kv) { return kv.mod_revision < req.min_mod_revision; });
  }
  if (req.max_create_revision != 0) {
    prune([&](const KeyValue& kv) { return kv.create_revision > req.max_create_revision; });
  }
  if (req.min_create_revision != 0) {
    prune([&](const KeyValue& kv) { return kv.create_revision < req.min_create_revision; });
  }
  SortOrder order = req.sort_order;
  // etcd: a non-key sort target without an order means ascending.
  if (order == SortOrder::kNone && req.sort_target != SortTarget::kKey) order = SortOrder::kAscend;
  if (order != SortOrder::kNone) sort_kvs(resp.kvs, order, req.sort_target);
  if (req.limit > 0 && resp.kvs.size() > static_cast<std::size_t>(req.limit)) {
    resp.kvs.resize(static_cast<std::size_t>(req.limit));
    resp.more = true;
  }
  if (req.keys_only) {
    for (auto& kv : resp.kvs)
      kv.value.clear();
  }
  return resp;
}

Status KvStore::check_put(const PutRequest& req) const {
  if (req.key.empty()) return etcd_error(ErrorCode::kEmptyKey);
  if (req.ignore_value && !req.value.empty()) return etcd_error(ErrorCode::kValueProvided);
  if (req.ignore_lease && req.lease != 0) return etcd_error(ErrorCode::kLeaseProvided);
  if (req.ignore_value || req.ignore_lease) {
    if (store_.get(req.key, store_.current_revision()) == nullptr) {
      return etcd_error(ErrorCode::kKeyNotFound);
    }
  }
  if (req.lease != 0 && !leases_.exists(req.lease)) return etcd_error(ErrorCode::kLeaseNotFound);
  return Ok{};
}

PutResponse KvStore::apply_put(WriteCtx& ctx, const PutRequest& req) {
  // Copies of the key and value (KeyValue) are made only for whoever reads them: a watcher's
  // event or a prev_kv reply. Most puts have neither, and the copies were a visible share of a
  // leader's CPU under load. `prev` points into the key's versions: read before the write.
  PutResponse resp;
  const Version* prev = store_.get(req.key, ctx.rev);
  const bool had_prev = prev != nullptr;
  const int64_t prev_lease = had_prev ? prev->lease : 0;
  std::optional<KeyValue> prev_kv;
  if (had_prev && (ctx.want_events || req.prev_kv)) prev_kv = MvccStore::to_kv(req.key, *prev);
  std::string value = req.ignore_value && had_prev ? prev->value : req.value;
  const int64_t lease = req.ignore_lease && had_prev ? prev_lease : req.lease;
  const Version& written = store_.put(req.key, std::move(value), lease, ctx.rev);
  ctx.changed = true;
  if (had_prev && prev_lease != lease) leases_.detach(prev_lease, req.key);
  if (!had_prev || prev_lease != lease) leases_.attach(lease, req.key);
  if (ctx.want_events) {
    ctx.events.push_back(Event{EventType::kPut, MvccStore::to_kv(req.key, written), prev_kv});
  }
  if (req.prev_kv) resp.prev_kv = std::move(prev_kv);
  return resp;
}

DeleteRangeResponse KvStore::apply_delete(WriteCtx& ctx, const DeleteRangeRequest& req) {
  DeleteRangeResponse resp;
  const bool want_prev = ctx.want_events || req.prev_kv;
  resp.deleted = static_cast<int64_t>(store_.remove_range(
      req.key, req.range_end, ctx.rev, [&](const std::string& key, const Version& last) {
        leases_.detach(last.lease, key);
        if (!want_prev) return;
        KeyValue prev = MvccStore::to_kv(key, last);
        if (ctx.want_events) {
          Event ev;
          ev.type = EventType::kDelete;
          ev.kv.key = key;
          ev.kv.mod_revision = ctx.rev;
          ev.prev_kv = prev;
          ctx.events.push_back(std::move(ev));
        }
        if (req.prev_kv) resp.prev_kvs.push_back(std::move(prev));
      }));
  if (resp.deleted > 0) ctx.changed = true;
  return resp;
}

bool KvStore::compare_holds(const Compare& c) const {
  bool any = false;
  bool all = true;
  store_.visit(c.key, c.range_end, store_.current_revision(),
               [&](const std::string& key, const Version& v) {
                 any = true;
                 if (!compare_kv(c, MvccStore::to_kv(key, v))) all = false;
                 return all;
               });
  if (any) return all;
  // etcd: a missing key has version/create/mod/lease 0, and no value to compare against.
  if (c.target == CompareTarget::kValue) return false;
  return compare_kv(c, KeyValue{});
}

KvStore::TxnPath KvStore::choose_path(const TxnRequest& req) const {
  TxnPath path;
  path.succeeded = std::all_of(req.compare.begin(), req.compare.end(),
                               [this](const Compare& c) { return compare_holds(c); });
  for (const RequestOp& op : branch(req, path.succeeded)) {
    if (const auto* nested = std::get_if<TxnRequest>(&op.request)) {
      path.nested.push_back(choose_path(*nested));
    }
  }
  return path;
}

Status KvStore::check_txn(const TxnRequest& req, const TxnPath& path) const {
  if (req.success.size() > kMaxTxnOps || req.failure.size() > kMaxTxnOps) {
    return etcd_error(ErrorCode::kTooManyOps);
  }
  std::size_t nested = 0;
  for (const RequestOp& op : branch(req, path.succeeded)) {
    if (const auto* put = std::get_if<PutRequest>(&op.request)) {
      if (Status s = check_put(*put); !s.ok()) return s;
    } else if (const auto* range = std::get_if<RangeRequest>(&op.request)) {
      if (range->key.empty()) return etcd_error(ErrorCode::kEmptyKey);
      Result<int64_t> rev = store_.resolve_read_revision(range->revision);
      if (!rev.ok()) return rev.error();
    } else if (const auto* del = std::get_if<DeleteRangeRequest>(&op.request)) {
      if (del->key.empty()) return etcd_error(ErrorCode::kEmptyKey);
    } else if (const auto* txn = std::get_if<TxnRequest>(&op.request)) {
      if (Status s = check_txn(*txn, path.nested[nested++]); !s.ok()) return s;
    }
  }
  return Ok{};
}

Status KvStore::check_txn_writes(const TxnRequest& req, const TxnPath& path) const {
  // etcd refuses a txn that writes one key twice (the store gives each key one version per
  // revision). Collect the writes of the ops that will actually run, nested ones included.
  std::set<std::string_view> puts;
  std::vector<const DeleteRangeRequest*> deletes;
  bool duplicate = false;
  auto collect = [&](auto&& self, const TxnRequest& t, const TxnPath& p) -> void {
    std::size_t nested = 0;
    for (const RequestOp& op : branch(t, p.succeeded)) {
      if (const auto* put = std::get_if<PutRequest>(&op.request)) {
        if (!puts.insert(put->key).second) duplicate = true;
      } else if (const auto* del = std::get_if<DeleteRangeRequest>(&op.request)) {
        deletes.push_back(del);
      } else if (const auto* txn = std::get_if<TxnRequest>(&op.request)) {
        self(self, *txn, p.nested[nested++]);
      }
    }
  };
  collect(collect, req, path);
  for (std::string_view key : puts) {
    for (const DeleteRangeRequest* del : deletes) {
      if (in_range(key, del->key, del->range_end)) duplicate = true;
    }
  }
  if (duplicate) return etcd_error(ErrorCode::kDuplicateKey);
  return Ok{};
}

TxnResponse KvStore::answer_read_txn(const TxnRequest& req, const TxnPath& path) const {
  TxnResponse resp;
  resp.succeeded = path.succeeded;
  resp.revision = store_.current_revision();
  for (const RequestOp& op : branch(req, path.succeeded)) {
    const auto& range = std::get<RangeRequest>(op.request);
    // check_txn has vetted an explicit revision; 0 reads the current one, like apply_txn.
    int64_t read_rev = range.revision > 0 ? range.revision : resp.revision;
    ResponseOp out;
    out.response = range_at(range, read_rev, resp.revision).value();
    resp.responses.push_back(std::move(out));
  }
  return resp;
}

TxnResponse KvStore::apply_txn(WriteCtx& ctx, const TxnRequest& req, const TxnPath& path) {
  TxnResponse resp;
  resp.succeeded = path.succeeded;
  std::size_t nested = 0;
  for (const RequestOp& op : branch(req, path.succeeded)) {
    ResponseOp out;
    if (const auto* put = std::get_if<PutRequest>(&op.request)) {
      PutResponse r = apply_put(ctx, *put);
      r.revision = ctx.rev;
      out.response = std::move(r);
    } else if (const auto* range = std::get_if<RangeRequest>(&op.request)) {
      // Revision 0 reads the txn's own view (ctx.rev, which holds its earlier writes); check_txn
      // has already vetted any explicit revision.
      int64_t read_rev = range->revision > 0 ? range->revision : ctx.rev;
      int64_t header = ctx.changed ? ctx.rev : store_.current_revision();
      out.response = range_at(*range, read_rev, header).value();
    } else if (const auto* del = std::get_if<DeleteRangeRequest>(&op.request)) {
      DeleteRangeResponse r = apply_delete(ctx, *del);
      r.revision = ctx.changed ? ctx.rev : store_.current_revision();
      out.response = std::move(r);
    } else if (const auto* txn = std::get_if<TxnRequest>(&op.request)) {
      TxnResponse r = apply_txn(ctx, *txn, path.nested[nested++]);
      r.revision = ctx.changed ? ctx.rev : store_.current_revision();
      out.response = std::move(r);
    }
    resp.responses.push_back(std::move(out));
  }
  return resp;
}

}  // namespace kv
