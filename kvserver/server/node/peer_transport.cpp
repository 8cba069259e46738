#include "kvserver/server/node/peer_transport.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>

#include <grpcpp/grpcpp.h>

#include "kvserver/api/raftpb/peer.grpc.pb.h"
#include "kvserver/raft/codec.h"
#include "kvserver/server/flags.h"
#include "kvserver/server/log.h"
#include "kvserver/server/node/repeat_gate.h"

namespace kvserver::node {
namespace {

constexpr auto kRedialBackoff = std::chrono::milliseconds(100);  // after frames were lost
constexpr auto kIdleRedial = std::chrono::seconds(1);  // a peer that is down, nothing to send
constexpr auto kIdleProbe = std::chrono::seconds(1);   // a quiet stream is checked this often
// A refused stream learns it within a round trip of its first write; one that has stood this
// long was not refused.
constexpr auto kRefusalSettles = std::chrono::milliseconds(500);

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

}  // namespace

// One remote member: a writer thread owning the stream, and at most one snapshot thread.
class PeerSender {
 public:
  PeerSender(uint64_t self_id, uint64_t peer_id, std::vector<std::string> urls,
             server::PeerDialCredentials* dial, const TransportCallbacks* callbacks)
      : self_id_(self_id),
        peer_id_(peer_id),
        urls_(std::move(urls)),
        dial_(dial),
        callbacks_(callbacks) {
    writer_ = std::thread([this] { write_loop(); });
  }

