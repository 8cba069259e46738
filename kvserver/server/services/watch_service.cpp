#include "kvserver/server/services/watch_service.h"

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "kvserver/server/services/api_errors.h"
#include "kvserver/server/services/convert.h"

namespace kvserver::services {

namespace {

using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

// etcd's clientv3.InvalidWatchID: a response tied to no watcher (progress, failed create).
constexpr int64_t kNoWatchId = -1;

bool requires_leader(const grpc::CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("hasleader");
  return it != md.end() && it->second == "true";
}

class WatchStream final : public grpc::ServerBidiReactor<WatchRequest, WatchResponse> {
 public:
  WatchStream(NodeApi& node, LeaderMonitor& monitor, ProgressTicker& ticker,
              grpc::CallbackServerContext* ctx)
      : node_(node),
        monitor_(monitor),
        ticker_(ticker),
        hub_(node.store().watch_hub()),
        ctx_(ctx),
        guard_(std::make_shared<Guard>()) {
    guard_->stream = this;
    if (requires_leader(ctx)) {
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
    if (!ok) {  // the client closed its side, or the call is gone
      std::lock_guard lk(guard_->mu);
      finish_locked(grpc::Status::OK);
      return;
    }
    switch (in_.request_union_case()) {
      case WatchRequest::kCreateRequest:
        create(in_.create_request());
        break;
      case WatchRequest::kCancelRequest:
        cancel(in_.cancel_request().watch_id());
        break;
      case WatchRequest::kProgressRequest:
        progress();
        break;
      default:
        break;  // etcd ignores an empty request
    }
    {
      std::lock_guard lk(guard_->mu);
      if (finished_ || finish_pending_) return;
    }
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lk(guard_->mu);
    writing_ = false;
    if (!ok) {
      finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "watch stream write failed"));
      return;
    }
    pump_locked();
  }

  void OnDone() override {
    if (monitor_token_ != 0) monitor_.remove(monitor_token_);
    std::vector<kv::WatchId> hub_ids;
    {
      std::lock_guard lk(guard_->mu);
      guard_->stream = nullptr;  // late notifies and ticks now find nothing
      if (ticker_token_ != 0) ticker_.remove(ticker_token_);
      for (const auto& [cid, hid] : by_client_)
        hub_ids.push_back(hid);
    }
    for (auto id : hub_ids)
      hub_.cancel(id);
    delete this;
  }

 private:
  // Outlives the stream: the hub's notify callbacks hold it, and can run after cancel().
  struct Guard {
    std::mutex mu;  // guards the stream's state below as well
    WatchStream* stream = nullptr;
  };

  void create(const etcdserverpb::WatchCreateRequest& req) {
    kv::WatchRequest wreq = from_proto(req);
    int64_t cid = 0;
    {
      std::lock_guard lk(guard_->mu);
      if (finished_) return;
      if (requires_leader(ctx_) && node_.status().leader == 0) {
        finish_locked(to_grpc_status(no_leader()));
        return;
      }
      WatchResponse resp;
      fill_header(node_.header(), node_.store().revision(), resp.mutable_header());
      resp.set_created(true);
      if (req.watch_id() != 0) {
        cid = req.watch_id();
        if (by_client_.count(cid) != 0 || cid < 0) {
          resp.set_watch_id(kNoWatchId);
          resp.set_canceled(true);
          resp.set_cancel_reason("mvcc: duplicate watch ID provided on the WatchStream");
          enqueue_locked(std::move(resp));
          return;
        }
      } else {
        while (by_client_.count(next_id_) != 0)
          ++next_id_;
        cid = next_id_++;
      }
      by_client_[cid] = 0;  // reserved; the hub id follows below
      if (req.progress_notify()) want_progress_locked(cid);
      resp.set_watch_id(cid);
      enqueue_locked(std::move(resp));  // queued before any event can be, so "created" comes first
    }
    // Outside our lock: watch() may call notify on this thread.
    std::weak_ptr<Guard> weak = guard_;
    kv::WatchId hid = hub_.watch(wreq, [weak](kv::WatchId id) {
      auto g = weak.lock();
      if (!g) return;
      std::lock_guard lk(g->mu);
      if (g->stream != nullptr) g->stream->on_ready_locked(id);
    });
    std::lock_guard lk(guard_->mu);
    by_client_[cid] = hid;
    by_hub_[hid] = cid;
    // A notify that came before by_hub_ knew hid was dropped: poll once for it now.
    on_ready_locked(hid);
  }

  void cancel(int64_t cid) {
    kv::WatchId hid = 0;
    {
      std::lock_guard lk(guard_->mu);
      auto it = by_client_.find(cid);
      if (it == by_client_.end()) return;  // etcd ignores an unknown id
      hid = it->second;
      by_client_.erase(it);
      by_hub_.erase(hid);
      quiet_.erase(cid);
      ready_set_.erase(hid);
      WatchResponse resp;
      fill_header(node_.header(), node_.store().revision(), resp.mutable_header());
      resp.set_watch_id(cid);
      resp.set_canceled(true);
      enqueue_locked(std::move(resp));
    }
    hub_.cancel(hid);
  }

