// Status and StatusOr: the expected failures of the Raft core, as values.
//
// The core depends on nothing but the standard library (DESIGN §2), so it does not use
// certs/result.h; callers at the edge turn a Status into their own error with to_string().
// A Status is a small enum: cheap to return on every propose() and storage read.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <utility>

namespace raft {

enum class Status : std::uint8_t {
  kOk = 0,
  kNotLeader,           // propose/transfer on a node that is not the leader: retry at the leader
  kLeaderTransferring,  // §3.10: a leader hands over and stops accepting proposals meanwhile
  kConfChangePending,   // thesis §4.1: one membership change at a time
  kInvalidConfChange,   // e.g. adding a learner that is already a voter, removing a stranger
  kInvalidTarget,       // leader transfer to a node that is not a voter
  kCompacted,           // storage: the index is behind the last snapshot
  kUnavailable,         // storage: the index is beyond the last entry
  kSnapshotTemporarilyUnavailable,  // storage: the application is still producing a snapshot
};

const char* to_string(Status s);

// A value or the Status that says why there is none. T must be default-constructible.
template <typename T>
struct [[nodiscard]] StatusOr {
  Status status = Status::kOk;
  T value{};

  StatusOr(T v) : value(std::move(v)) {}  // NOLINT: implicit, `return value;`
  StatusOr(Status s) : status(s) {}       // NOLINT: implicit, `return Status::kCompacted;`
  bool ok() const { return status == Status::kOk; }
};

}  // namespace raft
