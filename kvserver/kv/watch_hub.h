// WatchHub: etcd's watchable store. Watchers name a key or range, a start revision and filters; the
// hub hands them events in revision order, each txn's events together in one batch.
//
// Delivery (pull, so the apply thread never blocks on a consumer): the apply thread calls publish()
// after each write; a watcher's events go to its own bounded buffer and its `notify` callback runs
// (outside the hub lock) when the buffer turns non-empty. The consumer (the gRPC watch stream) then
// calls poll(id) from its own thread until it returns nothing. Like etcd's synced/unsynced groups:
//  - a synced watcher is at the head of the log and is fed by publish();
//  - a watcher whose buffer would exceed Options::max_pending_events, or that starts in the past,
//    is unsynced: publish() skips it, and poll() catches it up from the store's history (on the
//    consumer's thread, without the hub lock) a bounded chunk at a time, then re-joins it to the
//    synced group once it has seen everything published. Each watcher remembers the next revision
//    it needs (next_rev), so the hand-over between history and publish() loses and repeats nothing.
//  - a watcher whose next revision has been compacted away gets one final response with canceled
//    and compact_revision set, and is removed (etcd's behaviour).
// Idle cost: one small struct per watcher plus an entry in a hash map (single keys) or a set
// (ranges); buffers are empty vectors. publish() looks single keys up by hash and scans range
// watchers linearly.
//
// Invariants: publish() is called with strictly increasing revisions (one apply thread), every
// revision (even one without events, so the hub knows how far the log is published).
// Thread-safety: all methods are safe from any thread. `notify` must not block; it may call poll().
// It runs outside the hub lock, so it can still run just after cancel() returned: the consumer
// must tolerate a notify for an id it has dropped (poll() then returns nothing).
// Poll a given watch id from one thread at a time (a second concurrent poll returns nothing).
// Lock order: hub mutex, then the HistorySource's own lock (watch()); never the other way round.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kvserver/kv/types.h"

namespace kv {

// What the hub needs from the store: its revision and its history (KvStore implements it).
class HistorySource {
 public:
  struct Chunk {
    std::vector<Event> events;
    int64_t through_revision = 0;  // the chunk covers every revision up to this one
    bool compacted = false;        // from_rev is below the compacted revision
    int64_t compact_revision = 0;
  };
  virtual ~HistorySource() = default;
  virtual int64_t current_revision() const = 0;
  virtual Chunk read_history(int64_t from_rev, std::string_view key, std::string_view range_end,
                             bool prev_kv, std::size_t max_events) const = 0;
};

class WatchHub {
 public:
  using Notify = std::function<void(WatchId)>;
  struct Options {
    std::size_t max_pending_events = 1024;  // per watcher, before it falls back to history
  };

  explicit WatchHub(const HistorySource& source) : WatchHub(source, Options{}) {}
  WatchHub(const HistorySource& source, Options options) : source_(source), options_(options) {}
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Registers a watcher; returns its id (> 0). A start_revision at or below the current revision
  // replays history first (notify runs at once so the consumer polls).
  WatchId watch(const WatchRequest& request, Notify notify);
  bool cancel(WatchId id);  // false if unknown (already cancelled or compacted)

  // The next batch for `id`, or nothing if there is none now (or the id is unknown).
  std::optional<WatchResponse> poll(WatchId id);

  // etcd's progress notification: the revision through which watcher `id` has been handed every
  // event, when it is synced and has nothing waiting to be polled - every later event of it will
  // carry a higher revision. Nothing for an unknown id, or one still catching up or with events
  // pending (etcd notifies synced watchers only).
  std::optional<int64_t> progress(WatchId id) const;

  // Apply thread: revision `rev` is committed with these events (apply order; prev_kv filled).
  void publish(int64_t rev, const std::vector<Event>& events);
  // The store was replaced by a snapshot at revision `rev`: every watcher catches up from history.
  void reset(int64_t rev);

  // Cheap check for the apply thread: build events only when someone watches.
  bool has_watchers() const { return watcher_count_.load(std::memory_order_acquire) != 0; }
  std::size_t watcher_count() const { return watcher_count_.load(); }
  std::size_t unsynced_count() const;

 private:
  struct Watcher {
    WatchId id = 0;
    WatchRequest request;
    Notify notify;
    int64_t next_rev = 0;  // first revision this watcher has not been given
    bool synced = false;
    bool catching_up = false;
    std::vector<Event> pending;
  };
  void join_synced(Watcher* w);
  void leave_synced(Watcher* w);
  bool wants(const Watcher& w, const Event& e) const;
  Event copy_for(const Watcher& w, const Event& e) const;

  const HistorySource& source_;
  const Options options_;
  mutable std::mutex mu_;
  std::map<WatchId, std::unique_ptr<Watcher>> watchers_;
  std::unordered_map<std::string, std::vector<Watcher*>> synced_keys_;
  std::unordered_set<Watcher*> synced_ranges_;
  WatchId next_id_ = 1;
  int64_t published_rev_ = 0;
  std::atomic<std::size_t> watcher_count_{0};
};

}  // namespace kv
