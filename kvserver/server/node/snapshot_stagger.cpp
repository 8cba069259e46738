#include "kvserver/server/node/snapshot_stagger.h"

#include <algorithm>

namespace kvserver::node {

uint64_t staggered_snapshot_due(uint64_t snapshot_bytes, uint64_t self,
                                std::vector<uint64_t> members) {
  std::sort(members.begin(), members.end());
  auto it = std::find(members.begin(), members.end(), self);
  if (it == members.end()) return snapshot_bytes;
  const uint64_t rank = static_cast<uint64_t>(it - members.begin());
  const uint64_t n = members.size();
  // rank < n, so the extra share stays below half a snapshot. Dividing first, no product can
  // overflow; the rounding costs a few bytes.
  return snapshot_bytes + snapshot_bytes / (2 * n) * rank;
}

}  // namespace kvserver::node
