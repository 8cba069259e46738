// MvccStore: the multi-version key space behind kvserver's KV API; the data structure only.
// Locking, txn logic, leases and watch delivery live in KvStore (kv_store.h), which owns one of
// these.
//
// Layout (chosen for memory: the target is half of etcd 3.4's RSS at 100k keys):
//  - keys_: an ordered map from each key (stored once) to its versions, a compact vector sorted by
//    mod_revision. A Version is 64 bytes plus the value's heap bytes when longer than 15. A delete
//    appends a tombstone (version == 0). Range is a walk of the map from lower_bound(key), picking
//    per key the last version with mod_revision <= the read revision.
//  - log_: every write in apply order as (revision, map iterator), 16 bytes each, so watch replay
//    over a range reads only the revisions asked for, and events inside one txn keep their order.
//  - index_: a hash of every key in keys_ to its map iterator (key_index.h), for point lookups
//    (get, put, single-key delete). At 100k+ keys a map descent is a chain of ~17 cache misses,
//    and every Put does one on every member's apply path (the biggest single user-space cost of a
//    write load, by perf); the hash finds the node in one or two. 16-byte slots, 3/8 to 3/4 full.
// Invariants:
//  - revisions start at 1 and current_revision() bumps once per write txn (commit());
//  - retained versions all have mod_revision >= compact_revision(), except one per key: the latest
//    at or before compact_revision(), which reads at that revision need; a tombstone is not kept
//    (a key whose only version was one disappears);
//  - one key is written at most once per revision (KvStore rejects txns writing a key twice), so
//    (revision, key) names one version;
//  - log_ is sorted by revision and holds exactly the retained versions with revision >=
//    compact_revision(); its iterators stay valid because std::map nodes never move and a key is
//    erased only together with its last log entry;
//  - index_ holds exactly the keys of keys_; its iterators stay valid for the same reason.
// Thread-safety: none. KvStore serialises writers and lets readers share (RwLock).
// Snapshot encoding: see serialize(): varints (codec.h), keys in order with their versions, then
// the log as (revision delta, key ordinal) pairs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kvserver/kv/codec.h"
#include "kvserver/kv/errors.h"
#include "kvserver/kv/key_index.h"
#include "kvserver/kv/node_pool.h"
#include "kvserver/kv/types.h"

namespace kv {

struct Version {
  int64_t mod_revision = 0;
  int64_t create_revision = 0;
  int64_t version = 0;  // 0 = tombstone: the key was deleted at mod_revision
  int64_t lease = 0;
  std::string value;
  bool tombstone() const { return version == 0; }
};

class MvccStore {
 public:
  // Nodes from a NodePool, packed together: see node_pool.h for why.
  using KeyMap = std::map<std::string, std::vector<Version>, std::less<>,
                          PoolAllocator<std::pair<const std::string, std::vector<Version>>>>;

  MvccStore() = default;
  MvccStore(const MvccStore&) = delete;  // log_ holds iterators into keys_
  MvccStore& operator=(const MvccStore&) = delete;
  MvccStore(MvccStore&&) = default;  // std::map move keeps nodes, so log_ stays valid
  MvccStore& operator=(MvccStore&&) = default;

  int64_t current_revision() const { return current_; }
  int64_t compact_revision() const { return compact_; }

  // The revision a read of `rev` sees: 0 means current; below the compacted revision and above the
  // current one are etcd's errors.
  Result<int64_t> resolve_read_revision(int64_t rev) const;

  // The live version of `key` at `rev` (which may be current_revision()+1 inside an open write), or
  // nullptr when the key does not exist then.
  const Version* get(std::string_view key, int64_t rev) const;

  // Calls fn(key, version) for each key live at `rev` in etcd's range (key, range_end), ascending;
  // stops early when fn returns false.
  void visit(std::string_view key, std::string_view range_end, int64_t rev,
             const std::function<bool(const std::string&, const Version&)>& fn) const;

