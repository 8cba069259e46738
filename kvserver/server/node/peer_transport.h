// PeerTransport: the dialing side of the peer port. One PeerSender per remote member keeps one
// long-lived RaftPeer.Push stream (peer.proto) and pushes frames (frame.h) in order, batched (up to
// kMaxBatchFrames / kMaxBatchBytes per MessageBatch), from one thread per peer. What is in flight
// is bounded by HTTP/2 flow control (Write blocks while the receiver's window is full), the queue
// behind it by kMaxQueuedFrames: pipelined appends without unbounded buffering, and without a
// per-batch ack (and the reader thread and wakeups it cost). A snapshot message goes
// on its own RaftPeer.Snapshot client stream in kSnapshotChunkBytes chunks with a sha256 on the
// last one, so it never holds up heartbeats.
//
// Each stream is dialed when the peer is added, before anything needs sending, and kept open:
// a stream between two followers carries nothing while a leader lives, yet the first thing it
// carries is a campaign, which must not wait for TCP and TLS handshakes (that would widen the
// window in which two followers' campaigns collide and split the vote). A quiet stream is probed
// with an empty batch every kIdleProbe, so a break shows and is redialed while nothing waits.
//
// Failures are reported, never retried message by message: Raft resends what matters. When a
// stream breaks (peer down, TLS refused, cluster mismatch) the queued frames are dropped,
// on_unreachable(peer) is called, and the sender redials after a short backoff. With no acks, a
// break is seen by the next Write failing (gRPC fails the call on a reset, on the receiver ending
// it, and on a keepalive timeout for a silent peer), the idle probe's included. A batch whose
// Write failed on a stream that had worked (most often one that broke while idle) is tried once
// more on a fresh stream. The receiver's refusal (FAILED_PRECONDITION or INVALID_ARGUMENT, from
// Finish()) also goes to on_refused(peer, reason). A full queue drops the new frame (and reports
// unreachable). A snapshot's outcome goes to on_snapshot(peer, ok). A refusing peer is redialed
// every second but logged once a minute (repeat_gate.h), without an up/down pair per redial, until
// a stream to it stands again ("stream up (no longer refused)"). up_since() feeds
// --strict-reconfig-check (reconfig_check.h).
//
// Channels are dialed with PeerDialCredentials::current() at (re)connect time, so a SIGHUP reload
// applies to the next connection. On loopback the kernel sources connections from 127.0.0.1; gRPC
// 1.51 has no channel argument to bind a local address, which matters only to a peer that checks
// client-cert IPs against the source (etcd does, we do not): see ETCD-FACTS "Loopback gotcha".
//
// Thread-safety: all public methods are thread-safe. Callbacks run on the senders' threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kvserver/raft/message.h"
#include "kvserver/server/tls.h"

namespace kvserver::node {

constexpr std::size_t kMaxBatchFrames = 256;
constexpr std::size_t kMaxBatchBytes = 1 << 20;
constexpr std::size_t kMaxQueuedFrames = 8192;
constexpr std::size_t kSnapshotChunkBytes = 1 << 20;

struct TransportCallbacks {
  std::function<void(uint64_t peer)> on_unreachable;
  std::function<void(uint64_t peer, bool delivered)> on_snapshot;
  std::function<uint64_t()> cluster_id;  // stamped on every batch
  std::function<void(uint64_t peer, const std::string& reason)> on_refused;  // optional
};

class PeerSender;

class PeerTransport {
 public:
  // `dial` may be null: then peers are dialed without TLS (http:// peer URLs).
  PeerTransport(uint64_t self_id, server::PeerDialCredentials* dial, TransportCallbacks callbacks);
  ~PeerTransport();
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Adds the peer or changes its URLs (the stream is redialed on change).
  void set_peer(uint64_t id, const std::vector<std::string>& peer_urls);
  void remove_peer(uint64_t id);
  bool has_peer(uint64_t id) const;
  // Whether the stream to `id` is open and its last write went through. Streams are dialed as
  // soon as a peer is known and kept open while idle (an empty batch probes a quiet one every
  // second), so the first message after a long quiet does not wait for a handshake.
  bool stream_up(uint64_t id) const;
  // Since when the stream to `id` has been up (as stream_up says); nullopt while it is down or
  // `id` is unknown. --strict-reconfig-check counts a peer as connected after 5 s of this.
  std::optional<std::chrono::steady_clock::time_point> up_since(uint64_t id) const;

  // Queues one encoded frame for `to`; false (and nothing sent) if `to` is unknown or its queue is
  // full.
  bool send(uint64_t to, std::string frame);
  // Sends a kSnap message on the snapshot stream (one at a time per peer; a second while one is in
  // flight fails at once with on_snapshot(to, false)).
  void send_snapshot(const raft::Message& m);

  // Stops every sender (joins their threads). Idempotent.
  void stop();

 private:
  const uint64_t self_id_;
  server::PeerDialCredentials* const dial_;
  const TransportCallbacks callbacks_;
  mutable std::mutex mu_;
  std::map<uint64_t, std::unique_ptr<PeerSender>> senders_;
  bool stopped_ = false;
};

}  // namespace kvserver::node
