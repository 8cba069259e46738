#include "kvserver/storage/log_index.h"

#include <cstdio>
#include <cstdlib>

namespace storage {

void LogIndex::reset(raft::Index base_index, raft::Term base_term) {
  base_ = base_index;
  base_term_ = base_term;
  locs_.clear();
}

const char* LogIndex::append(raft::Index i, const EntryLocation& loc) {
  if (i == 0) return "entry index 0";
  if (i > last_index() + 1) return "gap: entry index beyond the last index + 1";
  if (i <= base_) {
    reset(i - 1, 0);
  } else {
    locs_.resize(i - base_ - 1);  // drop the conflicting suffix (no-op when appending at the end)
  }
  const raft::Term prev_term = i - 1 == base_ ? base_term_ : at(i - 1).term;
  if (loc.term < prev_term) return "entry term lower than the term of the entry before it";
  locs_.push_back(loc);
  return nullptr;
}

void LogIndex::drop_through(raft::Index i) {
  if (i < base_ || i > last_index()) {
    std::fprintf(stderr, "storage: LogIndex::drop_through(%llu) outside [%llu, %llu]\n",
                 static_cast<unsigned long long>(i), static_cast<unsigned long long>(base_),
                 static_cast<unsigned long long>(last_index()));
    std::abort();
  }
  const raft::Term t = term_at(i);
  locs_.erase(locs_.begin(), locs_.begin() + static_cast<std::ptrdiff_t>(i - base_));
  base_ = i;
  base_term_ = t;
}

}  // namespace storage
