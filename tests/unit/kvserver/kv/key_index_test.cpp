// KeyIndex: lookups agree with the map it indexes through growth, erases and probe-run wrap-around.
#include "kvserver/kv/key_index.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

using namespace kv;

namespace {

using Map = std::map<std::string, int, std::less<>>;

// Every key hashes to one of 4 values: long probe runs that wrap around the table's end, where a
// wrong backward shift after erase loses or strands keys.
struct CollidingHash {
  std::size_t operator()(std::string_view key) const {
    return key.empty() ? 0 : static_cast<std::size_t>(key.back() % 4) * 5 + 13;
  }
};

template <typename Index>
void check_agrees(const Index& index, const Map& live, int universe) {
  REQUIRE(index.size() == live.size());
  for (int k = 0; k < universe; ++k) {
    std::string key = "key" + std::to_string(k);
    auto m = live.find(key);
    const Map::iterator* hit = index.find(key);
    INFO(key);
    REQUIRE((hit != nullptr) == (m != live.end()));
    if (hit) CHECK((*hit)->first == key);
  }
}

template <typename Index>
void random_walk(int universe, int steps) {
  Map owner;  // the map the index points into; its nodes outlive their index entries
  Map live;   // which keys are indexed now
  Index index;
  uint32_t seed = 7;
  auto next = [&] { return (seed = seed * 1103515245u + 12345u) >> 8; };
  for (int step = 0; step < steps; ++step) {
    std::string key = "key" + std::to_string(next() % static_cast<uint32_t>(universe));
    if (next() % 3 == 0) {
      CHECK(index.erase(key) == (live.erase(key) == 1));
    } else if (!live.count(key)) {
      auto it = owner.emplace(key, step).first;
      index.insert(it);
      live.emplace(key, step);
    }
    if (step % 97 == 0) check_agrees(index, live, universe);
  }
  check_agrees(index, live, universe);
  // Erasing everything leaves an empty index that still works.
  for (auto& [key, v] : live)
    CHECK(index.erase(key));
  live.clear();
  check_agrees(index, live, universe);
  CHECK_FALSE(index.erase("key0"));
  index.insert(owner.begin());
  CHECK(index.find(owner.begin()->first) != nullptr);
}

}  // namespace

TEST_CASE("KeyIndex agrees with a model through inserts, erases and growth") {
  random_walk<KeyIndex<Map::iterator>>(3000, 20000);
}

TEST_CASE("KeyIndex keeps every key findable when all hashes collide into a few probe runs") {
  random_walk<KeyIndex<Map::iterator, CollidingHash>>(60, 3000);
}

TEST_CASE("a moved-from KeyIndex is empty and the moved-to one keeps the keys") {
  Map owner{{"a", 1}, {"b", 2}};
  KeyIndex<Map::iterator> index;
  for (auto it = owner.begin(); it != owner.end(); ++it)
    index.insert(it);
  KeyIndex<Map::iterator> moved = std::move(index);
  CHECK(moved.size() == 2);
  CHECK(moved.find("b") != nullptr);
  CHECK(index.size() ==
        0);  // NOLINT(bugprone-use-after-move): the state a move leaves is the point
  CHECK(index.find("a") == nullptr);
}
