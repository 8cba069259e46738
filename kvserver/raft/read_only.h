// ReadOnly: the leader's bookkeeping for ReadIndex reads (thesis §6.4), batched so that one
// heartbeat round serves every read that arrived before it started.
//
// Protocol: a read that arrives is queued; when no round is in flight, a round starts for every
// queued read with read index = the leader's commit index *now* (after the reads arrived, so it
// covers every write acknowledged before they started), and the leader broadcasts heartbeats whose
// context names the round. Once a quorum of voters has answered that context, the leader knows it
// was still the leader when the round began, and releases the round's reads at its read index.
// At most one round is in flight; reads arriving meanwhile wait for the next one.
// The leader only serves reads once it has committed an entry of its own term (§6.4 step 1);
// that gate is the caller's (Raft's) job.
//
// Thread-safety: none; owned by one Raft.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "kvserver/raft/types.h"

namespace raft {

// A read the application may serve once it has applied up to `index`.
struct ReadState {
  Index index = 0;
  std::string request_ctx;

  friend bool operator==(const ReadState&, const ReadState&) = default;
};

struct ReadRequest {
  std::string ctx;
  NodeId from = kNoNode;  // the node to answer: the leader itself or a forwarding follower
};

class ReadOnly {
 public:
  void add(ReadRequest r) { queued_.push_back(std::move(r)); }
  bool has_queued() const { return !queued_.empty(); }
  bool round_in_flight() const { return in_flight_; }
  // Starts a round for every queued read; returns the context to put in heartbeats.
  std::string start_round(Index commit_index);
  // The context of the round in flight ("" if none): heartbeats repeat it so a lost one is retried.
  std::string round_context() const;
  // Records `from`'s answer to `ctx`; returns the acks so far if it belongs to the current round.
  const std::set<NodeId>* ack(const std::string& ctx, NodeId from);
  // Ends the round in flight and returns its reads, all at `index`.
  std::vector<ReadRequest> finish_round(Index* index);
  void clear();

 private:
  std::vector<ReadRequest> queued_;
  std::vector<ReadRequest> round_;
  std::set<NodeId> acks_;
  Index round_index_ = 0;
  std::uint64_t round_id_ = 0;
  bool in_flight_ = false;
};

}  // namespace raft
