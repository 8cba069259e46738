#include "kvserver/server/services/lease_service.h"

#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "kvserver/server/services/api_errors.h"
#include "kvserver/server/services/convert.h"

namespace kvserver::services {

namespace {

using etcdserverpb::LeaseKeepAliveRequest;
using etcdserverpb::LeaseKeepAliveResponse;

// One keep-alive stream. Requests are handled as they arrive; answers (which the node gives on its
// own threads, possibly out of order for different leases) are queued and written one at a time.
class KeepAliveStream final
    : public grpc::ServerBidiReactor<LeaseKeepAliveRequest, LeaseKeepAliveResponse> {
 public:
  KeepAliveStream(NodeApi& node, LeaderMonitor& monitor, grpc::CallbackServerContext* ctx)
      : node_(node), monitor_(monitor), guard_(std::make_shared<Guard>()) {
    guard_->stream = this;
    const auto& md = ctx->client_metadata();
    auto it = md.find("hasleader");
    if (it != md.end() && it->second == "true") {
      if (node_.status().leader == 0) {
        std::lock_guard lk(guard_->mu);
        finish_locked(to_grpc_status(no_leader()));
        return;
      }
      std::weak_ptr<Guard> weak = guard_;
      monitor_token_ = monitor_.add([weak] {
        auto g = weak.lock();
        if (!g) return;
        std::lock_guard lk(g->mu);
        if (g->stream != nullptr) g->stream->finish_locked(to_grpc_status(no_leader()));
      });
    }
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard lk(guard_->mu);
      finish_locked(grpc::Status::OK);
      return;
    }
    int64_t id = in_.id();
    {
      std::lock_guard lk(guard_->mu);
      if (finished_ || finish_pending_) return;  // ended (no leader, failed write): stop reading
      ++outstanding_;
    }
    std::weak_ptr<Guard> weak = guard_;
    node_.lease_keep_alive(id, [weak, id](ApiResult<int64_t> result) {
      auto g = weak.lock();
      if (!g) return;
      std::lock_guard lk(g->mu);
      if (g->stream != nullptr) g->stream->answer_locked(id, std::move(result));
    });
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lk(guard_->mu);
    writing_ = false;
    if (!ok) {
      finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "keep-alive stream write failed"));
      return;
    }
    pump_locked();
  }

  void OnDone() override {
    if (monitor_token_ != 0) monitor_.remove(monitor_token_);
    {
      std::lock_guard lk(guard_->mu);
      guard_->stream = nullptr;
    }
    delete this;
  }

 private:
  struct Guard {
    std::mutex mu;
    KeepAliveStream* stream = nullptr;
  };

  void answer_locked(int64_t id, ApiResult<int64_t> result) {
    --outstanding_;
    if (finished_ || (finish_pending_ && !finish_status_.ok())) return;
    LeaseKeepAliveResponse resp;
    fill_header(node_.header(), 0, resp.mutable_header());
    resp.set_id(id);
    if (result.index() == 0) {
      resp.set_ttl(std::get<0>(result));
    } else if (std::get<1>(result).code == ApiCode::kNotFound) {
      resp.set_ttl(0);  // etcd: an unknown lease is not an error on this stream, just TTL 0
    } else {
      finish_locked(to_grpc_status(std::get<1>(result)));
      return;
    }
    out_.push_back(std::move(resp));
    pump_locked();
  }

  void pump_locked() {
    if (writing_ || finished_) return;
    if (out_.empty()) {
      if (finish_pending_ && (outstanding_ == 0 || !finish_status_.ok())) {
        finished_ = true;
        Finish(finish_status_);
      }
      return;
    }
    current_ = std::move(out_.front());
    out_.pop_front();
    writing_ = true;
    StartWrite(&current_);
  }

  // A clean close waits for the answers still due; an error finishes as soon as no write is out.
  // An error replaces a clean close still waiting for answers.
  void finish_locked(grpc::Status status) {
    if (finished_) return;
    if (!finish_pending_ || (finish_status_.ok() && !status.ok())) {
      finish_pending_ = true;
      finish_status_ = std::move(status);
    }
    if (!finish_status_.ok()) out_.clear();
    pump_locked();
  }

  NodeApi& node_;
  LeaderMonitor& monitor_;
  uint64_t monitor_token_ = 0;  // set in the constructor only
  std::shared_ptr<Guard> guard_;
  LeaseKeepAliveRequest in_;
  // Guarded by guard_->mu.
  std::deque<LeaseKeepAliveResponse> out_;
  LeaseKeepAliveResponse current_;
  int outstanding_ = 0;  // keep-alives sent to the node, not answered yet
  bool writing_ = false;
  bool finished_ = false;
  bool finish_pending_ = false;
  grpc::Status finish_status_;
};

}  // namespace

