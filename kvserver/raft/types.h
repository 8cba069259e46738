// The persistent vocabulary of the Raft core: log entries, hard state and snapshot metadata.
//
// This header is the contract between kvserver/raft (which produces and consumes these values) and
// kvserver/storage (which makes them durable). It depends on nothing but the standard library.
//
// Invariants (Raft §5.3, §5.4):
//   - Entry::index starts at 1; 0 means "no entry". A log holds consecutive indexes.
//   - Terms never decrease along a log.
//   - HardState::commit never exceeds the last index in the durable log (or snapshot).
//   - HardState is what must be on disk before any message that depends on it is sent (Figure 2:
//     "updated on stable storage before responding to RPCs").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace raft {

using NodeId = std::uint64_t;  // 0 is "none"
using Term = std::uint64_t;
using Index = std::uint64_t;

constexpr NodeId kNoNode = 0;

enum class EntryType : std::uint8_t {
  kNormal = 0,      // application data (may be empty: the no-op a new leader appends, §8)
  kConfChange = 1,  // data is an encoded ConfChange (thesis §4.1: single-server changes)
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// Figure 2, "Persistent state on all servers": currentTerm, votedFor; plus the commit index so a
// restarted node can re-apply without waiting for a leader (etcd-io/raft does the same).
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
  bool empty() const { return term == 0 && vote == kNoNode && commit == 0; }
};

// The membership in force at some index (thesis §4): voters count toward quorum, learners receive
// the log but never vote nor count.
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;

  friend bool operator==(const ConfState&, const ConfState&) = default;
};

// What a snapshot replaces (§7): every entry up to and including `index`, whose term was `term`,
// and the membership in force at that index.
struct SnapshotMetadata {
  Index index = 0;
  Term term = 0;
  ConfState conf_state;

  friend bool operator==(const SnapshotMetadata&, const SnapshotMetadata&) = default;
};

struct Snapshot {
  SnapshotMetadata metadata;
  std::string data;  // the application's state machine image, opaque to Raft

  friend bool operator==(const Snapshot&, const Snapshot&) = default;
  bool empty() const { return metadata.index == 0; }
};

}  // namespace raft
