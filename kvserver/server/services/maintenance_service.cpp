#include "kvserver/server/services/maintenance_service.h"

#include <algorithm>
#include <utility>

#include "kvserver/server/services/api_errors.h"
#include "kvserver/server/services/convert.h"
#include "kvserver/server/services/services.h"

namespace kvserver::services {

namespace {

constexpr std::size_t kSha256Bytes = 32;

// Writes the framed image chunk by chunk, then the sha256 chunk; one write in flight at a time.
class SnapshotStream final : public grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse> {
 public:
  SnapshotStream(NodeApi& node, std::size_t chunk_bytes)
      : node_(node), chunk_bytes_(chunk_bytes), framed_(frame_snapshot(node.snapshot_image())) {
    body_bytes_ = framed_.size() - kSha256Bytes;
    next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "snapshot stream write failed"));
      return;
    }
    next();
  }

  void OnDone() override { delete this; }

 private:
  void next() {
    if (sent_ > body_bytes_) {  // the sha256 chunk went out last time
      Finish(grpc::Status::OK);
      return;
    }
    current_.Clear();
    fill_header(node_.header(), 0, current_.mutable_header());
    if (sent_ < body_bytes_) {
      std::size_t n = std::min(chunk_bytes_, body_bytes_ - sent_);
      current_.set_blob(framed_.substr(sent_, n));
      sent_ += n;
      current_.set_remaining_bytes(body_bytes_ - sent_);
    } else {
      current_.set_blob(framed_.substr(body_bytes_));
      current_.set_remaining_bytes(0);
      sent_ = body_bytes_ + 1;  // marks the sha256 chunk as sent
    }
    StartWrite(&current_);
  }

  NodeApi& node_;
  const std::size_t chunk_bytes_;
  const std::string framed_;
  std::size_t body_bytes_ = 0;
  std::size_t sent_ = 0;
  etcdserverpb::SnapshotResponse current_;
};

}  // namespace

grpc::ServerUnaryReactor* MaintenanceService::Alarm(grpc::CallbackServerContext* ctx,
                                                    const etcdserverpb::AlarmRequest*,
                                                    etcdserverpb::AlarmResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  fill_header(node_.header(), 0, resp->mutable_header());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Status(grpc::CallbackServerContext* ctx,
                                                     const etcdserverpb::StatusRequest*,
                                                     etcdserverpb::StatusResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  NodeStatus s = node_.status();
  fill_header(node_.header(), 0, resp->mutable_header());
  resp->set_version(version_);
  resp->set_dbsize(s.db_size);
  resp->set_dbsizeinuse(s.db_size_in_use);
  resp->set_leader(s.leader);
  resp->set_raftindex(s.raft_index);
  resp->set_raftterm(s.raft_term);
  resp->set_raftappliedindex(s.raft_applied_index);
  resp->set_islearner(s.is_learner);
  for (const auto& e : s.errors)
    resp->add_errors(e);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Defragment(grpc::CallbackServerContext* ctx,
                                                         const etcdserverpb::DefragmentRequest*,
                                                         etcdserverpb::DefragmentResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  fill_header(node_.header(), 0, resp->mutable_header());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Hash(grpc::CallbackServerContext* ctx,
                                                   const etcdserverpb::HashRequest*,
                                                   etcdserverpb::HashResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto h = node_.store().hash(0);
  if (!h.ok()) {
    reactor->Finish(to_grpc_status(h.error()));
    return reactor;
  }
  fill_header(node_.header(), h->revision, resp->mutable_header());
  resp->set_hash(h->hash);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::HashKV(grpc::CallbackServerContext* ctx,
                                                     const etcdserverpb::HashKVRequest* req,
                                                     etcdserverpb::HashKVResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto h = node_.store().hash(req->revision());
  if (!h.ok()) {
    reactor->Finish(to_grpc_status(h.error()));
    return reactor;
  }
  fill_header(node_.header(), h->revision, resp->mutable_header());
  resp->set_hash(h->hash);
  resp->set_compact_revision(h->compact_revision);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* MaintenanceService::Snapshot(
    grpc::CallbackServerContext*, const etcdserverpb::SnapshotRequest*) {
  return new SnapshotStream(node_, chunk_bytes_);
}

grpc::ServerUnaryReactor* MaintenanceService::MoveLeader(grpc::CallbackServerContext* ctx,
                                                         const etcdserverpb::MoveLeaderRequest* req,
                                                         etcdserverpb::MoveLeaderResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  node_.move_leader(req->targetid(), [this, reactor, resp](std::optional<ApiError> error) {
    if (error) {
      reactor->Finish(to_grpc_status(*error));
      return;
    }
    fill_header(node_.header(), 0, resp->mutable_header());
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace kvserver::services
