#include "tests/raft/sim_checker.h"

#include <string>

namespace raftsim {
namespace {

std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t content_hash(const raft::Entry& e) {
  std::uint64_t h = 1469598103934665603ull ^ static_cast<std::uint64_t>(e.type);
  for (unsigned char c : e.data)
    h = (h ^ c) * 1099511628211ull;
  return mix(h);
}

std::string str(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

std::uint64_t chain_hash(std::uint64_t prev, const raft::Entry& e) {
  return mix(prev ^ content_hash(e) ^ (e.index * 0x9E3779B97F4A7C15ull));
}

void SimChecker::fail(const std::string& what) const {
  throw SimFailure(what);
}

void SimChecker::set_base(raft::Index index, raft::Term term, std::uint64_t hash) {
  base_index_ = index;
  applied_.assign(1, Applied{term, hash});
}

const SimChecker::Applied* SimChecker::applied_at(raft::Index i) const {
  if (i < base_index_ || i - base_index_ >= applied_.size()) return nullptr;
  return &applied_[i - base_index_];
}

void SimChecker::on_leader(raft::NodeId id, raft::Term term,
                           const std::function<std::optional<raft::Term>(raft::Index)>& term_at,
                           raft::Index first_index) {
  // Election Safety: at most one leader per term.
  auto [it, inserted] = leaders_.try_emplace(term, id);
  if (!inserted && it->second != id) {
    fail("election safety: term " + str(term) + " has leaders " + str(it->second) + " and " +
         str(id));
  }
  if (!inserted) return;
  // Leader Completeness: everything applied anywhere was committed in an earlier term.
  raft::Index top = max_applied();
  if (top + 1 < first_index) return;  // covered by the leader's snapshot, itself committed state
  auto t = term_at(top);
  if (!t || *t != applied_at(top)->term) {
    fail("leader completeness: new leader " + str(id) + " of term " + str(term) +
         " lacks committed index " + str(top) + " (term " + str(applied_at(top)->term) + ")");
  }
}

void SimChecker::on_persisted(raft::NodeId id, const std::vector<raft::Entry>& ents,
                              raft::Term prev_term) {
  for (const raft::Entry& e : ents) {
    EntryRecord rec{content_hash(e), prev_term};
    auto [it, inserted] = entry_records_.try_emplace({e.index, e.term}, rec);
    if (!inserted && (it->second.content != rec.content || it->second.prev_term != rec.prev_term)) {
      fail("log matching: node " + str(id) + " holds a different entry at index " + str(e.index) +
           " term " + str(e.term));
    }
    prev_term = e.term;
  }
}

std::uint64_t SimChecker::on_apply(raft::NodeId id, raft::Index node_applied, std::uint64_t hash,
                                   const raft::Entry& e) {
  if (e.index != node_applied + 1) {
    fail("node " + str(id) + " applied index " + str(e.index) + " after " + str(node_applied));
  }
  std::uint64_t h = chain_hash(hash, e);
  if (const Applied* a = applied_at(e.index)) {
    if (a->term != e.term || a->hash != h) {
      fail("state machine safety: node " + str(id) + " applied a different history at index " +
           str(e.index));
    }
    return h;
  }
  if (e.index != max_applied() + 1) fail("applied history has a hole before " + str(e.index));
  applied_.push_back(Applied{e.term, h});
  if (!e.data.empty() && e.data[0] == 'p') {
    std::uint64_t pid = std::stoull(e.data.substr(1));
    auto [it, inserted] = proposal_index_.try_emplace(pid, e.index);
    if (!inserted) {
      fail("exactly-once: proposal " + str(pid) + " applied at index " + str(it->second) +
           " and again at " + str(e.index));
    }
  }
  return h;
}

void SimChecker::on_snapshot(raft::NodeId id, raft::Index index, raft::Term term,
                             std::uint64_t hash) {
  const Applied* a = applied_at(index);
  if (a == nullptr || a->term != term || a->hash != hash) {
    fail("state machine safety: node " + str(id) + " installed a snapshot at index " + str(index) +
         " that matches no applied history");
  }
}

void SimChecker::on_ack(std::uint64_t proposal_id, raft::Index index) {
  auto it = proposal_index_.find(proposal_id);
  if (it == proposal_index_.end() || it->second != index) {
    fail("acknowledged proposal " + str(proposal_id) + " is not at its index " + str(index));
  }
  ++acked_;
  if (index > max_acked_index_) max_acked_index_ = index;
}

void SimChecker::on_read(raft::NodeId id, raft::Index read_index, raft::Index acked_before_start,
                         raft::Index served_at_applied) {
  // Linearizability: the read reflects every write acknowledged before it started.
  if (read_index < acked_before_start || served_at_applied < acked_before_start) {
    fail("linearizability: node " + str(id) + " served a read at index " + str(read_index) +
         " (applied " + str(served_at_applied) + ") but index " + str(acked_before_start) +
         " was acknowledged before the read started");
  }
  ++reads_;
}

}  // namespace raftsim
