// NodePool / PoolAllocator: cells come packed from slabs (the point: a fork's copy-on-write then
// touches few pages), freed cells are reused, a std::map works on them, and two threads can share
// a pool.
#include "kvserver/kv/node_pool.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace kv;

namespace {
std::uintptr_t addr(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}
}  // namespace

TEST_CASE("a node pool hands out cells packed one after another in a slab") {
  NodePool pool(88);
  std::vector<void*> cells;
  for (int i = 0; i < 100; ++i)
    cells.push_back(pool.take());
  for (std::size_t i = 1; i < cells.size(); ++i)
    CHECK(addr(cells[i]) - addr(cells[i - 1]) == 88);
  // 100 cells of 88 bytes span 3 pages; from malloc they would sit wherever it had room.
  CHECK(addr(cells.back()) - addr(cells.front()) < 3 * 4096);
}

TEST_CASE("a node pool reuses a freed cell before carving a new one") {
  NodePool pool(64);
  void* a = pool.take();
  void* b = pool.take();
  pool.give(a);
  CHECK(pool.take() == a);
  void* c = pool.take();
  CHECK(c != a);
  CHECK(c != b);
}

TEST_CASE("a node pool starts a new slab when one is full") {
  NodePool pool(4096);
  std::set<void*> seen;
  const std::size_t per_slab = NodePool::kSlabBytes / 4096;
  for (std::size_t i = 0; i < 2 * per_slab + 1; ++i) {
    void* cell = pool.take();
    CHECK(addr(cell) % alignof(std::max_align_t) == 0);
    CHECK(seen.insert(cell).second);
  }
}

TEST_CASE("a map on PoolAllocator inserts, erases and moves nodes like std::map") {
  using Map = std::map<std::string, std::vector<int>, std::less<>,
                       PoolAllocator<std::pair<const std::string, std::vector<int>>>>;
  Map m;
  for (int i = 0; i < 5000; ++i)
    m.emplace("key" + std::to_string(i), std::vector<int>(3, i));
  for (int i = 0; i < 5000; i += 2)
    REQUIRE(m.erase("key" + std::to_string(i)) == 1);
  auto node = m.extract("key1");
  REQUIRE(!node.empty());
  Map other;
  other.insert(std::move(node));
  Map moved = std::move(m);
  CHECK(moved.size() == 2499);
  CHECK(other.at("key1") == std::vector<int>(3, 1));
  CHECK(moved.at("key4999") == std::vector<int>(3, 4999));
  CHECK(moved.count("key4998") == 0);
}

TEST_CASE("a node pool serves two threads at once without handing a cell out twice") {
  NodePool pool(48);
  constexpr int kRounds = 20000;
  std::vector<void*> kept[2];
  auto work = [&pool, &kept](int t) {
    std::vector<void*> mine;
    for (int i = 0; i < kRounds; ++i) {
      mine.push_back(pool.take());
      if (i % 3 == 0) {
        pool.give(mine.back());
        mine.pop_back();
      }
    }
    kept[t] = std::move(mine);
  };
  std::thread a(work, 0), b(work, 1);
  a.join();
  b.join();
  std::set<void*> all(kept[0].begin(), kept[0].end());
  all.insert(kept[1].begin(), kept[1].end());
  CHECK(all.size() == kept[0].size() + kept[1].size());
}