  ~PeerSender() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      if (ctx_) ctx_->TryCancel();
      if (snap_ctx_) snap_ctx_->TryCancel();
    }
    cv_.notify_all();
    writer_.join();
    if (snap_thread_.joinable()) snap_thread_.join();
  }

  void set_urls(std::vector<std::string> urls) {
    {
      std::lock_guard lock(mu_);
      if (urls == urls_) return;
      urls_ = std::move(urls);
      redial_ = true;
      if (ctx_) ctx_->TryCancel();  // unblocks a Write stuck on the old address
    }
    cv_.notify_all();
  }

  bool enqueue(std::string frame) {
    bool was_empty;
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= kMaxQueuedFrames) return false;
      was_empty = queue_.empty();
      queue_.push_back(std::move(frame));
    }
    // The writer sleeps only on an empty queue and takes all it finds: one wakeup per burst of
    // frames (a Ready's worth), not a futex call per frame.
    if (was_empty) cv_.notify_one();
    return true;
  }

  bool up() const { return up_since_ns_.load() != 0; }
  std::optional<std::chrono::steady_clock::time_point> up_since() const {
    const int64_t ns = up_since_ns_.load();
    if (ns == 0) return std::nullopt;
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
  }

  void send_snapshot(const raft::Message& m) {
    std::unique_lock lock(mu_);
    if (snap_busy_ || stop_) {
      lock.unlock();
      callbacks_->on_snapshot(peer_id_, false);
      return;
    }
    snap_busy_ = true;
    if (snap_thread_.joinable()) snap_thread_.join();  // the previous one has finished
    snap_thread_ = std::thread([this, m] { snapshot_once(m); });
  }

 private:
  std::shared_ptr<grpc::Channel> dial() {
    std::string target;
    {
      std::lock_guard lock(mu_);
      if (urls_.empty()) return nullptr;
      auto url = server::parse_url(urls_.front(), "peer URL");
      if (!url) return nullptr;
      target = url->host_port();
    }
    std::shared_ptr<grpc::ChannelCredentials> creds =
        dial_ ? dial_->current() : grpc::InsecureChannelCredentials();
    grpc::ChannelArguments args;
    // Notice a silent peer (no RST: host gone, partition) within seconds, not at TCP's pace: the
    // call then fails, and with it our next Write (there are no acks whose silence would tell).
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetInt(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, -1);
    // Each peer gets its own connection (not one shared by gRPC's subchannel pool), so a
    // redial after a SIGHUP really handshakes again with the new certificate.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(target, creds, args);
  }

  void write_loop() {
    std::unique_ptr<raftpb::RaftPeer::Stub> stub;
    std::unique_ptr<grpc::ClientWriter<raftpb::MessageBatch>> stream;
    raftpb::PushSummary summary;
    uint64_t seq = 0;
    raftpb::MessageBatch mb;  // the batch being sent; no messages when there is none
    bool retried = false;     // mb has already failed once, on a stream that had worked
    // Ends the stream. Finish() does not wait: the call has failed, or is cancelled here.
    auto end_stream = [&](bool cancel) {
      if (!stream) return grpc::Status::OK;
      if (cancel) {
        std::lock_guard lock(mu_);
        if (ctx_) ctx_->TryCancel();
      }
      grpc::Status st = stream->Finish();
      stream.reset();
      std::lock_guard lock(mu_);
      ctx_.reset();
      return st;
    };
    auto write = [&](raftpb::MessageBatch& batch) {
      batch.set_cluster_id(callbacks_->cluster_id());
      batch.set_from(self_id_);
      batch.set_to(peer_id_);
      batch.set_seq(++seq);
      return stream->Write(batch);
    };
    // An empty batch: the receiver takes it as a no-op.
    auto probe = [&] {
      raftpb::MessageBatch empty;
      return write(empty);
    };
    // Dials and proves the stream with a probe.
    auto open_stream = [&] {
      auto channel = dial();
      if (!channel) return false;
      stub = raftpb::RaftPeer::NewStub(channel);
      auto ctx = std::make_unique<grpc::ClientContext>();
      grpc::ClientContext* raw_ctx = ctx.get();
      {
        std::lock_guard lock(mu_);
        if (stop_) return false;
        ctx_ = std::move(ctx);
        redial_ = false;  // this stream already goes to the latest URLs
      }
      stream = stub->Push(raw_ctx, &summary);
      seq = 0;
      return probe();
    };
    // The stream is gone: the peer went away or refused us, a keepalive timed out, or we
    // cancelled (stop, new URLs). Returns whether the peer refused us.
    auto on_broken = [&] {
      grpc::Status st = end_stream(false);
      const bool refused = st.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
                           st.error_code() == grpc::StatusCode::INVALID_ARGUMENT;
      if (refused) refusing_ = true;  // before set_up: the warning below says "down" for it
      set_up(false);
      if (!refused) refusing_ = false;
      uint64_t held = 0;
      if (refused &&
          refusal_log_.pass(peer_id_, st.error_message(), RepeatGate::Clock::now(), &held)) {
        spdlog::warn("peer {:x} refused our stream: {}{}", peer_id_, st.error_message(),
                     repeat_note(held));
      }
      if (refused) {
        if (callbacks_->on_refused) callbacks_->on_refused(peer_id_, st.error_message());
      } else if (st.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
        spdlog::warn("peer {:x} has no RaftPeer.Push: it runs an older kvserver; upgrade it",
                     peer_id_);
      }
      return refused;
    };
    // Waits before the next dial. What is queued is dropped (Raft resends what still matters) and
    // reported; then kRedialBackoff, or kIdleRedial when nothing was lost (woken by new frames)
    // or when the peer refused us (that does not clear itself within milliseconds).
    auto back_off = [&](bool refused) {
      std::unique_lock lock(mu_);
      if (stop_) return;
      const bool lost = mb.messages_size() > 0 || !queue_.empty();
      mb.clear_messages();
      retried = false;
      queue_.clear();
      if (lost || refused) {
        lock.unlock();
        callbacks_->on_unreachable(peer_id_);
        lock.lock();
      }
      if (refused) {
        cv_.wait_for(lock, kIdleRedial, [&] { return stop_; });
      } else if (lost) {
        cv_.wait_for(lock, kRedialBackoff, [&] { return stop_; });
      } else {
        cv_.wait_for(lock, kIdleRedial, [&] { return stop_ || redial_ || !queue_.empty(); });
      }
    };
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (stop_) break;
      }
      if (!stream) {
        // Dialed before anything needs sending, and redialed at once when it breaks: the first
        // message after a long quiet (one follower's pre-vote to another, whose streams idle
        // while a leader lives) must not pay a TCP and TLS handshake each way, which would
        // widen the window in which two followers' campaigns collide into a split vote.
        if (!open_stream()) {
          back_off(stream ? on_broken() : false);
          continue;
        }
        set_up(true);
      }
      if (mb.messages_size() == 0) {
        std::unique_lock lock(mu_);
        const bool woken =
            cv_.wait_for(lock, kIdleProbe, [&] { return stop_ || redial_ || !queue_.empty(); });
        if (stop_) break;
        if (redial_) {
          // New URLs: the next batch goes on a fresh stream; what is queued is kept.
          redial_ = false;
          lock.unlock();
          end_stream(true);
          set_up(false);
          continue;
        }
        if (!woken) {
          // Idle: a probe finds out whether the stream still stands (a Write is how a break
          // shows), so a peer that restarted is redialed now, not when a vote needs it.
          lock.unlock();
          if (probe()) {
            stream_proven();
          } else if (on_broken()) {
            back_off(true);
          }  // else redial at once
          continue;
        }
        std::size_t bytes = 0;
        while (!queue_.empty() && mb.messages_size() < static_cast<int>(kMaxBatchFrames) &&
               bytes < kMaxBatchBytes) {
          bytes += queue_.front().size();
          mb.add_messages(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      if (write(mb)) {
        mb.clear_messages();
        retried = false;
        stream_proven();
        continue;
      }
      const bool refused = on_broken();
      if (!refused && !retried) {
        // Most often a stream that broke while idle (the peer restarted): this batch never left,
        // so it goes once more, at once, on a fresh stream rather than being lost - a candidate's
        // vote request to that peer would otherwise wait a whole election timeout.
        retried = true;
        continue;
      }
      back_off(refused);
    }
    end_stream(true);
  }

  // The writer thread only (the one writer of up_since_ns_), so test-then-set is safe.
  void set_up(bool up) {
    if (this->up() == up) return;
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
    up_since_ns_ = up ? std::max<int64_t>(now_ns, 1) : 0;  // 0 means down
    // A peer that refuses us (another cluster, a removed member) takes each redial's first
    // probe, then refuses the stream: its up and down lines would repeat every second. The
    // refusal warning (once a minute) speaks for them until a stream proves itself.
    if (refusing_) return;
    spdlog::info("peer {:x}: stream {}", peer_id_, up ? "up" : "down");
  }

  // A write went through on the current stream. Once that stream has stood for longer than a
  // refusal takes to arrive, a peer that was refusing us no longer is: say the stream is up.
  void stream_proven() {
    if (!refusing_) return;
    auto since = up_since();
    if (!since || std::chrono::steady_clock::now() - *since < kRefusalSettles) return;
    refusing_ = false;
    spdlog::info("peer {:x}: stream up (no longer refused)", peer_id_);
  }

  void snapshot_once(raft::Message m) {
    bool ok = false;
    auto channel = dial();
    if (channel) {
      auto stub = raftpb::RaftPeer::NewStub(channel);
      auto ctx = std::make_unique<grpc::ClientContext>();
      grpc::ClientContext* raw_ctx = ctx.get();
      {
        std::lock_guard lock(mu_);
        snap_ctx_ = std::move(ctx);
      }
      raftpb::SnapshotAck ack;
      auto writer = stub->Snapshot(raw_ctx, &ack);
      std::string data = std::move(m.snapshot.data);
      m.snapshot.data.clear();
      std::string header;
      raft::encode_message(m, &header);
      std::string digest = sha256(data);
      std::size_t offset = 0;
      bool wrote = true;
      do {
        raftpb::SnapshotChunk c;
        if (offset == 0) {
          c.set_cluster_id(callbacks_->cluster_id());
          c.set_from(self_id_);
          c.set_to(peer_id_);
          c.set_message(header);
          c.set_total_bytes(data.size());
        }
        std::size_t n = std::min(kSnapshotChunkBytes, data.size() - offset);
        c.set_offset(offset);
        c.set_data(data.substr(offset, n));
        offset += n;
        if (offset == data.size()) {
          c.set_last(true);
          c.set_sha256(digest);
        }
        wrote = writer->Write(c);
      } while (wrote && offset < data.size());
      writer->WritesDone();
      grpc::Status st = writer->Finish();
      ok = wrote && st.ok() && ack.error().empty() && ack.received_bytes() == data.size();
      spdlog::info("snapshot at index {} ({} bytes) to peer {:x}: {}", m.snapshot.metadata.index,
                   data.size(), peer_id_,
                   ok ? "delivered" : (st.ok() ? ack.error() : std::string(st.error_message())));
      std::lock_guard lock(mu_);
      snap_ctx_.reset();
    }
    callbacks_->on_snapshot(peer_id_, ok);
    std::lock_guard lock(mu_);
    snap_busy_ = false;
  }

  const uint64_t self_id_;
  const uint64_t peer_id_;
  // The writer thread only: the last stream was refused, and no stream since has proven itself
  // (stream_proven). Its up/down lines are left out meanwhile; the refusal warning, through
  // refusal_log_, comes once a minute with the count held back.
  bool refusing_ = false;
  RepeatGate refusal_log_{std::chrono::minutes(1)};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> urls_;
  server::PeerDialCredentials* const dial_;
  const TransportCallbacks* const callbacks_;
  std::deque<std::string> queue_;
  bool stop_ = false;
  bool redial_ = false;  // set_urls changed the address: the writer starts a fresh stream
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientContext> snap_ctx_;
  bool snap_busy_ = false;
  // Since when (steady clock, ns) the stream has been open with its last Write through; 0 while
  // it is not. up() and up_since() read it.
  std::atomic<int64_t> up_since_ns_{0};
  std::thread writer_;
  std::thread snap_thread_;
};

