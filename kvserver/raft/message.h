// Message: everything one Raft node says to another, as a plain struct; and ConfChange, the
// payload of a membership-change entry.
//
// The core never encodes a Message itself; the transport does, with codec.h or its own format.
// Which fields mean what depends on the type (Raft paper, Figure 2, names in brackets):
//   kApp        index/log_term = [prevLogIndex]/[prevLogTerm], entries, commit = [leaderCommit]
//   kAppResp    index = last index the follower now matches; on reject, index = the rejected
//               prevLogIndex and reject_hint/log_term = where the follower suggests to retry
//   kVote/kPreVote  index/log_term = candidate's [lastLogIndex]/[lastLogTerm]; context marks a
//               forced campaign after a leader transfer (§3.10)
//   kHeartbeat  commit = min(leader commit, follower match); context = ReadIndex round (§6.4)
//   kSnap       snapshot = the whole snapshot (§7 InstallSnapshot, not chunked here)
//   kReadIndex / kReadIndexResp  a follower's read forwarded to the leader and the answer
//   kTimeoutNow  §3.10: "start an election now", sent by a leader to its chosen successor
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kvserver/raft/types.h"

namespace raft {

enum class MessageType : std::uint8_t {
  kApp = 1,
  kAppResp = 2,
  kVote = 3,
  kVoteResp = 4,
  kPreVote = 5,
  kPreVoteResp = 6,
  kHeartbeat = 7,
  kHeartbeatResp = 8,
  kSnap = 9,
  kTimeoutNow = 10,
  kReadIndex = 11,
  kReadIndexResp = 12,
};
constexpr std::uint8_t kMaxMessageType = 12;

const char* to_string(MessageType t);

struct Message {
  MessageType type = MessageType::kApp;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;
  Term log_term = 0;
  Index index = 0;
  std::vector<Entry> entries;
  Index commit = 0;
  bool reject = false;
  Index reject_hint = 0;
  Snapshot snapshot;
  std::string context;

  friend bool operator==(const Message&, const Message&) = default;
};

// Thesis §4.1 single-server changes. Promoting a learner is kAddVoter on an existing learner.
enum class ConfChangeType : std::uint8_t {
  kAddVoter = 0,
  kAddLearner = 1,
  kRemoveNode = 2,
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddVoter;
  NodeId node_id = kNoNode;
  std::string context;  // opaque to Raft (e.g. the new member's peer URL)

  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

}  // namespace raft
