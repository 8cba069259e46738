// bench_raft_core: proposals/s through an in-process 3-node cluster with no disk (MemoryStorage,
// messages handed over in memory), i.e. the cost of the consensus core alone. Prints figures; it
// asserts nothing about time.
//
//   bench_raft_core [--proposals N] [--size BYTES]
// For each batch size (proposals submitted per round of Ready processing), one propose() each or
// one propose_batch() for the batch, it prints proposals/s and microseconds per proposal for the
// whole cluster's work on one core (target: < 5 us).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "kvserver/raft/memory_storage.h"
#include "kvserver/raft/node.h"

namespace {

using namespace raft;

struct BenchNode {
  MemoryStorage storage;
  std::unique_ptr<RawNode> node;
  Index applied = 0;
  std::uint64_t applied_count = 0;
};

class Cluster {
 public:
  Cluster() {
    ConfState cs{{1, 2, 3}, {}};
    for (NodeId id = 1; id <= 3; ++id) {
      auto n = std::make_unique<BenchNode>();
      Snapshot s;
      s.metadata = {1, 1, cs};
      n->storage.apply_snapshot(s);
      n->storage.set_hard_state(HardState{1, kNoNode, 1});
      Config c;
      c.id = id;
      c.storage = &n->storage;
      c.applied = 1;
      c.seed = id;
      c.max_inflight_msgs = 256;
      n->node = std::make_unique<RawNode>(c);
      nodes_.push_back(std::move(n));
    }
    // Elect node 1: tick it alone until it leads.
    while (nodes_[0]->node->raft().role() != Role::kLeader) {
      nodes_[0]->node->tick();
      settle();
    }
    settle();
  }

  RawNode& leader() { return *nodes_[0]->node; }
  std::uint64_t applied_on(int i) const { return nodes_[i]->applied_count; }

  void settle() {
    bool moved = true;
    while (moved) {
      moved = false;
      for (auto& n : nodes_) {
        if (!n->node->has_ready()) continue;
        moved = true;
        Ready rd = n->node->ready();
        for (Message& m : rd.messages)
          queue_.push_back(std::move(m));
        n->storage.append(rd.entries);
        if (rd.hard_state) n->storage.set_hard_state(*rd.hard_state);
        for (Message& m : rd.persisted_messages)
          queue_.push_back(std::move(m));
        for (const Entry& e : rd.committed_entries) {
          n->applied = e.index;
          if (!e.data.empty()) ++n->applied_count;
        }
        n->node->advance();
        // Keep memory flat: compact behind the applied index, keeping a tail.
        if (n->applied > n->storage.first_index() + 20000) {
          Index at = n->applied - 10000;
          n->storage.create_snapshot(at, ConfState{{1, 2, 3}, {}}, "");
          n->storage.compact(at);
        }
      }
      while (!queue_.empty()) {
        moved = true;
        Message m = std::move(queue_.front());
        queue_.pop_front();
        nodes_[m.to - 1]->node->step(m);
      }
    }
  }

 private:
  std::vector<std::unique_ptr<BenchNode>> nodes_;
  std::deque<Message> queue_;
};

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t proposals = 200000;
  std::size_t size = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--proposals") proposals = std::stoull(argv[i + 1]);
    if (a == "--size") size = std::stoull(argv[i + 1]);
  }
  std::printf("bench_raft_core: 3 nodes in one process, no disk, %llu proposals of %zu bytes\n",
              (unsigned long long)proposals, size);
  std::printf("%8s %10s %14s %14s\n", "batch", "api", "proposals/s", "us/proposal");
  for (std::uint64_t batch : {1, 8, 64, 256})
    for (bool grouped : {false, true}) {
      if (batch == 1 && grouped) continue;
      Cluster c;
      std::string payload(size, 'v');
      auto t0 = std::chrono::steady_clock::now();
      std::uint64_t done = 0;
      while (done < proposals) {
        std::uint64_t n = std::min(batch, proposals - done);
        bool ok = true;
        if (grouped) {
          ok = c.leader().propose_batch(std::vector<std::string>(n, payload)).status == Status::kOk;
        } else {
          for (std::uint64_t i = 0; i < n; ++i) {
            ok = ok && c.leader().propose(payload).status == Status::kOk;
          }
        }
        if (!ok) {
          std::fprintf(stderr, "proposal refused\n");
          return 1;
        }
        done += n;
        c.settle();
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      // Every proposal must have been applied on all three nodes, or the figure means nothing.
      for (int n = 0; n < 3; ++n) {
        if (c.applied_on(n) != proposals) {
          std::fprintf(stderr, "node %d applied %llu of %llu\n", n + 1,
                       (unsigned long long)c.applied_on(n), (unsigned long long)proposals);
          return 1;
        }
      }
      std::printf("%8llu %10s %14.0f %14.2f\n", (unsigned long long)batch,
                  grouped ? "batch" : "propose", proposals / secs, secs * 1e6 / double(proposals));
    }
  return 0;
}
