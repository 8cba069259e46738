#include "kvserver/kv/node_pool.h"

#include <new>

namespace kv {

NodePool::NodePool(std::size_t cell_bytes) : cell_bytes_(cell_bytes) {}

void* NodePool::take() {
  std::lock_guard lock(mu_);
  if (free_ != nullptr) {
    FreeCell* cell = free_;
    free_ = cell->next;
    return cell;
  }
  if (frontier_ == nullptr || static_cast<std::size_t>(slab_end_ - frontier_) < cell_bytes_) {
    // The rest of the old slab (less than a cell) is left unused.
    frontier_ = static_cast<char*>(::operator new(kSlabBytes));
    slab_end_ = frontier_ + kSlabBytes;
  }
  void* cell = frontier_;
  frontier_ += cell_bytes_;
  return cell;
}

void NodePool::give(void* cell) noexcept {
  std::lock_guard lock(mu_);
  free_ = ::new (cell) FreeCell{free_};
}

}  // namespace kv
