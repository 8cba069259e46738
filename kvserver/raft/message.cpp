#include "kvserver/raft/message.h"

#include "kvserver/raft/status.h"

namespace raft {

const char* to_string(MessageType t) {
  switch (t) {
    case MessageType::kApp:
      return "App";
    case MessageType::kAppResp:
      return "AppResp";
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResp:
      return "VoteResp";
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResp:
      return "PreVoteResp";
    case MessageType::kHeartbeat:
      return "Heartbeat";
    case MessageType::kHeartbeatResp:
      return "HeartbeatResp";
    case MessageType::kSnap:
      return "Snap";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
    case MessageType::kReadIndex:
      return "ReadIndex";
    case MessageType::kReadIndexResp:
      return "ReadIndexResp";
  }
  return "?";
}

const char* to_string(Status s) {
  switch (s) {
    case Status::kOk:
      return "ok";
    case Status::kNotLeader:
      return "not the leader; retry at the leader";
    case Status::kLeaderTransferring:
      return "leadership transfer in progress; retry shortly";
    case Status::kConfChangePending:
      return "a membership change is still pending; retry once it is applied";
    case Status::kInvalidConfChange:
      return "invalid membership change for the current configuration";
    case Status::kInvalidTarget:
      return "leader transfer target is not a voter";
    case Status::kCompacted:
      return "requested index is compacted";
    case Status::kUnavailable:
      return "requested index is beyond the last entry";
    case Status::kSnapshotTemporarilyUnavailable:
      return "snapshot temporarily unavailable";
  }
  return "?";
}

}  // namespace raft
