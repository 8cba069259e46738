// KeyIndex: MvccStore's point-lookup index, from a key to the std::map node that owns it.
//
// Open addressing with linear probing over a power-of-two table of 16-byte slots, each holding
// the key's full hash and the map iterator; the key itself is read through the iterator
// (it->first), so the index stores no key bytes. Why not std::unordered_map, which this replaced:
//  - Growing it relinks every one of its nodes. While a snapshot child shares the parent's pages
//    after fork(), each write to a node copies its page: at 173k keys the apply of the Put that
//    grew it took 55-210 ms (3 members, check perf's load), a pause of the loop - no heartbeats -
//    that doubles with the store. Growing this table reads the old slots and writes a new array:
//    no key, no map node, no shared page is touched.
//  - 56 bytes per key (node, bucket, malloc header) against 16 per slot at a load of 3/8 to 3/4.
// Erase shifts the following slots of the run back (no tombstones), so probe runs stay short
// after the mass erases of a compaction. The table does not shrink, like std::unordered_map.
// Thread-safety: none (MvccStore's).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace kv {

template <typename MapIterator, typename Hash = std::hash<std::string_view>>
class KeyIndex {
 public:
  KeyIndex() = default;
  KeyIndex(KeyIndex&& other) noexcept
      : slots_(std::move(other.slots_)), size_(std::exchange(other.size_, 0)) {}
  KeyIndex& operator=(KeyIndex&& other) noexcept {
    slots_ = std::move(other.slots_);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  std::size_t size() const { return size_; }

  // The iterator indexed under `key`, or nullptr.
  const MapIterator* find(std::string_view key) const {
    if (size_ == 0) return nullptr;
    const uint64_t h = hash_of(key);
    for (std::size_t i = h & mask(); slots_[i].hash != kEmpty; i = (i + 1) & mask()) {
      if (slots_[i].hash == h && std::string_view(slots_[i].it->first) == key) return &slots_[i].it;
    }
    return nullptr;
  }

  // Indexes `it` under its key (it->first), which must not be indexed yet.
  void insert(MapIterator it) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    place(Slot{hash_of(std::string_view(it->first)), it});
    ++size_;
  }

  // Removes `key`; returns whether it was indexed.
  bool erase(std::string_view key) {
    if (size_ == 0) return false;
    const uint64_t h = hash_of(key);
    std::size_t hole = h & mask();
    for (;; hole = (hole + 1) & mask()) {
      if (slots_[hole].hash == kEmpty) return false;
      if (slots_[hole].hash == h && std::string_view(slots_[hole].it->first) == key) break;
    }
    // Backward shift: a later slot of the run moves into the hole unless its home lies cyclically
    // in (hole, j] - then it is already as close to home as the hole would put it.
    for (std::size_t j = (hole + 1) & mask(); slots_[j].hash != kEmpty; j = (j + 1) & mask()) {
      const std::size_t home = slots_[j].hash & mask();
      const bool home_after_hole =
          hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (home_after_hole) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole].hash = kEmpty;
    --size_;
    return true;
  }

 private:
  static constexpr uint64_t kEmpty = 0;
  struct Slot {
    uint64_t hash = kEmpty;
    MapIterator it{};
  };

  static uint64_t hash_of(std::string_view key) {
    const uint64_t h = static_cast<uint64_t>(Hash{}(key));
    return h == kEmpty ? 1 : h;  // 0 marks an empty slot
  }
  std::size_t mask() const { return slots_.size() - 1; }

  void place(const Slot& s) {
    std::size_t i = s.hash & mask();
    while (slots_[i].hash != kEmpty)
      i = (i + 1) & mask();
    slots_[i] = s;
  }

  void grow() {
    std::vector<Slot> old =
        std::exchange(slots_, std::vector<Slot>(std::max<std::size_t>(16, slots_.size() * 2)));
    for (const Slot& s : old) {
      if (s.hash != kEmpty) place(s);
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace kv
