// Config: how one Raft node is set up. All times are in ticks: the core has no clock, the
// application calls tick() at a fixed interval (e.g. every 100 ms) and picks these counts.
//
// Randomness (the election timeout spread, §5.2) comes only from `random` or, if unset, from a
// generator seeded with `seed` -- never from a global source -- so a test replays exactly.
//
// Thread-safety: plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "kvserver/raft/storage.h"
#include "kvserver/raft/types.h"

namespace raft {

struct Config {
  NodeId id = kNoNode;
  // §5.2: a follower that hears nothing for a random time in [election_tick, 2*election_tick)
  // starts an election. heartbeat_tick must be well below election_tick.
  int election_tick = 10;
  int heartbeat_tick = 1;
  // The durable log; must outlive the Raft. Read-only for the core.
  const Storage* storage = nullptr;
  // The last index the application has applied (after a restart: its snapshot's index); committed
  // entries after it are handed out again.
  Index applied = 0;
  // Flow control: the data size of one AppendEntries, the number of appends in flight per follower
  // (pipelining), and the size of the committed entries handed out in one Ready.
  std::uint64_t max_size_per_msg = 1 << 20;
  std::size_t max_inflight_msgs = 256;
  std::uint64_t max_committed_size_per_ready = 64ull << 20;
  // §6.2 / thesis §9.6: a leader steps down when a quorum has not answered within an election
  // timeout, and a follower that heard from a leader within one ignores vote requests.
  bool check_quorum = true;
  // Thesis §9.6: a pre-vote round (which changes no term) must succeed before a real election,
  // so a node that was partitioned away does not force the cluster's term up when it returns.
  bool pre_vote = true;
  // When a leader's commit index moves and a follower has no new entries to receive, the plain
  // algorithm sends it an empty append just to carry the commit index. With this set, the commit
  // index rides on the next append or heartbeat instead, or on notify_commit(), which the
  // application calls a little later (and at once when a follower waits on an entry). Followers
  // learn commits a moment later; at one client a write then costs two messages per follower
  // instead of four. Safety does not depend on when followers learn the commit index (§5.3).
  bool defer_commit_notice = false;
  std::uint64_t seed = 0;
  std::function<std::uint64_t()> random;  // overrides `seed` when set
};

}  // namespace raft
