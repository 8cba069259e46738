// ProposalRegistry: the callers waiting for their proposals to be applied, by request id.
//
// A caller registers a callback with a deadline and gets a request id to put in its Command; the
// apply thread take()s the callback when it applies the entry with that id (on the member that
// proposed it), and the node loop's tick expire()s the ones past their deadline (etcd answers
// "request timed out" after 5 s + 2 x election timeout). Each callback is handed out exactly once,
// by take(), fail() or expire(), whichever comes first.
//
// Request ids start at a random 64-bit value so a restarted member never mistakes an entry a
// previous incarnation proposed (still in its log) for one of its new callers.
//
// Thread-safety: all methods are thread-safe; callbacks are returned, never run under the lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "kvserver/server/node_api.h"

namespace kvserver::node {

// What applying a command produced, for the caller that proposed it.
struct Outcome {
  std::optional<ApiError> error;  // set: the request failed (the other fields are unset)
  WriteResponse write;
  int64_t ttl_s = 0;  // lease keep-alive
  MemberChangeResult member;
};

class ProposalRegistry {
 public:
  using Callback = std::function<void(Outcome)>;

  explicit ProposalRegistry(uint64_t first_id);
  // A registry seeded from std::random_device.
  ProposalRegistry();

  uint64_t add(Callback cb, int64_t deadline_ms);
  std::optional<Callback> take(uint64_t id);
  // Callbacks whose deadline is <= now_ms, removed.
  std::vector<Callback> expire(int64_t now_ms);
  // Every callback, removed (shutdown).
  std::vector<Callback> take_all();
  std::size_t size() const;

 private:
  struct Waiter {
    Callback cb;
    int64_t deadline_ms;
  };
  mutable std::mutex mu_;
  uint64_t next_id_;
  std::map<uint64_t, Waiter> waiters_;
};

}  // namespace kvserver::node