grpc::ServerUnaryReactor* LeaseService::LeaseGrant(grpc::CallbackServerContext* ctx,
                                                   const etcdserverpb::LeaseGrantRequest* req,
                                                   etcdserverpb::LeaseGrantResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  node_.write(LeaseGrantRequest{req->id(), req->ttl()},
              [this, reactor, resp](ApiResult<WriteResponse> result) {
                if (result.index() != 0) {
                  reactor->Finish(to_grpc_status(std::get<1>(result)));
                  return;
                }
                const auto& r = std::get<kv::LeaseGrantResponse>(std::get<0>(result));
                fill_header(node_.header(), r.revision, resp->mutable_header());
                resp->set_id(r.id);
                resp->set_ttl(r.ttl);
                reactor->Finish(grpc::Status::OK);
              });
  return reactor;
}

grpc::ServerUnaryReactor* LeaseService::LeaseRevoke(grpc::CallbackServerContext* ctx,
                                                    const etcdserverpb::LeaseRevokeRequest* req,
                                                    etcdserverpb::LeaseRevokeResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  node_.write(LeaseRevokeRequest{req->id()},
              [this, reactor, resp](ApiResult<WriteResponse> result) {
                if (result.index() != 0) {
                  reactor->Finish(to_grpc_status(std::get<1>(result)));
                  return;
                }
                const auto& r = std::get<LeaseRevokeResponse>(std::get<0>(result));
                fill_header(node_.header(), r.revision, resp->mutable_header());
                reactor->Finish(grpc::Status::OK);
              });
  return reactor;
}

grpc::ServerBidiReactor<LeaseKeepAliveRequest, LeaseKeepAliveResponse>*
LeaseService::LeaseKeepAlive(grpc::CallbackServerContext* ctx) {
  return new KeepAliveStream(node_, monitor_, ctx);
}

grpc::ServerUnaryReactor* LeaseService::LeaseTimeToLive(
    grpc::CallbackServerContext* ctx, const etcdserverpb::LeaseTimeToLiveRequest* req,
    etcdserverpb::LeaseTimeToLiveResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  int64_t id = req->id();
  node_.lease_time_to_live(
      id, req->keys(), [this, reactor, resp, id](ApiResult<kv::LeaseTimeToLiveResponse> result) {
        if (result.index() != 0) {
          const ApiError& e = std::get<1>(result);
          if (e.code != ApiCode::kNotFound) {
            reactor->Finish(to_grpc_status(e));
            return;
          }
          // etcd answers an unknown lease with TTL -1, not an error.
          fill_header(node_.header(), 0, resp->mutable_header());
          resp->set_id(id);
          resp->set_ttl(-1);
          reactor->Finish(grpc::Status::OK);
          return;
        }
        const auto& r = std::get<0>(result);
        fill_header(node_.header(), r.revision, resp->mutable_header());
        resp->set_id(r.id);
        resp->set_ttl(r.ttl);
        resp->set_grantedttl(r.granted_ttl);
        for (const auto& k : r.keys)
          resp->add_keys(k);
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* LeaseService::LeaseLeases(grpc::CallbackServerContext* ctx,
                                                    const etcdserverpb::LeaseLeasesRequest*,
                                                    etcdserverpb::LeaseLeasesResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  // Grants and revokes are replicated, so after a barrier the local table is the cluster's.
  node_.read_barrier([this, reactor, resp](std::optional<ApiError> error) {
    if (error) {
      reactor->Finish(to_grpc_status(*error));
      return;
    }
    reads_.post([this, reactor, resp] {
      fill_header(node_.header(), node_.store().revision(), resp->mutable_header());
      for (int64_t id : node_.store().lease_ids())
        resp->add_leases()->set_id(id);
      reactor->Finish(grpc::Status::OK);
    });
  });
  return reactor;
}

}  // namespace kvserver::services
