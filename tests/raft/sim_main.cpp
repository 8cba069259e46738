// raft_sim: runs the seeded Raft simulator (sim.h) over many seeds.
//   raft_sim --seeds FIRST:COUNT [--steps N]   a fixed range (what CTest runs)
//   raft_sim --seed N [--verbose]              replay one seed exactly (printed on failure)
//   raft_sim --long SECONDS                    as many seeds as fit in the time
//   raft_sim ... --check-replay                run every seed twice and insist on identical runs
// Odd seeds simulate 5 nodes, even seeds 3. Exit status 0 iff every seed passed.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/raft/sim.h"

namespace {

// The seed being run, for the abort handler: a CHECK inside the Raft core aborts, and the seed
// must still be printed so the failure can be replayed.
volatile std::uint64_t g_seed = 0;
volatile std::uint64_t g_steps = 0;

extern "C" void on_abort(int) {
  std::fprintf(stderr, "FAILED seed %llu: the Raft core aborted (see the message above)\n",
               (unsigned long long)g_seed);
  std::fprintf(stderr, "replay: raft_sim --seed %llu --steps %llu\nraft_sim: FAIL\n",
               (unsigned long long)g_seed, (unsigned long long)g_steps);
  std::signal(SIGABRT, SIG_DFL);
}

int usage() {
  std::fprintf(stderr,
               "usage: raft_sim [--seeds FIRST:COUNT | --seed N | --long SECONDS] [--steps N] "
               "[--verbose] [--check-replay]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t first = 1, count = 100, steps = 2000;
  double long_seconds = 0;
  bool verbose = false;
  bool check_replay = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--seeds") {
      std::string v = next();
      auto colon = v.find(':');
      if (colon == std::string::npos) return usage();
      first = std::stoull(v.substr(0, colon));
      count = std::stoull(v.substr(colon + 1));
    } else if (a == "--seed") {
      first = std::stoull(next());
      count = 1;
    } else if (a == "--long") {
      long_seconds = std::stod(next());
      count = UINT64_MAX;
    } else if (a == "--steps") {
      steps = std::stoull(next());
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a == "--check-replay") {
      check_replay = true;
    } else {
      return usage();
    }
  }
  std::signal(SIGABRT, on_abort);
  g_steps = steps;
  auto start = std::chrono::steady_clock::now();
  std::uint64_t seeds = 0, total_steps = 0, acked = 0, reads = 0, elections = 0, crashes = 0,
                confs = 0, snaps = 0;
  for (std::uint64_t k = 0; k < count; ++k) {
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (long_seconds > 0 && elapsed >= long_seconds) break;
    raftsim::SimOptions o;
    o.seed = first + k;
    o.nodes = (o.seed % 2 == 1) ? 5 : 3;
    o.steps = steps;
    o.verbose = verbose;
    g_seed = o.seed;
    raftsim::SimResult r = raftsim::run_seed(o);
    if (check_replay && r.ok) {
      // Same seed, same run: every counter must match, or `--seed N` would not reproduce a bug.
      raftsim::SimResult again = raftsim::run_seed(o);
      if (again.steps != r.steps || again.acked != r.acked || again.reads != r.reads ||
          again.elections != r.elections || again.crashes != r.crashes ||
          again.conf_changes != r.conf_changes || again.snapshots_sent != r.snapshots_sent) {
        r.ok = false;
        r.failure = "replaying the seed gave a different run (nondeterminism)";
      }
    }
    ++seeds;
    total_steps += r.steps;
    acked += r.acked;
    reads += r.reads;
    elections += r.elections;
    crashes += r.crashes;
    confs += r.conf_changes;
    snaps += r.snapshots_sent;
    if (!r.ok) {
      std::printf("FAILED seed %llu (%d nodes) after %llu steps: %s\n", (unsigned long long)o.seed,
                  o.nodes, (unsigned long long)r.steps, r.failure.c_str());
      std::printf("replay: %s --seed %llu --steps %llu\n", argv[0], (unsigned long long)o.seed,
                  (unsigned long long)steps);
      std::printf("raft_sim: FAIL\n");
      return 1;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "seeds run: %llu, total steps: %llu, acknowledged proposals: %llu, linearizable reads: "
      "%llu, leaders elected: %llu, crashes: %llu, membership changes: %llu, snapshots sent: "
      "%llu, %.1f s\n",
      (unsigned long long)seeds, (unsigned long long)total_steps, (unsigned long long)acked,
      (unsigned long long)reads, (unsigned long long)elections, (unsigned long long)crashes,
      (unsigned long long)confs, (unsigned long long)snaps, secs);
  std::printf("raft_sim: OK, every invariant held on every step\n");
  return 0;
}
