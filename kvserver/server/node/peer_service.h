// PeerService: the listening side of the peer port (RaftPeer in kvserver/api/raftpb/peer.proto).
//
// Push: every MessageBatch is checked (cluster id, addressed to this member), its frames decoded
// and handed to on_frames in order, all frames of one batch in one call (one wakeup of the node
// loop per batch, not per frame). Nothing is answered per batch (peer.proto says why). A batch for
// another cluster or member, or with a malformed frame, ends the stream with FAILED_PRECONDITION
// (INVALID_ARGUMENT) and the reason as the status message, nothing of that batch delivered: two
// clusters sharing addresses never mix traffic. A frame of a kind this version does not know (a
// newer member's) is skipped, not refused (frame.h).
// A member that has not learned its cluster id yet (a joiner, cluster_id() == 0) accepts the
// sender's. A batch from a member whose removal this member has applied is refused with
// kRemovedMemberError (etcd's rafthttp does the same): a removed member that missed the commit of
// its own removal - Raft sends it nothing once the leader has applied it - learns it this way.
// Snapshot: chunks must arrive at consecutive offsets, total_bytes and the sha256 on the last one
// must match; only then is the whole raft kSnap message (data restored) handed to on_frames.
// Membership: this member's cluster id, its applied member list and whether it applied the asker's
// removal - what a joining member needs to tell "not admitted yet" from "never added"
// (join_check.h).
//
// Thread-safety: gRPC calls the handlers from its threads; the callbacks must be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "kvserver/api/raftpb/peer.grpc.pb.h"
#include "kvserver/server/node/frame.h"
#include "kvserver/server/node/repeat_gate.h"
#include "kvserver/server/node_api.h"

namespace kvserver::node {

// The refusal (status message of Push, error of SnapshotAck) that tells a member it was removed
// (the refusing side applied the removal). Senders compare the text: keep it stable.
inline constexpr const char* kRemovedMemberError =
    "the member has been permanently removed from the cluster";

struct PeerServiceCallbacks {
  std::function<uint64_t()> self_id;
  std::function<uint64_t()> cluster_id;
  std::function<void(uint64_t from, std::vector<Frame> frames)> on_frames;  // in arrival order
  std::function<bool(uint64_t member)> was_removed;                         // optional
  std::function<std::vector<Member>()> members;                             // optional
};

// Push runs on gRPC's callback API (a reactor per stream, called on gRPC's own threads): a sync
// handler parks a thread per stream and costs a thread handoff - a futex wake and a context
// switch - per batch, which profiles showed as the largest part of the peer path. Snapshot stays
// synchronous: it is rare and big, and checks its chunks at leisure.
class PeerService final
    : public raftpb::RaftPeer::WithCallbackMethod_Push<raftpb::RaftPeer::Service> {
 public:
  explicit PeerService(PeerServiceCallbacks callbacks) : callbacks_(std::move(callbacks)) {}

  grpc::ServerReadReactor<raftpb::MessageBatch>* Push(grpc::CallbackServerContext* context,
                                                      raftpb::PushSummary* summary) override;
  grpc::Status Snapshot(grpc::ServerContext* context,
                        grpc::ServerReader<raftpb::SnapshotChunk>* reader,
                        raftpb::SnapshotAck* ack) override;
  grpc::Status Membership(grpc::ServerContext* context, const raftpb::MembershipRequest* request,
                          raftpb::MembershipReply* reply) override;

 private:
  class PushReactor;

  // Empty when the sender may talk to us; otherwise why not.
  std::string check_sender(uint64_t cluster_id, uint64_t from, uint64_t to) const;

  const PeerServiceCallbacks callbacks_;
  // A refused sender redials every second: one line per sender a minute after the first.
  mutable RepeatGate refusal_log_{std::chrono::minutes(1)};
};

}  // namespace kvserver::node