  // Writes at `rev`, which must be current_revision()+1 (CHECKed); visible to get/visit at `rev`
  // at once, and to everyone once commit(rev) runs. put returns the written version (valid until
  // the key's next write); to_kv() makes a KeyValue of it for a caller that needs one.
  const Version& put(std::string_view key, std::string value, int64_t lease, int64_t rev);
  // Deletes at `rev` every key live then in etcd's range (key, range_end), or `key` alone when
  // range_end is empty, in one walk of the map: fn(key, version) sees each key's last version just
  // before its tombstone goes in. Returns how many keys it deleted. One walk, and no copy of a key
  // or value the caller does not make: etcdctl check perf ends by deleting its 300k keys at once,
  // and every member applies that on its loop, which meanwhile answers no heartbeat.
  std::size_t remove_range(std::string_view key, std::string_view range_end, int64_t rev,
                           const std::function<void(const std::string&, const Version&)>& fn);
  void commit(int64_t rev);

  // What a compaction took out of the store, still allocated: whoever destroys it frees it.
  struct Dropped {
    std::vector<KeyMap::node_type> keys;  // keys with no version left, each with its versions
    std::vector<std::string> values;      // values of dropped versions of kept keys (heap ones)
    std::vector<KeyMap> maps;             // every key of a discarded store (discard())
    bool empty() const { return keys.empty() && values.empty() && maps.empty(); }
  };
  // A whole store's keys as a Dropped batch, for a store a snapshot replaces; the rest of it (the
  // index, the log: a few big blocks) is freed here.
  static Dropped discard(MvccStore store);
  // Drops history before `rev` (see the invariants). Errors as etcd: rev <= compact_revision() is
  // kCompacted, rev > current_revision() is kFutureRevision. With `dropped`, what it removes is
  // moved there instead of freed: freeing 300k keys' values was most of a compaction's time (glibc
  // free), and the caller can do it off the apply thread and outside the store's lock.
  Status compact(int64_t rev, Dropped* dropped = nullptr);

  // FNV-1a over every retained version with mod_revision <= rev, keys ascending (HashKV).
  uint32_t hash(int64_t rev) const;
  // The same hash a slice of keys at a time, so a caller can let writers in between slices. The
  // cursor carries the hash so far and the last key hashed. Writes between slices leave the result
  // as hash(rev) would have given it at the start: they only add versions above rev (rev is at
  // most current_revision()). A compaction or a restore in between does not: start over then.
  struct HashCursor {
    uint32_t hash = kFnvSeed;
    std::string last_key;  // the last key hashed, once started
    bool started = false;
    bool done = false;
  };
  void hash_slice(int64_t rev, HashCursor& cursor, std::size_t max_keys) const;

  // Watch replay: the events of revisions from_rev.. (from_rev >= compact_revision()) touching the
  // range, whole revisions only, stopping after the revision where `max_events` is reached.
  // through_revision is the last revision fully covered (current_revision() when not cut short).
  struct History {
    std::vector<Event> events;
    int64_t through_revision = 0;
  };
  History history(int64_t from_rev, std::string_view key, std::string_view range_end, bool prev_kv,
                  std::size_t max_events) const;

  // Approximate bytes held (keys, values, per-version and per-node overhead): Status's db size.
  std::size_t size_bytes() const { return bytes_; }
  std::size_t key_count() const { return keys_.size(); }  // keys with any retained version

  void serialize(Writer& w) const;
  static Result<MvccStore> deserialize(Reader& r);

  static KeyValue to_kv(const std::string& key, const Version& v);

 private:
  struct LogEntry {
    int64_t revision;
    KeyMap::iterator key;
  };
  // Index of the last version with mod_revision <= rev, or -1.
  static int64_t find_at(const std::vector<Version>& versions, int64_t rev);
  Event make_event(const std::string& key, const std::vector<Version>& versions, int64_t rev,
                   bool prev_kv) const;
  // keys_.find(key) through index_.
  KeyMap::const_iterator find(std::string_view key) const;
  KeyMap::iterator find(std::string_view key);
  // Inserts a key known to be absent from keys_ (and index_).
  KeyMap::iterator insert(std::string_view key, std::vector<Version> versions);
  // Appends a tombstone at `rev` to a live key.
  void bury(KeyMap::iterator it, int64_t rev);

  KeyMap keys_;
  KeyIndex<KeyMap::iterator> index_;
  std::vector<LogEntry> log_;
  int64_t current_ = 1;
  int64_t compact_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace kv
