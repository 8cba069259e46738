#include "kvserver/raft/read_only.h"

namespace raft {
namespace {

// "ri" + 8 bytes: distinguishes read rounds from any other heartbeat context.
std::string encode_round(std::uint64_t id) {
  std::string s = "ri";
  for (int i = 0; i < 8; ++i)
    s.push_back(static_cast<char>(id >> (8 * i)));
  return s;
}

}  // namespace

std::string ReadOnly::start_round(Index commit_index) {
  round_ = std::move(queued_);
  queued_ = {};
  acks_.clear();
  round_index_ = commit_index;
  ++round_id_;
  in_flight_ = true;
  return encode_round(round_id_);
}

std::string ReadOnly::round_context() const {
  return in_flight_ ? encode_round(round_id_) : "";
}

const std::set<NodeId>* ReadOnly::ack(const std::string& ctx, NodeId from) {
  if (!in_flight_ || ctx != encode_round(round_id_)) return nullptr;
  acks_.insert(from);
  return &acks_;
}

std::vector<ReadRequest> ReadOnly::finish_round(Index* index) {
  *index = round_index_;
  in_flight_ = false;
  acks_.clear();
  std::vector<ReadRequest> out = std::move(round_);
  round_.clear();
  return out;
}

void ReadOnly::clear() {
  queued_.clear();
  round_.clear();
  acks_.clear();
  in_flight_ = false;
}

}  // namespace raft
