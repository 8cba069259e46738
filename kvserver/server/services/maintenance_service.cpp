#include "kvserver/server/services/maintenance_service.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "kvserver/server/services/api_errors.h"
#include "kvserver/server/services/convert.h"
#include "kvserver/server/services/services.h"

namespace kvserver::services {

namespace {

// Streams the framed image chunk by chunk, then the sha256 chunk; one write in flight at a time.
// The image comes from the node as a file (built beside the node loop) and is read a chunk at a
// time, so neither the store nor memory is held for the whole of a large transfer.
class SnapshotStream final : public grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse> {
 public:
  SnapshotStream(NodeApi& node, std::size_t chunk_bytes) : node_(node), chunk_bytes_(chunk_bytes) {
    node_.snapshot_image([this](ApiResult<ImageFile> r) {
      if (auto* err = std::get_if<ApiError>(&r)) {
        Finish(to_grpc_status(*err));
        return;
      }
      image_ = std::move(std::get<ImageFile>(r));
      framer_.emplace(image_.bytes);
      next();
    });
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
    const uint64_t body_bytes = framer_->bytes_before_sha();
    if (sent_ > body_bytes) {  // the sha256 chunk went out last time
      Finish(grpc::Status::OK);
      return;
    }
    current_.Clear();
    fill_header(node_.header(), 0, current_.mutable_header());
    if (sent_ < body_bytes) {
      const uint64_t n = std::min<uint64_t>(chunk_bytes_, body_bytes - sent_);
      std::string* blob = current_.mutable_blob();
      if (!read_body(sent_, n, blob)) {
        Finish(grpc::Status(grpc::StatusCode::INTERNAL,
                            "kvserver: reading the snapshot image failed: " + read_error_));
        return;
      }
      sent_ += n;
      current_.set_remaining_bytes(static_cast<int64_t>(body_bytes - sent_));
    } else {
      current_.set_blob(trailer_.substr(trailer_.size() - SnapshotFramer::kShaBytes));
      current_.set_remaining_bytes(0);
      sent_ = body_bytes + 1;  // marks the sha256 chunk as sent
    }
    StartWrite(&current_);
  }

  // Bytes [from, from + n) of the stream before the sha256: the image, then the trailer's start.
  bool read_body(uint64_t from, uint64_t n, std::string* out) {
    out->clear();
    if (from < image_.bytes) {
      const uint64_t m = std::min(n, image_.bytes - from);
      out->resize(m);
      uint64_t got = 0;
      while (got < m) {
        const ssize_t r = ::pread(image_.fd, out->data() + got, m - got,
                                  static_cast<off_t>(image_.offset + from + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
          read_error_ = r < 0 ? std::strerror(errno) : "the file is shorter than its image";
          return false;
        }
        got += static_cast<uint64_t>(r);
      }
      framer_->add(*out);
    }
    if (from + n > image_.bytes) {
      if (trailer_.empty()) trailer_ = framer_->trailer();  // the whole image has been hashed
      const uint64_t t = from > image_.bytes ? from - image_.bytes : 0;
      out->append(trailer_, static_cast<std::size_t>(t),
                  static_cast<std::size_t>(from + n - image_.bytes - t));
    }
    return true;
  }

  NodeApi& node_;
  const std::size_t chunk_bytes_;
  ImageFile image_;
  std::optional<SnapshotFramer> framer_;
  std::string trailer_;
  std::string read_error_;
  uint64_t sent_ = 0;
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
