// now_ms: the steady clock in milliseconds, the one reading the node's ticks, deadlines and
// BusyWatch share.
#pragma once

#include <chrono>
#include <cstdint>

namespace kvserver::node {

inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace kvserver::node