PeerTransport::PeerTransport(uint64_t self_id, server::PeerDialCredentials* dial,
                             TransportCallbacks callbacks)
    : self_id_(self_id), dial_(dial), callbacks_(std::move(callbacks)) {}

PeerTransport::~PeerTransport() {
  stop();
}

void PeerTransport::set_peer(uint64_t id, const std::vector<std::string>& peer_urls) {
  if (id == self_id_) return;
  std::lock_guard lock(mu_);
  if (stopped_) return;
  auto it = senders_.find(id);
  if (it != senders_.end()) {
    it->second->set_urls(peer_urls);
    return;
  }
  senders_.emplace(id, std::make_unique<PeerSender>(self_id_, id, peer_urls, dial_, &callbacks_));
}

void PeerTransport::remove_peer(uint64_t id) {
  std::unique_ptr<PeerSender> gone;
  {
    std::lock_guard lock(mu_);
    auto it = senders_.find(id);
    if (it == senders_.end()) return;
    gone = std::move(it->second);
    senders_.erase(it);
  }
  // Joined outside the lock: its threads may be calling back into our users.
}

bool PeerTransport::has_peer(uint64_t id) const {
  std::lock_guard lock(mu_);
  return senders_.count(id) > 0;
}

bool PeerTransport::stream_up(uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = senders_.find(id);
  return it != senders_.end() && it->second->up();
}

std::optional<std::chrono::steady_clock::time_point> PeerTransport::up_since(uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = senders_.find(id);
  if (it == senders_.end()) return std::nullopt;
  return it->second->up_since();
}

bool PeerTransport::send(uint64_t to, std::string frame) {
  std::lock_guard lock(mu_);
  auto it = senders_.find(to);
  if (it == senders_.end()) return false;
  return it->second->enqueue(std::move(frame));
}

void PeerTransport::send_snapshot(const raft::Message& m) {
  std::lock_guard lock(mu_);
  auto it = senders_.find(m.to);
  if (it == senders_.end()) return;
  it->second->send_snapshot(m);
}

void PeerTransport::stop() {
  std::map<uint64_t, std::unique_ptr<PeerSender>> senders;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    senders.swap(senders_);
  }
  senders.clear();
}

}  // namespace kvserver::node
