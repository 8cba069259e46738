// bench_up: how long `provision up` takes on local test hosts (scripts/test-hosts, already booted
// before the clock starts), with kvserver (default) or the etcd flavour: from nothing to a healthy
// cluster, per step, for
// 3 and 5 nodes, and a no-op re-run on the healthy cluster. Each figure is the median of --runs
// runs (default 3), `provision reset --yes` between runs. Targets from the issue: 3 nodes <= 3 s,
// 5 nodes <= 4 s, no-op <= 1 s. Prints the machine's load average beside the figures, since the
// test hosts share the workstation's CPUs.
//
// Usage: bench_up [--runs N] [--flavor kvserver|etcd] [--keep-hosts]   (needs root; stops the test
// hosts at the end unless --keep-hosts). kvserver is this build's bin/kvserver.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "tests/support/test_support.h"

namespace {

using test_support::run;
using test_support::shell_quote;

const std::string kProvision = std::string(PROJECT_BINARY_DIR) + "/bin/provision";
const std::string kKvserver = std::string(PROJECT_BINARY_DIR) + "/bin/kvserver";
const std::string kTestHosts = std::string(PROJECT_SOURCE_DIR) + "/scripts/test-hosts";
const char* const kSteps[] = {"preflight", "certs", "render", "push", "start", "verify"};

struct Timed {
  double total_s = 0;
  std::map<std::string, double> step_s;
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Timed timed_up(const std::string& inventory) {
  const double start = now_s();
  auto r = run(shell_quote(kProvision) + " up -i " + shell_quote(inventory));
  Timed t;
  t.total_s = now_s() - start;
  if (r.exit_code != 0) {
    std::fprintf(stderr, "bench_up: provision up failed:\n%s\n", r.output.c_str());
    std::exit(1);
  }
  // "push      done    3 node(s) updated in 0.81 s"
  static const std::regex done(R"(^(\w+)\s+done\s.* in ([0-9.]+) s$)");
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, done)) t.step_s[m[1]] = std::stod(m[2]);
  }
  return t;
}

void reset(const std::string& inventory) {
  auto r = run(shell_quote(kProvision) + " reset --yes -i " + shell_quote(inventory));
  if (r.exit_code != 0) {
    std::fprintf(stderr, "bench_up: reset failed:\n%s\n", r.output.c_str());
    std::exit(1);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one;
}

void measure(const std::string& flavor, int nodes, int runs, double target_s,
             double noop_target_s) {
  test_support::TempDir dir;
  const std::string inventory = dir / "inventory.yaml";
  auto up = run(kTestHosts + " up " + std::to_string(nodes) + " --flavor " + flavor +
                " --inventory " + shell_quote(inventory));
  if (up.exit_code != 0) {
    std::fprintf(stderr, "bench_up: test-hosts up failed:\n%s\n", up.output.c_str());
    std::exit(1);
  }
  if (flavor == "kvserver") {  // this build's server, not whichever build/ test-hosts points at
    auto sed =
        run("sed -i 's|^  binary: .*|  binary: " + kKvserver + "|' " + shell_quote(inventory));
    if (sed.exit_code != 0) std::exit(1);
  }
  reset(inventory);  // nothing of a previous cluster may remain on the hosts
  std::vector<double> totals, noops;
  std::map<std::string, std::vector<double>> steps;
  for (int i = 0; i < runs; ++i) {
    Timed t = timed_up(inventory);
    totals.push_back(t.total_s);
    for (const auto& [step, s] : t.step_s)
      steps[step].push_back(s);
    noops.push_back(timed_up(inventory).total_s);
    reset(inventory);
  }
  std::printf("%d nodes, from nothing to healthy: %.2f s (median of %d; target <= %.0f s: %s)\n",
              nodes, median(totals), runs, target_s, median(totals) <= target_s ? "met" : "MISSED");
  for (const char* step : kSteps)
    std::printf("    %-10s %.2f s\n", step, median(steps[step]));
  std::printf("%d nodes, no-op re-run:            %.2f s (median of %d; target <= %.0f s: %s)\n",
              nodes, median(noops), runs, noop_target_s,
              median(noops) <= noop_target_s ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 3;
  bool keep_hosts = false;
  std::string flavor = "kvserver";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--flavor" && i + 1 < argc &&
               (std::string(argv[i + 1]) == "kvserver" || std::string(argv[i + 1]) == "etcd")) {
      flavor = argv[++i];
    } else if (a == "--keep-hosts") {
      keep_hosts = true;
    } else {
      std::fprintf(stderr, "usage: bench_up [--runs N] [--flavor kvserver|etcd] [--keep-hosts]\n");
      return 2;
    }
  }
  std::printf("bench_up: provision up, %s flavour, local test hosts (load average %s, %ld CPUs)\n",
              flavor.c_str(), load_average().c_str(), sysconf(_SC_NPROCESSORS_ONLN));
  measure(flavor, 3, runs, 3, 1);
  measure(flavor, 5, runs, 4, 1);
  std::printf("load average at the end: %s\n", load_average().c_str());
  if (!keep_hosts) (void)run(kTestHosts + " down");
  return 0;
}
