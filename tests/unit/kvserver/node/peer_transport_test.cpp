// PeerTransport -> PeerService over a real loopback gRPC port (no TLS). The stream carries no
// per-batch acks, so these pin down what the acks used to give: frames arrive in order, a
// refusal (a removed member) reaches on_refused with its text (logged once, not each redial),
// and a stream that broke (the receiver went away) is reported and redialed, after which frames
// flow again. Streams are dialed before anything is sent and kept up while idle.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "kvserver/server/node/peer_service.h"
#include "kvserver/server/node/peer_transport.h"
#include "tests/support/test_support.h"
#include "tests/unit/kvserver/server/captured_log.h"

using namespace kvserver;
using namespace std::chrono_literals;
using test_support::eventually;

namespace {

constexpr uint64_t kSender = 0x1;
constexpr uint64_t kReceiver = 0x2;
constexpr uint64_t kClusterId = 0xc1;

std::string heartbeat(uint64_t term) {
  raft::Message m;
  m.type = raft::MessageType::kHeartbeat;
  m.from = kSender;
  m.to = kReceiver;
  m.term = term;
  return node::encode_frame(node::Frame(m));
}

// The receiving member: a PeerService on a port, recording the terms of the heartbeats it got.
struct Receiver {
  std::string address;
  std::atomic<bool> sender_removed{false};
  std::mutex mu;
  std::vector<uint64_t> terms;  // guarded by mu
  std::atomic<int> calls{0};
  node::PeerService service{node::PeerServiceCallbacks{
      [] { return kReceiver; }, [] { return kClusterId; },
      [this](uint64_t /*from*/, std::vector<node::Frame> frames) {
        calls++;
        std::lock_guard lock(mu);
        for (auto& f : frames)
          terms.push_back(std::get<raft::Message>(f).term);
      },
      [this](uint64_t member) { return member == kSender && sender_removed.load(); }, nullptr}};
  std::unique_ptr<grpc::Server> server;

  explicit Receiver(int port) : address("127.0.0.1:" + std::to_string(port)) {}
  void start() {
    grpc::ServerBuilder b;
    b.AddListeningPort(address, grpc::InsecureServerCredentials());
    b.RegisterService(&service);
    server = b.BuildAndStart();
    REQUIRE(server);
  }
  void stop() {
    server->Shutdown(std::chrono::system_clock::now() + 1s);
    server.reset();
  }
  std::size_t received() {
    std::lock_guard lock(mu);
    return terms.size();
  }
};

// The sending member's transport, with its callbacks counted.
struct Sender {
  std::atomic<int> unreachable{0};
  std::mutex mu;
  std::vector<std::string> refusals;  // guarded by mu
  node::PeerTransport transport{
      kSender, nullptr,
      node::TransportCallbacks{[this](uint64_t) { unreachable++; }, [](uint64_t, bool) {},
                               [] { return kClusterId; },
                               [this](uint64_t, const std::string& reason) {
                                 std::lock_guard lock(mu);
                                 refusals.push_back(reason);
                               }}};
  void dial(const Receiver& rx) { transport.set_peer(kReceiver, {"http://" + rx.address}); }
  bool refused_with(const std::string& text) {
    std::lock_guard lock(mu);
    for (const auto& r : refusals)
      if (r == text) return true;
    return false;
  }
};

}  // namespace

TEST_CASE("peer transport delivers frames in order, batched", "[peer]") {
  Receiver rx(test_support::free_tcp_port());
  rx.start();
  Sender tx;
  tx.dial(rx);
  constexpr uint64_t kFrames = 2000;
  for (uint64_t t = 1; t <= kFrames; ++t)
    REQUIRE(tx.transport.send(kReceiver, heartbeat(t)));
  REQUIRE(eventually([&] { return rx.received() == kFrames; }));
  std::lock_guard lock(rx.mu);
  for (uint64_t i = 0; i < kFrames; ++i)
    REQUIRE(rx.terms[i] == i + 1);
  CHECK(rx.calls.load() <= static_cast<int>(kFrames));
  CHECK(tx.unreachable.load() == 0);
  tx.transport.stop();
  rx.stop();
}

TEST_CASE(
    "a frame of a kind this version does not know is skipped - a malformed one ends the stream",
    "[peer]") {
  Receiver rx(test_support::free_tcp_port());
  rx.start();
  Sender tx;
  tx.dial(rx);
  REQUIRE(tx.transport.send(kReceiver, heartbeat(1)));
  REQUIRE(tx.transport.send(kReceiver, "z a newer member's frame"));
  REQUIRE(tx.transport.send(kReceiver, heartbeat(2)));
  REQUIRE(eventually([&] { return rx.received() == 2; }));
  CHECK(tx.unreachable.load() == 0);

  std::string truncated = heartbeat(3);
  truncated.pop_back();
  REQUIRE(tx.transport.send(kReceiver, truncated));
  CHECK(eventually([&] { return tx.refused_with("malformed frame"); }));
  CHECK(rx.received() == 2);
  tx.transport.stop();
  rx.stop();
}

