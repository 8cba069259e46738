// KvStore: kvserver's replicated state machine for the etcd v3 KV and Lease APIs, and the source of
// watch events. The Raft server applies committed entries to it (put, delete_range, txn, compact,
// lease_grant, lease_revoke) from its one apply thread; gRPC threads read (range, hash, lease
// queries) and watch (watch_hub()) concurrently.
//
// Semantics are etcd 3.4's (ETCD-FACTS.md; types.h for ranges and revisions): the revision starts
// at 1 and bumps once per write transaction that changes something (a put always does; a delete or
// lease revoke only if it deleted a key; a txn if any write ran); all writes of one transaction
// share that revision and reach watchers together. A txn's compares, and the branch choice of every
// nested txn, are evaluated against the state before the txn; its ranges see the txn's earlier
// writes. A txn that fails validation (unknown lease, a key written twice, bad read revision...)
// changes nothing.
//
// Leases: a put with a lease attaches the key to it (and detaches it from its previous lease);
// deleting a key detaches it; revoking a lease deletes all its keys at one revision. Expiry uses a
// time the caller injects (now_ms); see lease_table.h.
//
// Thread-safety: one writer-preferring RwLock (rw_lock.h) guards the store and the lease table:
// writers (the apply thread, and lease_keep_alive/promote_leases which touch only expiry times)
// take it exclusively, readers share it, so every read sees one committed revision, never half a
// txn. Watch events are handed to the hub after the lock is released: a slow watcher never holds up
// an apply. Likewise what a compaction drops, and a store a snapshot replaces, are freed by a
// Reclaimer thread (reclaimer.h), outside the lock and off the apply thread.
//
// Snapshot encoding (snapshot()): "kvsnap02", the MvccStore section (mvcc_store.h), the LeaseTable
// section (lease_table.h), then a 4-byte little-endian CRC32C of everything before it.
#pragma once

#include <cstdint>
#include <functional>
#include <shared_mutex>  // std::shared_lock
#include <string>
#include <string_view>
#include <vector>

#include "kvserver/kv/errors.h"
#include "kvserver/kv/lease_table.h"
#include "kvserver/kv/mvcc_store.h"
#include "kvserver/kv/reclaimer.h"
#include "kvserver/kv/rw_lock.h"
#include "kvserver/kv/types.h"
#include "kvserver/kv/watch_hub.h"

namespace kv {

class KvStore : public HistorySource {
 public:
  struct Options {
    WatchHub::Options watch;
    // Grants ask for at least this TTL (etcd: 1.5 x election timeout, rounded up to seconds).
    int64_t min_lease_ttl_s = 0;
  };
  KvStore() : KvStore(Options{}) {}
  explicit KvStore(Options options);
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  // --- Writes: the apply thread only (they go through the Raft log). ---
  Result<PutResponse> put(const PutRequest& req);
  Result<DeleteRangeResponse> delete_range(const DeleteRangeRequest& req);
  Result<TxnResponse> txn(const TxnRequest& req);
  Result<CompactResponse> compact(int64_t revision);
  // id 0 = pick one (deterministic); ttl in seconds.
  Result<LeaseGrantResponse> lease_grant(int64_t id, int64_t ttl_s, int64_t now_ms);
  // Deletes every attached key at one revision; returns the header revision.
  Result<int64_t> lease_revoke(int64_t id);
  // Replaces the whole state with a snapshot(); watchers then catch up from the new history.
  Status restore(std::string_view snapshot, int64_t now_ms);

