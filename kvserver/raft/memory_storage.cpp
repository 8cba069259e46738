#include "kvserver/raft/memory_storage.h"

#include <cstdio>
#include <cstdlib>

namespace raft {
namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "MemoryStorage: %s\n", what);
  std::abort();
}

}  // namespace

MemoryStorage::MemoryStorage() : ents_(1) {}

InitialState MemoryStorage::initial_state() const {
  return InitialState{hard_state_, snapshot_.metadata.conf_state};
}

StatusOr<std::vector<Entry>> MemoryStorage::entries(Index lo, Index hi,
                                                    std::uint64_t max_bytes) const {
  if (lo <= offset()) return Status::kCompacted;
  if (hi > last_index() + 1) return Status::kUnavailable;
  std::vector<Entry> out;
  std::uint64_t size = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = ents_[i - offset()];
    size += entry_size(e);
    if (!out.empty() && size > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

StatusOr<Term> MemoryStorage::term(Index i) const {
  if (i < offset()) return Status::kCompacted;
  if (i - offset() >= ents_.size()) return Status::kUnavailable;
  return ents_[i - offset()].term;
}

Index MemoryStorage::first_index() const {
  return offset() + 1;
}
Index MemoryStorage::last_index() const {
  return offset() + ents_.size() - 1;
}

StatusOr<Snapshot> MemoryStorage::snapshot() const {
  return snapshot_;
}

void MemoryStorage::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  Index first = entries.front().index;
  if (first > last_index() + 1) fail("append leaves a gap after the last index");
  // Entries already covered by the snapshot are committed and identical (§5.4): skip them.
  std::size_t skip = 0;
  while (skip < entries.size() && entries[skip].index <= offset())
    ++skip;
  if (skip == entries.size()) return;
  Index at = entries[skip].index;
  ents_.resize(at - offset());  // truncate everything >= at: the new entries replace it
  ents_.insert(ents_.end(), entries.begin() + static_cast<std::ptrdiff_t>(skip), entries.end());
}

bool MemoryStorage::apply_snapshot(const Snapshot& snap) {
  if (snap.metadata.index <= snapshot_.metadata.index) return false;
  snapshot_ = snap;
  ents_.assign(1, Entry{snap.metadata.term, snap.metadata.index, EntryType::kNormal, {}});
  return true;
}

void MemoryStorage::create_snapshot(Index index, const ConfState& cs, std::string data) {
  if (index <= snapshot_.metadata.index) return;
  if (index > last_index()) fail("create_snapshot beyond the last index");
  snapshot_.metadata.index = index;
  snapshot_.metadata.term = ents_[index - offset()].term;
  snapshot_.metadata.conf_state = cs;
  snapshot_.data = std::move(data);
}

void MemoryStorage::compact(Index compact_index) {
  if (compact_index <= offset()) return;
  if (compact_index > last_index()) fail("compact beyond the last index");
  if (compact_index > snapshot_.metadata.index) fail("compact beyond the snapshot");
  std::size_t k = compact_index - offset();
  Entry dummy{ents_[k].term, ents_[k].index, EntryType::kNormal, {}};
  ents_.erase(ents_.begin(), ents_.begin() + static_cast<std::ptrdiff_t>(k));
  ents_[0] = dummy;
}

}  // namespace raft