TEST_CASE("a removed member's stream is refused and it is told why once in the log", "[peer]") {
  server::testing::CapturedLog log;
  Receiver rx(test_support::free_tcp_port());
  rx.sender_removed = true;
  rx.start();
  Sender tx;
  tx.dial(rx);
  // Like a removed member's campaigns: it keeps sending until it learns.
  uint64_t term = 0;
  REQUIRE(eventually([&] {
    tx.transport.send(kReceiver, heartbeat(++term));
    return tx.refused_with(node::kRemovedMemberError);
  }));
  CHECK(rx.received() == 0);
  CHECK(tx.unreachable.load() >= 1);

  // It redials about once a second and is refused each time; the log says so once (a minute).
  auto refusals = [&] {
    std::lock_guard lock(tx.mu);
    return tx.refusals.size();
  };
  REQUIRE(eventually([&] {
    tx.transport.send(kReceiver, heartbeat(++term));
    return refusals() >= 3;
  }));
  auto count = [&](const std::string& part) {
    const std::string text = log.out.str();
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
      ++n;
    return n;
  };
  CHECK(count("refused our stream") == 1);
  CHECK(count("refusing raft stream from") == 1);
  CHECK(count("stream down") == 0);
  CHECK(count("stream up") == 1);  // the first, before anyone knew
  // Re-admitted: frames flow, and the log says the stream is up again, once.
  rx.sender_removed = false;
  REQUIRE(eventually([&] {
    tx.transport.send(kReceiver, heartbeat(++term));
    return rx.received() > 0 && count("stream up (no longer refused)") == 1;
  }));
  tx.transport.stop();
  rx.stop();
}

TEST_CASE("a broken peer stream is reported and redialed", "[peer]") {
  Receiver rx(test_support::free_tcp_port());
  rx.start();
  Sender tx;
  tx.dial(rx);
  REQUIRE(tx.transport.send(kReceiver, heartbeat(1)));
  REQUIRE(eventually([&] { return rx.received() == 1; }));

  rx.stop();  // the receiver goes away (a restart): the idle stream breaks
  uint64_t term = 1;
  REQUIRE(eventually([&] {
    tx.transport.send(kReceiver, heartbeat(++term));
    return tx.unreachable.load() >= 1;
  }));

  rx.start();  // back on the same port: the sender redials and frames flow again
  const std::size_t before = rx.received();
  REQUIRE(eventually([&] {
    tx.transport.send(kReceiver, heartbeat(++term));
    return rx.received() > before;
  }));
  tx.transport.stop();
  rx.stop();
}

TEST_CASE("a stream that broke while idle loses nothing when the peer is back at once", "[peer]") {
  Receiver rx(test_support::free_tcp_port());
  rx.start();
  Sender tx;
  tx.dial(rx);
  REQUIRE(tx.transport.send(kReceiver, heartbeat(1)));
  REQUIRE(tx.transport.send(kReceiver, heartbeat(2)));
  REQUIRE(eventually([&] { return rx.received() == 2; }));
  rx.stop();
  rx.start();  // restarted before the sender wrote again
  // Time passes before the next frame (a heartbeat interval), long enough for gRPC to have seen
  // the old connection close. That frame finds the old stream dead; it is sent once more on a
  // fresh stream rather than dropped (a vote request would otherwise wait an election timeout).
  std::this_thread::sleep_for(200ms);
  REQUIRE(tx.transport.send(kReceiver, heartbeat(3)));
  REQUIRE(eventually([&] { return rx.received() == 3; }));
  std::lock_guard lock(rx.mu);
  CHECK(rx.terms.back() == 3);
  tx.transport.stop();
  rx.stop();
}

TEST_CASE("a peer stream is up before anything is sent, and comes back by itself after a restart",
          "[peer]") {
  Receiver rx(test_support::free_tcp_port());
  rx.start();
  Sender tx;
  tx.dial(rx);
  // Nothing sent: the stream is dialed anyway (a follower's first campaign must not handshake).
  REQUIRE(eventually([&] { return tx.transport.stream_up(kReceiver); }));
  CHECK(rx.calls.load() == 0);  // the probes that keep it up reach nobody above the service

  rx.stop();  // the receiver restarts while the stream is idle: the probe notices the break
  REQUIRE(eventually([&] { return !tx.transport.stream_up(kReceiver); }, 10s));
  rx.start();
  REQUIRE(eventually([&] { return tx.transport.stream_up(kReceiver); }, 10s));
  CHECK(tx.unreachable.load() == 0);  // nothing was lost, so nothing is reported
  REQUIRE(tx.transport.send(kReceiver, heartbeat(7)));
  REQUIRE(eventually([&] { return rx.received() == 1; }));
  tx.transport.stop();
  rx.stop();
}
