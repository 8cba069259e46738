// PeerService: the listening side of the peer port (RaftPeer in kvserver/api/raftpb/peer.proto).
//
// Stream: every MessageBatch is checked (cluster id, addressed to this member), its frames decoded
// and handed to on_frame in order, then acknowledged by seq. A batch for another cluster or member
// gets an ack with `error` and the stream ends: two clusters sharing addresses never mix traffic.
// A member that has not learned its cluster id yet (a joiner, cluster_id() == 0) accepts the
// sender's. A batch from a member whose removal this member has applied is refused with
// kRemovedMemberError (etcd's rafthttp does the same): a removed member that missed the commit of
// its own removal - Raft sends it nothing once the leader has applied it - learns it this way.
// Snapshot: chunks must arrive at consecutive offsets, total_bytes and the sha256 on the last one
// must match; only then is the whole raft kSnap message (data restored) handed to on_frame.
//
// Thread-safety: gRPC calls the handlers from its threads; the callbacks must be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "kvserver/api/raftpb/peer.grpc.pb.h"
#include "kvserver/server/node/frame.h"

namespace kvserver::node {

// The ack error that tells a member it was removed (the refusing side applied the removal).
inline constexpr const char* kRemovedMemberError =
    "the member has been permanently removed from the cluster";

struct PeerServiceCallbacks {
  std::function<uint64_t()> self_id;
  std::function<uint64_t()> cluster_id;
  std::function<void(uint64_t from, Frame frame)> on_frame;
  std::function<bool(uint64_t member)> was_removed;  // optional
};

class PeerService final : public raftpb::RaftPeer::Service {
 public:
  explicit PeerService(PeerServiceCallbacks callbacks) : callbacks_(std::move(callbacks)) {}

  grpc::Status Stream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<raftpb::BatchAck, raftpb::MessageBatch>* stream) override;
  grpc::Status Snapshot(grpc::ServerContext* context,
                        grpc::ServerReader<raftpb::SnapshotChunk>* reader,
                        raftpb::SnapshotAck* ack) override;

 private:
  // Empty when the sender may talk to us; otherwise why not.
  std::string check_sender(uint64_t cluster_id, uint64_t from, uint64_t to) const;

  const PeerServiceCallbacks callbacks_;
};

}  // namespace kvserver::node
