// When a member's next size-triggered snapshot is due: the log since the last one has to reach
// that snapshot's size, plus a share of it that differs per member, so the members of a cluster
// do not all snapshot at the same moment.
//
// Why: every member applies the same entries, so with one rule for all they cross the threshold
// within milliseconds of each other. Each snapshot of a large store costs its member a fork()
// pause (30-100 ms at 400 MB), then copy-on-write faults on every page it writes while the child
// serialises the store, then that child's disk writes beside the WAL. Three at once stall the
// leader and both followers together, so no quorum is left to commit through it. Staggered, one
// member at a time pays and the other two keep committing. Measured with check perf l's load
// paced at 8000 w/s (bench/kv row 1b, 60 s runs, a 400 MB snapshot in each): p99 92-123 ms
// (median 107, 5 runs) against 116-136 ms (median 125, 10 runs) before; the slowest request
// varies with where a snapshot falls in both (173-771 ms against 218-752 ms), but was under 200 ms
// in 3 of the 5 runs and in none of the 10. What is left is the snapshotting member's own clients:
// its fork() and copy-on-write faults still slow its loop (up to 0.8 s once, a follower, fork()
// paused 98 ms).
//
// Member k of n (by sorted id) waits for snapshot_bytes * (1 + k / (2n)): 1, 1.17 and 1.33 times
// the snapshot for three members, a sixth of a snapshot's worth of writes apart; a restart still
// replays at most about 1.5 snapshots' worth of log. The count rule (--snapshot-count) is not
// staggered: it governs small stores, whose snapshots are cheap.
//
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <vector>

namespace kvserver::node {

// The log bytes since the last snapshot at which member `self` takes its next one. `members`:
// every member's id in any order; a `self` not among them (a member being removed) gets the
// unstaggered threshold, snapshot_bytes.
uint64_t staggered_snapshot_due(uint64_t snapshot_bytes, uint64_t self,
                                std::vector<uint64_t> members);

}  // namespace kvserver::node
