#include "kvserver/raft/status.h"

namespace raft {

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
