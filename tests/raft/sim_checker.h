// SimChecker: the invariants the Raft simulator checks after every step (Raft paper, Figure 3),
// plus the client-visible guarantees (exactly-once application, linearizable ReadIndex reads).
//
// It keeps the global truth the nodes must agree with:
//   - per term, the one leader seen (Election Safety);
//   - per (index, term), the entry's content and the term of its predecessor: two logs holding the
//     same (index, term) must agree on both, which by induction is Log Matching;
//   - the applied sequence as a chain hash per index: any node applying index i must reach the same
//     hash (State Machine Safety), and each proposal id appears at exactly one index;
//   - when a node becomes leader, its log must hold every entry applied anywhere so far
//     (Leader Completeness: those were committed in earlier terms).
// A violation throws SimFailure with a description; the simulator adds the seed.
//
// Thread-safety: none; one simulation owns one checker.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "kvserver/raft/types.h"

namespace raftsim {

struct SimFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::uint64_t chain_hash(std::uint64_t prev, const raft::Entry& e);

class SimChecker {
 public:
  // The bootstrap snapshot every initial member starts from.
  void set_base(raft::Index index, raft::Term term, std::uint64_t hash);

  void on_leader(raft::NodeId id, raft::Term term,
                 const std::function<std::optional<raft::Term>(raft::Index)>& term_at,
                 raft::Index first_index);
  void on_persisted(raft::NodeId id, const std::vector<raft::Entry>& ents, raft::Term prev_term);
  // Returns the node's new hash after applying `e` on top of `hash` at index e.index - 1.
  std::uint64_t on_apply(raft::NodeId id, raft::Index node_applied, std::uint64_t hash,
                         const raft::Entry& e);
  void on_snapshot(raft::NodeId id, raft::Index index, raft::Term term, std::uint64_t hash);

  // Client side. A proposal's data is "p<id>"; ack when the proposer applies it.
  void on_ack(std::uint64_t proposal_id, raft::Index index);
  raft::Index max_acked_index() const { return max_acked_index_; }
  void on_read(raft::NodeId id, raft::Index read_index, raft::Index acked_before_start,
               raft::Index served_at_applied);

  raft::Index max_applied() const { return applied_.size() - 1 + base_index_; }
  std::uint64_t acked() const { return acked_; }
  std::uint64_t reads() const { return reads_; }

 private:
  struct EntryRecord {
    std::uint64_t content;
    raft::Term prev_term;
  };
  struct Applied {
    raft::Term term;
    std::uint64_t hash;
  };

  [[noreturn]] void fail(const std::string& what) const;
  const Applied* applied_at(raft::Index i) const;

  std::map<raft::Term, raft::NodeId> leaders_;
  std::map<std::pair<raft::Index, raft::Term>, EntryRecord> entry_records_;
  raft::Index base_index_ = 0;
  std::vector<Applied> applied_;  // applied_[k] is index base_index_ + k
  std::unordered_map<std::uint64_t, raft::Index> proposal_index_;
  raft::Index max_acked_index_ = 0;
  std::uint64_t acked_ = 0;
  std::uint64_t reads_ = 0;
};

}  // namespace raftsim
