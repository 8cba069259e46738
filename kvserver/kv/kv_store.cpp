// KvStore's locking, write lifecycle, leases, hashing and snapshots. The per-operation logic
// (range, put, delete, txn) is in kv_ops.cpp.
#include "kvserver/kv/kv_store.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <utility>

#include "kvserver/kv/codec.h"
#include "kvserver/storage/crc32c.h"

namespace kv {
namespace {
// 02: the checksum became CRC32C (01 was FNV-1a).
constexpr std::string_view kSnapshotMagic = "kvsnap02";
}  // namespace

KvStore::KvStore(Options options)
    : hub_(*this, options.watch), min_lease_ttl_s_(options.min_lease_ttl_s) {}

KvStore::WriteCtx KvStore::begin_write() const {
  WriteCtx ctx;
  ctx.rev = store_.current_revision() + 1;
  // Checked under the exclusive lock; WatchHub::watch() counts itself before reading our revision,
  // so a watcher either sees this revision as already past or is counted here.
  ctx.want_events = hub_.has_watchers();
  return ctx;
}

void KvStore::commit(WriteCtx& ctx) {
  if (ctx.changed) store_.commit(ctx.rev);
}

void KvStore::publish(int64_t rev, const WriteCtx& ctx) {
  if (ctx.changed) hub_.publish(rev, ctx.events);
}

Result<PutResponse> KvStore::put(const PutRequest& req) {
  std::unique_lock lk(mu_);
  if (Status s = check_put(req); !s.ok()) return s.error();
  WriteCtx ctx = begin_write();
  PutResponse resp = apply_put(ctx, req);
  commit(ctx);
  resp.revision = store_.current_revision();
  lk.unlock();
  publish(resp.revision, ctx);
  return resp;
}

Result<DeleteRangeResponse> KvStore::delete_range(const DeleteRangeRequest& req) {
  if (req.key.empty()) return etcd_error(ErrorCode::kEmptyKey);
  std::unique_lock lk(mu_);
  WriteCtx ctx = begin_write();
  DeleteRangeResponse resp = apply_delete(ctx, req);
  commit(ctx);
  resp.revision = store_.current_revision();
  lk.unlock();
  publish(resp.revision, ctx);
  return resp;
}

Result<TxnResponse> KvStore::txn(const TxnRequest& req) {
  std::unique_lock lk(mu_);
  TxnPath path = choose_path(req);
  if (Status s = check_txn(req, path); !s.ok()) return s.error();
  if (Status s = check_txn_writes(req, path); !s.ok()) return s.error();
  WriteCtx ctx = begin_write();
  TxnResponse resp = apply_txn(ctx, req, path);
  commit(ctx);
  resp.revision = store_.current_revision();
  lk.unlock();
  publish(resp.revision, ctx);
  return resp;
}

Result<TxnResponse> KvStore::read_txn(const TxnRequest& req) const {
  if (!is_read_only(req)) std::abort();  // a write here would bypass the log
  std::shared_lock lk(mu_);
  TxnPath path = choose_path(req);
  if (Status s = check_txn(req, path); !s.ok()) return s.error();
  return answer_read_txn(req, path);
}

Result<CompactResponse> KvStore::compact(int64_t revision) {
  MvccStore::Dropped dropped;
  CompactResponse resp;
  {
    std::unique_lock lk(mu_);
    if (Status s = store_.compact(revision, &dropped); !s.ok()) return s.error();
    ++history_generation_;
    resp.revision = store_.current_revision();
  }
  reclaimer_.give(std::move(dropped));
  return resp;
}

Result<LeaseGrantResponse> KvStore::lease_grant(int64_t id, int64_t ttl_s, int64_t now_ms) {
  ttl_s = std::max(ttl_s, min_lease_ttl_s_);
  std::unique_lock lk(mu_);
  Result<int64_t> granted = leases_.grant(id, ttl_s, now_ms);
  if (!granted.ok()) return granted.error();
  return LeaseGrantResponse{*granted, ttl_s, store_.current_revision()};
}

Result<int64_t> KvStore::lease_revoke(int64_t id) {
  std::unique_lock lk(mu_);
  Result<std::set<std::string>> keys = leases_.revoke(id);
  if (!keys.ok()) return keys.error();
  WriteCtx ctx = begin_write();
  for (const std::string& key : *keys) {
    DeleteRangeRequest del;
    del.key = key;
    apply_delete(ctx, del);
  }
  commit(ctx);
  int64_t rev = store_.current_revision();
  lk.unlock();
  publish(rev, ctx);
  return rev;
}

// Hashing walks every retained version: about 90 ms at 100k keys and 200 ms at 300k, during
// which apply (which takes the lock exclusively) used to wait, so each `etcdctl endpoint hashkv`
// stalled every write that long. A slice of this many keys holds it about a millisecond. Measured
// at 300k keys, Put c=16 with one hashkv a second: slowest write 196-209 ms before, 30-32 ms
// after (35 ms with no hashkv); p99 4 ms before, 11-12 ms after, as writes now share the CPU with
// the hash instead of waiting it out (4096-key slices: 64-73 ms and 7 ms).
constexpr std::size_t kHashSliceKeys = 1024;
// A compaction or restore between slices restarts the hash; after this many restarts the last try
// holds the lock throughout (compactions are minutes apart: this bounds a pathological case).
constexpr int kHashAttempts = 3;

Result<HashResponse> KvStore::hash(int64_t revision,
                                   const std::function<void()>& between_slices) const {
  for (int attempt = 1;; ++attempt) {
    const bool last_try = attempt == kHashAttempts;
    const std::size_t slice = last_try ? std::numeric_limits<std::size_t>::max() : kHashSliceKeys;
    MvccStore::HashCursor cursor;
    HashResponse resp;
    int64_t rev = 0;
    uint64_t generation = 0;
    {
      std::shared_lock lk(mu_);
      Result<int64_t> r = store_.resolve_read_revision(revision);
      if (!r.ok()) return r.error();
      rev = *r;
      resp.compact_revision = store_.compact_revision();
      resp.revision = store_.current_revision();
      generation = history_generation_;
      store_.hash_slice(rev, cursor, slice);
    }
    bool restart = false;
    while (!cursor.done && !restart) {
      if (between_slices) between_slices();
      std::shared_lock lk(mu_);
      restart = history_generation_ != generation;
      if (!restart) store_.hash_slice(rev, cursor, slice);
    }
    if (!restart) {
      resp.hash = cursor.hash;
      return resp;
    }
  }
}

Result<LeaseTimeToLiveResponse> KvStore::lease_time_to_live(int64_t id, bool with_keys,
                                                            int64_t now_ms) const {
  std::shared_lock lk(mu_);
  const LeaseTable::Lease* lease = leases_.find(id);
  if (lease == nullptr) return etcd_error(ErrorCode::kLeaseNotFound);
  LeaseTimeToLiveResponse resp;
  resp.id = id;
  resp.ttl = *leases_.remaining_s(id, now_ms);
  resp.granted_ttl = lease->ttl_s;
  if (with_keys) resp.keys.assign(lease->keys.begin(), lease->keys.end());
  resp.revision = store_.current_revision();
  return resp;
}

std::vector<int64_t> KvStore::lease_ids() const {
  std::shared_lock lk(mu_);
  return leases_.ids();
}

std::vector<int64_t> KvStore::expired_leases(int64_t now_ms, std::size_t limit) const {
  std::shared_lock lk(mu_);
  return leases_.expired(now_ms, limit);
}

Result<int64_t> KvStore::lease_keep_alive(int64_t id, int64_t now_ms) {
  std::unique_lock lk(mu_);
  return leases_.keep_alive(id, now_ms);
}

void KvStore::promote_leases(int64_t now_ms) {
  std::unique_lock lk(mu_);
  leases_.promote(now_ms);
}

int64_t KvStore::revision() const {
  std::shared_lock lk(mu_);
  return store_.current_revision();
}

int64_t KvStore::compacted_revision() const {
  std::shared_lock lk(mu_);
  return store_.compact_revision();
}

std::size_t KvStore::size_bytes() const {
  std::shared_lock lk(mu_);
  return store_.size_bytes();
}

HistorySource::Chunk KvStore::read_history(int64_t from_rev, std::string_view key,
                                           std::string_view range_end, bool prev_kv,
                                           std::size_t max_events) const {
  std::shared_lock lk(mu_);
  Chunk chunk;
  chunk.compact_revision = store_.compact_revision();
  if (from_rev < store_.compact_revision()) {
    chunk.compacted = true;
    chunk.through_revision = store_.current_revision();
    return chunk;
  }
  MvccStore::History h = store_.history(from_rev, key, range_end, prev_kv, max_events);
  chunk.events = std::move(h.events);
  chunk.through_revision = h.through_revision;
  return chunk;
}

std::string KvStore::snapshot() const {
  auto frozen = freeze();
  return snapshot_frozen();
}

std::string KvStore::snapshot_frozen() const {
  Writer w;
  w.raw(kSnapshotMagic);
  store_.serialize(w);
  leases_.serialize(w);
  // CRC32C (SSE4.2 where available) rather than FNV-1a: this runs over the whole store at every
  // snapshot, and FNV-1a's byte-at-a-time multiply chain cost 180 ms per 82 MB.
  uint32_t sum = storage::crc32c::value(w.out());
  for (int i = 0; i < 4; ++i)
    w.out().push_back(static_cast<char>((sum >> (8 * i)) & 0xff));
  return std::move(w.out());
}

Status KvStore::restore(std::string_view snapshot, int64_t now_ms) {
  auto bad = [] { return etcd_error(ErrorCode::kBadSnapshot); };
  if (snapshot.size() < kSnapshotMagic.size() + 4) return bad();
  std::string_view body = snapshot.substr(0, snapshot.size() - 4);
  uint32_t want = 0;
  for (int i = 0; i < 4; ++i) {
    want |= static_cast<uint32_t>(static_cast<unsigned char>(snapshot[body.size() + i])) << (8 * i);
  }
  if (storage::crc32c::value(body) != want) return bad();
  Reader r(body);
  if (r.raw(kSnapshotMagic.size()) != kSnapshotMagic) return bad();
  Result<MvccStore> store = MvccStore::deserialize(r);
  if (!store.ok()) return store.error();
  LeaseTable leases;
  if (Status s = leases.deserialize(r, now_ms); !s.ok()) return s;
  if (!r.at_end()) return bad();
  // Lease attachments are not stored twice: rebuild them from the live keys.
  bool consistent = true;
  store->visit(std::string(1, '\0'), std::string(1, '\0'), store->current_revision(),
               [&](const std::string& key, const Version& v) {
                 if (v.lease == 0) return true;
                 if (!leases.exists(v.lease)) {
                   consistent = false;
                   return false;
                 }
                 leases.attach(v.lease, key);
                 return true;
               });
  if (!consistent) return bad();
  int64_t rev = 0;
  MvccStore old;  // freed by the reclaimer: a follower behind by a snapshot may hold many keys
  {
    std::unique_lock lk(mu_);
    old = std::move(store_);
    store_ = std::move(*store);
    ++history_generation_;
    leases_ = std::move(leases);
    rev = store_.current_revision();
  }
  hub_.reset(rev);
  reclaimer_.give(MvccStore::discard(std::move(old)));
  return Ok{};
}

}  // namespace kv
