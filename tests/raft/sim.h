// The seeded Raft simulator: a cluster of RawNodes on a virtual clock, a network that drops,
// duplicates, reorders, delays and partitions, disks that lose what was not synced when a node
// crashes, a client load of proposals and ReadIndex reads, and membership changes and leader
// transfers mixed in. Everything random comes from the seed, so a seed replays exactly.
//
// After every step SimChecker (sim_checker.h) checks the safety invariants; at the end the faults
// stop and the cluster must converge (liveness): a new proposal is applied on every member.
//
// Thread-safety: run_seed is self-contained; separate calls may run on separate threads.
#pragma once

#include <cstdint>
#include <string>

namespace raftsim {

struct SimOptions {
  std::uint64_t seed = 1;
  int nodes = 3;               // initial voters (3 or 5)
  std::uint64_t steps = 2000;  // events with faults before the quiet phase
  bool verbose = false;        // print a trace line per event
};

struct SimResult {
  bool ok = true;
  std::string failure;
  std::uint64_t steps = 0;
  std::uint64_t acked = 0;
  std::uint64_t reads = 0;
  std::uint64_t elections = 0;  // distinct terms that had a leader
  std::uint64_t crashes = 0;
  std::uint64_t conf_changes = 0;
  std::uint64_t snapshots_sent = 0;
};

SimResult run_seed(const SimOptions& options);

}  // namespace raftsim
