// NodePool: fixed-size cells carved from 1 MiB slabs, and PoolAllocator, the allocator that gives
// MvccStore's std::map its nodes from them.
//
// Why: a snapshot is written by a forked child (kvserver/server/node/snapshot_writer.h). While it
// runs, the first write to each page the two processes still share copies that page, one page
// fault each. The map rebalances on every insert, writing to nodes all over the tree. From malloc,
// a node sits between the values (1 KiB each under check perf's load), so those writes land on
// nearly as many distinct pages as nodes. Profiled on a leader under check perf's load paced at
// 8000 w/s, its page faults went from 3k/s to 40k/s after a 400 MB fork and decayed over about
// 5 s; 42% of them were in _Rb_tree_insert_and_rebalance. Meanwhile the loop took 20-110 ms to
// apply a Ready of 200-400 entries. Packed 46 to a page (88-byte nodes), 300k nodes fill 6.5k
// pages, each copied once. Measured the same way with the pool: 6% of the faults in the
// rebalance, and a median of 150 instead of 233 Readies over 20 ms per run (4 runs each). The
// rest of the faults are malloc's, for the new keys and values it places in freed blocks; the
// slowest client request of those runs did not change measurably (175-356 ms either way).
//
// A freed cell goes on a free list for the next node; slabs are never returned to the system
// (malloc keeps its small freed blocks too).
//
// Thread-safety: take() and give() are thread-safe (one mutex): the Reclaimer frees the keys a
// compaction dropped on its own thread while the loop inserts. A forked child must neither
// allocate nor free nodes, since the mutex may be held at the fork; the snapshot child only
// reads the map.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>

namespace kv {

class NodePool {
 public:
  static constexpr std::size_t kSlabBytes = 1 << 20;

  // cell_bytes: at least a pointer, a multiple of the alignment the cells need.
  explicit NodePool(std::size_t cell_bytes);
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  void* take();
  void give(void* cell) noexcept;

  // The pool for cells of Size bytes aligned to Align; one per size, for the life of the process
  // (never destroyed: a node may be freed by a static destructor that runs after it).
  template <std::size_t Size, std::size_t Align>
  static NodePool& shared() {
    static NodePool* pool =
        new NodePool(round_up(Size < sizeof(void*) ? sizeof(void*) : Size, Align));
    return *pool;
  }

 private:
  struct FreeCell {
    FreeCell* next;
  };
  static constexpr std::size_t round_up(std::size_t n, std::size_t align) {
    return (n + align - 1) / align * align;
  }

  const std::size_t cell_bytes_;
  std::mutex mu_;
  FreeCell* free_ = nullptr;  // guarded by mu_
  char* frontier_ = nullptr;  // guarded by mu_: the next never-used cell of the current slab
  char* slab_end_ = nullptr;  // guarded by mu_
};

// A stateless allocator: single objects from NodePool::shared, arrays from std::allocator.
template <typename T>
struct PoolAllocator {
  using value_type = T;

  PoolAllocator() noexcept = default;
  template <typename U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // rebinding, as std::allocator allows

  T* allocate(std::size_t n) {
    if (n == 1 && pooled) return static_cast<T*>(pool().take());
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n == 1 && pooled) {
      pool().give(p);
    } else {
      std::allocator<T>().deallocate(p, n);
    }
  }

  friend bool operator==(const PoolAllocator&, const PoolAllocator&) noexcept { return true; }

 private:
  // Cells are aligned to at most what ::operator new gives a slab.
  static constexpr bool pooled = alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  static NodePool& pool() { return NodePool::shared<sizeof(T), alignof(T)>(); }
};

}  // namespace kv
