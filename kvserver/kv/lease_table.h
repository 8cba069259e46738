// LeaseTable: etcd's leases (id, granted TTL, attached keys) plus the expiry bookkeeping the leader
// uses to decide which leases to revoke. There is no wall clock inside: every call that needs the
// time takes `now_ms` from the caller (a steady clock in the server, a plain integer in tests), so
// applying a log entry is deterministic on every replica. Expiry is not part of the replicated
// state: only the leader's view matters, it goes through the log as a revoke, and a new leader
// calls promote(now_ms) to give every lease a full TTL again (etcd does the same).
//
// Invariants: ids are non-zero; a key is attached to at most one lease (KvStore keeps that in step
// with the store: a key's live version has lease L iff the key is in L's key set).
// Thread-safety: none; KvStore locks around it.
// Snapshot encoding: next auto id, count, then (id, ttl) pairs; keys are rebuilt from the store.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kvserver/kv/codec.h"
#include "kvserver/kv/errors.h"
#include "kvserver/kv/types.h"

namespace kv {

class LeaseTable {
 public:
  struct Lease {
    int64_t ttl_s = 0;
    int64_t expiry_ms = 0;  // leader bookkeeping, from the injected clock
    std::set<std::string> keys;
  };

  // id 0 picks the next free id deterministically (counter), so replicas agree without a leader
  // choice; the API layer may instead pick a random id before proposing, as etcd does.
  Result<int64_t> grant(int64_t id, int64_t ttl_s, int64_t now_ms);
  bool exists(int64_t id) const { return leases_.count(id) != 0; }
  const Lease* find(int64_t id) const;
  // Removes the lease and returns its keys (the caller deletes them).
  Result<std::set<std::string>> revoke(int64_t id);
  // Restarts the TTL; returns it.
  Result<int64_t> keep_alive(int64_t id, int64_t now_ms);
  // Remaining whole seconds (0 when already past expiry).
  Result<int64_t> remaining_s(int64_t id, int64_t now_ms) const;

  void attach(int64_t id, const std::string& key);  // id 0 is a no-op; the lease must exist
  void detach(int64_t id, const std::string& key);  // id 0 / unknown id / unattached: no-op

  // Leases whose expiry is at or before now_ms, ascending id, at most `limit`.
  std::vector<int64_t> expired(int64_t now_ms, std::size_t limit) const;
  void promote(int64_t now_ms);  // every lease gets a full TTL from now_ms

  std::vector<int64_t> ids() const;
  std::size_t size() const { return leases_.size(); }

  void serialize(Writer& w) const;
  // Replaces the table; expiries start at now_ms + ttl; keys are attached afterwards by the caller.
  Status deserialize(Reader& r, int64_t now_ms);

 private:
  std::map<int64_t, Lease> leases_;
  int64_t next_auto_id_ = 1;
};

}  // namespace kv
