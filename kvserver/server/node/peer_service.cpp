#include "kvserver/server/node/peer_service.h"

#include <openssl/evp.h>

#include "kvserver/raft/codec.h"
#include "kvserver/server/log.h"
#include "kvserver/server/node/membership.h"

namespace kvserver::node {

std::string PeerService::check_sender(uint64_t cluster_id, uint64_t from, uint64_t to) const {
  uint64_t mine = callbacks_.cluster_id();
  if (mine != 0 && cluster_id != 0 && cluster_id != mine) {
    return "cluster id mismatch: this member is in cluster " + id_hex(mine) + ", the sender in " +
           id_hex(cluster_id) +
           " (a member that should join a running cluster is added with `etcdctl member add` "
           "and started with an empty data dir and --initial-cluster-state existing; two "
           "clusters must not share peer URLs)";
  }
  if (to != callbacks_.self_id()) {
    return "member id mismatch: this member is " + id_hex(callbacks_.self_id()) +
           ", the sender addressed " + id_hex(to);
  }
  if (callbacks_.was_removed && callbacks_.was_removed(from)) return kRemovedMemberError;
  return "";
}

// One Push stream. OnReadDone runs on a gRPC thread and must not block: on_frames only queues.
class PeerService::PushReactor final : public grpc::ServerReadReactor<raftpb::MessageBatch> {
 public:
  PushReactor(const PeerService* service, raftpb::PushSummary* summary)
      : service_(service), summary_(summary) {
    StartRead(&batch_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the sender half-closed, or the stream is gone
      Finish(grpc::Status::OK);
      return;
    }
    if (std::string why = service_->check_sender(batch_.cluster_id(), batch_.from(), batch_.to());
        !why.empty()) {
      uint64_t held = 0;
      if (service_->refusal_log_.pass(batch_.from(), why, RepeatGate::Clock::now(), &held)) {
        spdlog::warn("refusing raft stream from {:x}: {}{}", batch_.from(), why, repeat_note(held));
      }
      Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, why));
      return;
    }
    std::vector<Frame> frames;
    frames.reserve(batch_.messages_size());
    for (const auto& bytes : batch_.messages()) {
      if (!bytes.empty() && !known_frame_tag(bytes)) {
        if (!told_unknown_) {
          spdlog::info(
              "skipping frames of a kind this version does not know from {:x} (a newer "
              "member?)",
              batch_.from());
          told_unknown_ = true;
        }
        continue;
      }
      auto frame = decode_frame(bytes);
      if (!frame) {
        spdlog::warn("refusing raft stream from {:x}: malformed frame", batch_.from());
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed frame"));
        return;
      }
      frames.push_back(std::move(*frame));
    }
    summary_->set_seq(batch_.seq());
    // An empty batch is the sender proving an idle stream (peer_transport.h): nothing to hand on.
    if (!frames.empty()) service_->callbacks_.on_frames(batch_.from(), std::move(frames));
    StartRead(&batch_);
  }

  void OnDone() override { delete this; }

 private:
  const PeerService* const service_;
  raftpb::PushSummary* const summary_;
  raftpb::MessageBatch batch_;
  bool told_unknown_ = false;  // logged once per stream
};

grpc::ServerReadReactor<raftpb::MessageBatch>* PeerService::Push(
    grpc::CallbackServerContext* /*context*/, raftpb::PushSummary* summary) {
  return new PushReactor(this, summary);
}

grpc::Status PeerService::Snapshot(grpc::ServerContext* /*context*/,
                                   grpc::ServerReader<raftpb::SnapshotChunk>* reader,
                                   raftpb::SnapshotAck* ack) {
  raftpb::SnapshotChunk chunk;
  std::string header, data, digest;
  uint64_t from = 0, total = 0;
  bool first = true, last = false;
  while (reader->Read(&chunk)) {
    if (first) {
      if (std::string why = check_sender(chunk.cluster_id(), chunk.from(), chunk.to());
          !why.empty()) {
        ack->set_error(why);
        return grpc::Status::OK;
      }
      from = chunk.from();
      header = chunk.message();
      total = chunk.total_bytes();
      data.reserve(total);
      first = false;
    }
    if (chunk.offset() != data.size()) {
      ack->set_error("chunk at offset " + std::to_string(chunk.offset()) + ", expected " +
                     std::to_string(data.size()));
      return grpc::Status::OK;
    }
    data += chunk.data();
    if (chunk.last()) {
      last = true;
      digest = chunk.sha256();
    }
  }
  ack->set_received_bytes(data.size());
  if (first || !last || data.size() != total) {
    ack->set_error("snapshot incomplete: " + std::to_string(data.size()) + " of " +
                   std::to_string(total) + " bytes");
    return grpc::Status::OK;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  if (digest != std::string(reinterpret_cast<char*>(md), len)) {
    ack->set_error("snapshot sha256 mismatch");
    return grpc::Status::OK;
  }
  raft::Message m;
  std::size_t consumed = 0;
  if (!raft::decode_message(header, &m, &consumed) || m.type != raft::MessageType::kSnap) {
    ack->set_error("snapshot header is not a raft snapshot message");
    return grpc::Status::OK;
  }
  m.snapshot.data = std::move(data);
  std::vector<Frame> frames;
  frames.emplace_back(std::move(m));
  callbacks_.on_frames(from, std::move(frames));
  return grpc::Status::OK;
}

grpc::Status PeerService::Membership(grpc::ServerContext* /*context*/,
                                     const raftpb::MembershipRequest* request,
                                     raftpb::MembershipReply* reply) {
  reply->set_cluster_id(callbacks_.cluster_id());
  if (callbacks_.members) {
    for (const Member& m : callbacks_.members()) {
      raftpb::MemberInfo* info = reply->add_members();
      info->set_id(m.id);
      info->set_name(m.name);
      for (const auto& url : m.peer_urls)
        info->add_peer_urls(url);
      info->set_is_learner(m.is_learner);
    }
  }
  reply->set_removed(callbacks_.was_removed && callbacks_.was_removed(request->member_id()));
  return grpc::Status::OK;
}

}  // namespace kvserver::node
