#include "kvserver/server/node/proposal_batch.h"

namespace kvserver::node {

void ProposalBatch::add(std::string entry, uint64_t request_id, uint64_t origin,
                        Clock::time_point now) {
  if (entries_.empty()) oldest_ = now;
  bytes_ += entry.size();
  entries_.push_back(std::move(entry));
  ids_.emplace_back(request_id, origin);
}

bool ProposalBatch::due(Clock::time_point now, bool in_flight) const {
  if (entries_.empty()) return false;
  return !in_flight || bytes_ >= kMaxBytes || now >= oldest_ + kMaxHold;
}

std::optional<ProposalBatch::Clock::time_point> ProposalBatch::deadline() const {
  if (entries_.empty()) return std::nullopt;
  return oldest_ + kMaxHold;
}

ProposalBatch::Taken ProposalBatch::take() {
  Taken t{std::move(entries_), std::move(ids_)};
  entries_.clear();
  ids_.clear();
  bytes_ = 0;
  return t;
}

}  // namespace kvserver::node