  void progress() {
    std::lock_guard lk(guard_->mu);
    WatchResponse resp;
    fill_header(node_.header(), node_.store().revision(), resp.mutable_header());
    resp.set_watch_id(kNoWatchId);
    enqueue_locked(std::move(resp));
  }

  // etcd's sws.progress: progress_notify watchers, each with whether no events went to it since
  // the last tick. The stream joins the ticker with its first such watcher.
  void want_progress_locked(int64_t cid) {
    quiet_[cid] = true;
    if (ticker_token_ != 0) return;
    std::weak_ptr<Guard> weak = guard_;
    ticker_token_ = ticker_.add([weak] {
      auto g = weak.lock();
      if (!g) return;
      std::lock_guard lk(g->mu);
      if (g->stream != nullptr) g->stream->on_tick_locked();
    });
  }

  void on_tick_locked() {
    if (finished_ || finish_pending_) return;
    for (auto& [cid, quiet] : quiet_) {
      auto it = by_client_.find(cid);
      if (quiet && it != by_client_.end() && it->second != 0) {
        if (std::optional<int64_t> rev = hub_.progress(it->second)) {
          WatchResponse resp;
          fill_header(node_.header(), *rev, resp.mutable_header());
          resp.set_watch_id(cid);
          out_.push_back(std::move(resp));
        }
      }
      quiet = true;
    }
    pump_locked();
  }

  void on_ready_locked(kv::WatchId hid) {
    if (ready_set_.insert(hid).second) ready_.push_back(hid);
    pump_locked();
  }

  void enqueue_locked(WatchResponse resp) {
    out_.push_back(std::move(resp));
    pump_locked();
  }

  // Starts the next write if none is in flight: queued control responses first, then one batch
  // from the next ready watcher (round robin, so one busy watcher cannot starve the others).
  void pump_locked() {
    if (writing_ || finished_) return;
    if (finish_pending_) {
      finished_ = true;
      Finish(finish_status_);
      return;
    }
    while (out_.empty() && !ready_.empty()) {
      kv::WatchId hid = ready_.front();
      ready_.pop_front();
      auto m = by_hub_.find(hid);
      if (m == by_hub_.end()) {  // cancelled, or not registered yet (create() re-adds it)
        ready_set_.erase(hid);
        continue;
      }
      std::optional<kv::WatchResponse> batch = hub_.poll(hid);
      if (!batch) {
        ready_set_.erase(hid);
        continue;
      }
      WatchResponse resp;
      resp.set_watch_id(m->second);
      fill_header(node_.header(), batch->revision, resp.mutable_header());
      for (const auto& e : batch->events)
        to_proto(e, resp.add_events());
      if (auto q = quiet_.find(m->second); q != quiet_.end()) q->second = false;
      if (batch->canceled) {
        resp.set_canceled(true);
        resp.set_compact_revision(batch->compact_revision);
        resp.set_cancel_reason(kv::etcd_error(kv::ErrorCode::kCompacted).message());
        quiet_.erase(m->second);
        by_client_.erase(m->second);
        by_hub_.erase(m);
        ready_set_.erase(hid);
      } else {
        ready_.push_back(hid);  // it may have more; poll it again after the others
      }
      out_.push_back(std::move(resp));
    }
    if (out_.empty()) return;
    current_ = std::move(out_.front());
    out_.pop_front();
    writing_ = true;
    StartWrite(&current_);
  }

  // Finishes once no write is in flight (gRPC allows one outstanding write); nothing more is sent.
  // The first status wins, except that an error replaces a clean close still waiting.
  void finish_locked(grpc::Status status) {
    if (finished_) return;
    if (!finish_pending_ || (finish_status_.ok() && !status.ok())) {
      finish_pending_ = true;
      finish_status_ = std::move(status);
    }
    out_.clear();
    ready_.clear();
    ready_set_.clear();
    pump_locked();
  }

  NodeApi& node_;
  LeaderMonitor& monitor_;
  uint64_t monitor_token_ = 0;  // set in the constructor only
  ProgressTicker& ticker_;
  kv::WatchHub& hub_;
  grpc::CallbackServerContext* const ctx_;
  std::shared_ptr<Guard> guard_;
  WatchRequest in_;  // only the read path touches it, one read at a time

  // Guarded by guard_->mu.
  std::map<int64_t, kv::WatchId> by_client_;  // client watch id -> hub id (0 while registering)
  std::unordered_map<kv::WatchId, int64_t> by_hub_;
  std::deque<kv::WatchId> ready_;
  std::unordered_set<kv::WatchId> ready_set_;
  std::map<int64_t, bool> quiet_;  // client watch id -> no events sent since the last tick
  uint64_t ticker_token_ = 0;      // set with the first progress_notify watcher
  std::deque<WatchResponse> out_;
  WatchResponse current_;  // the write in flight
  int64_t next_id_ = 0;    // etcd assigns ids from 0 per stream
  bool writing_ = false;
  bool finished_ = false;
  bool finish_pending_ = false;
  grpc::Status finish_status_;
};

}  // namespace

grpc::ServerBidiReactor<WatchRequest, WatchResponse>* WatchService::Watch(
    grpc::CallbackServerContext* ctx) {
  return new WatchStream(node_, monitor_, ticker_, ctx);
}

}  // namespace kvserver::services