  // --- Reads: any thread. ---
  Result<RangeResponse> range(const RangeRequest& req) const;
  // A txn of ranges only (is_read_only(req); anything else is a programmer error): compares
  // and ranges at one revision, as txn() would answer it, without a write.
  Result<TxnResponse> read_txn(const TxnRequest& req) const;
  // HashKV: revision 0 = current. The lock is held for one slice of keys at a time
  // (kHashSliceKeys), so applies go on while a large store is hashed; a compaction or restore
  // between slices makes it start over. `between_slices`, if set, runs between two slices with
  // no lock held (tests write or compact there).
  Result<HashResponse> hash(int64_t revision,
                            const std::function<void()>& between_slices = {}) const;
  Result<LeaseTimeToLiveResponse> lease_time_to_live(int64_t id, bool with_keys,
                                                     int64_t now_ms) const;
  std::vector<int64_t> lease_ids() const;
  // Leader: leases expired at now_ms, to propose as revokes (at most `limit`).
  std::vector<int64_t> expired_leases(int64_t now_ms, std::size_t limit) const;
  // Leader-local (not replicated): restart a lease's TTL / give all leases a full TTL.
  Result<int64_t> lease_keep_alive(int64_t id, int64_t now_ms);
  void promote_leases(int64_t now_ms);
  std::string snapshot() const;
  // For a snapshot built in a fork()ed child: hold freeze() across the fork, so no write (and no
  // lease keep-alive from another thread) is half-done in the child's copy; the child, which has
  // inherited the held lock and no other thread, then calls snapshot_frozen() (snapshot() would
  // take the lock again). Also usable by a thread that simply holds freeze().
  std::shared_lock<RwLock> freeze() const { return std::shared_lock<RwLock>(mu_); }
  std::string snapshot_frozen() const;

  int64_t revision() const;
  int64_t compacted_revision() const;
  std::size_t size_bytes() const;  // approximate bytes held: Status's db size

  WatchHub& watch_hub() { return hub_; }

  // HistorySource (for the hub).
  int64_t current_revision() const override { return revision(); }
  Chunk read_history(int64_t from_rev, std::string_view key, std::string_view range_end,
                     bool prev_kv, std::size_t max_events) const override;

 private:
  // One write transaction in progress (store lock held exclusively).
  struct WriteCtx {
    int64_t rev = 0;       // the revision its writes get: current + 1
    bool changed = false;  // any write ran (then commit bumps the revision)
    bool want_events = false;
    std::vector<Event> events;
  };
  // Branch choices of a txn and its nested txns, decided before any write.
  struct TxnPath {
    bool succeeded = false;
    std::vector<TxnPath> nested;  // one per nested txn in the chosen branch, in order
  };

  WriteCtx begin_write() const;
  // Commits ctx (if it changed anything) under the lock; returns the events to publish.
  void commit(WriteCtx& ctx);
  void publish(int64_t rev, const WriteCtx& ctx);

  Result<RangeResponse> range_at(const RangeRequest& req, int64_t read_rev,
                                 int64_t header_rev) const;
  Status check_put(const PutRequest& req) const;
  PutResponse apply_put(WriteCtx& ctx, const PutRequest& req);
  DeleteRangeResponse apply_delete(WriteCtx& ctx, const DeleteRangeRequest& req);
  bool compare_holds(const Compare& c) const;
  TxnPath choose_path(const TxnRequest& req) const;
  Status check_txn(const TxnRequest& req, const TxnPath& path) const;
  Status check_txn_writes(const TxnRequest& req, const TxnPath& path) const;
  TxnResponse apply_txn(WriteCtx& ctx, const TxnRequest& req, const TxnPath& path);
  TxnResponse answer_read_txn(const TxnRequest& req, const TxnPath& path) const;  // ranges only

  mutable RwLock mu_;  // writer-preferring: see rw_lock.h
  MvccStore store_;
  // Bumped by compact() and restore(), which change versions at or below any revision a sliced
  // hash may be reading: that hash starts over. Guarded by mu_.
  uint64_t history_generation_ = 0;
  LeaseTable leases_;
  WatchHub hub_;
  const int64_t min_lease_ttl_s_;
  Reclaimer reclaimer_;  // frees what compactions drop
};

}  // namespace kv
