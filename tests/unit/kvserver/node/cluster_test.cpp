// Three real Node objects in one process, talking over real gRPC peer ports on loopback (no TLS:
// the TLS layer has its own tests and the e2e script runs the whole thing with mTLS). Checks the
// node loop end to end through NodeApi: election, a write proposed on a follower (forwarded to
// the leader), a linearizable read on another member, leader loss and re-election, a restarted
// member catching up through a snapshot, membership changes, leader transfer.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "kvserver/server/node/node.h"
#include "tests/support/test_support.h"
#include "tests/unit/kvserver/server/captured_log.h"

using namespace kvserver;
using namespace std::chrono_literals;
using test_support::eventually;

namespace {

struct TestMember {
  server::ServerConfig config;
  std::unique_ptr<node::Node> node;
  std::unique_ptr<grpc::Server> peer_server;

  void start() {
    node::NodeOptions o;
    o.config = config;
    auto n = node::Node::open(o);
    REQUIRE(n.ok());
    node = std::move(*n);
    grpc::ServerBuilder b;
    b.AddListeningPort(config.listen_peer.front().host_port(), grpc::InsecureServerCredentials());
    b.RegisterService(node->peer_service());
    b.SetMaxReceiveMessageSize(-1);
    peer_server = b.BuildAndStart();
    REQUIRE(peer_server);
    node->start();
  }
  void stop() {
    if (!node) return;
    node->stop();
    peer_server->Shutdown(std::chrono::system_clock::now() + 1s);
    peer_server.reset();
    node.reset();
  }
  ~TestMember() { stop(); }
};

struct Cluster {
  std::filesystem::path dir;
  std::vector<std::unique_ptr<TestMember>> members;
  std::string initial_cluster;

  int heartbeat_ms = 20;
  int election_ms = 200;

  explicit Cluster(int n, uint64_t snapshot_count = 10000, int heartbeat = 20, int election = 200)
      : heartbeat_ms(heartbeat), election_ms(election) {
    dir = std::filesystem::temp_directory_path() /
          ("node-cluster-" + std::to_string(::getpid()) + "-" +
           std::to_string(test_support::free_tcp_port()));
    std::filesystem::create_directories(dir);
    std::vector<int> ports;
    for (int i = 0; i < n; ++i)
      ports.push_back(test_support::free_tcp_port());
    for (int i = 0; i < n; ++i) {
      initial_cluster += (i ? "," : "") + std::string("m") + std::to_string(i) +
                         "=http://127.0.0.1:" + std::to_string(ports[i]);
    }
    for (int i = 0; i < n; ++i) {
      members.push_back(make("m" + std::to_string(i), ports[i], "new", snapshot_count));
    }
  }
  std::unique_ptr<TestMember> make(const std::string& name, int port, const std::string& state,
                                   uint64_t snapshot_count) {
    auto m = std::make_unique<TestMember>();
    auto& c = m->config;
    c.name = name;
    c.data_dir = (dir / name).string();
    std::filesystem::create_directories(c.data_dir);
    std::string client = "http://127.0.0.1:" + std::to_string(test_support::free_tcp_port());
    std::string peer = "http://127.0.0.1:" + std::to_string(port);
    c.listen_client_urls = c.advertise_client_urls = {client};
    c.listen_peer_urls = c.initial_advertise_peer_urls = {peer};
    c.initial_cluster = initial_cluster;
    c.initial_cluster_state = state;
    c.initial_cluster_token = "unit";
    c.heartbeat_interval_ms = heartbeat_ms;
    c.election_timeout_ms = election_ms;
    c.snapshot_count = snapshot_count;
    REQUIRE(server::validate_config(c).ok());
    return m;
  }
  void start_all() {
    for (auto& m : members)
      m->start();
  }
  // Waits until every member is ready (READY=1) and one of them leads.
  bool all_ready_with_leader() {
    return eventually([&] {
      for (auto& m : members)
        if (!m->node->is_ready()) return false;
      return leader() != nullptr;
    });
  }
  TestMember* leader() {
    for (auto& m : members) {
      if (m->node && m->node->leader() == m->node->id()) return m.get();
    }
    return nullptr;
  }
  TestMember* follower() {
    for (auto& m : members) {
      if (m->node && m->node->leader() != 0 && m->node->leader() != m->node->id()) return m.get();
    }
    return nullptr;
  }
  ~Cluster() {
    members.clear();
    std::filesystem::remove_all(dir);
  }
};

ApiResult<WriteResponse> put(NodeApi& n, std::string k, std::string v) {
  std::promise<ApiResult<WriteResponse>> p;
  auto f = p.get_future();
  kv::PutRequest req;
  req.key = std::move(k);
  req.value = std::move(v);
  n.write(req, [&p](ApiResult<WriteResponse> r) { p.set_value(std::move(r)); });
  REQUIRE(f.wait_for(15s) == std::future_status::ready);
  return f.get();
}

std::optional<ApiError> barrier(NodeApi& n) {
  std::promise<std::optional<ApiError>> p;
  auto f = p.get_future();
  n.read_barrier([&p](std::optional<ApiError> e) { p.set_value(e); });
  REQUIRE(f.wait_for(15s) == std::future_status::ready);
  return f.get();
}

std::string get(NodeApi& n, const std::string& k) {
  kv::RangeRequest r;
  r.key = k;
  auto res = n.store().range(r);
  REQUIRE(res.ok());
  return res->kvs.empty() ? "" : res->kvs[0].value;
}

template <typename T>
ApiResult<T> call(std::function<void(NodeApi::Done<T>)> f) {
  std::promise<ApiResult<T>> p;
  auto fut = p.get_future();
  f([&p](ApiResult<T> r) { p.set_value(std::move(r)); });
  REQUIRE(fut.wait_for(15s) == std::future_status::ready);
  return fut.get();
}

// The index of the newest snapshot file in a member's data dir (0: none). Written atomically (temp
// name, then rename), so a listed *.snap file is complete.
uint64_t newest_snapshot_index(const std::string& data_dir) {
  uint64_t newest = 0;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(data_dir + "/snap", ec)) {
    const std::string name = f.path().filename().string();
    if (f.path().extension() != ".snap" || name.size() != 38) continue;  // term-index.snap, hex
    newest = std::max<uint64_t>(newest, std::stoull(name.substr(17, 16), nullptr, 16));
  }
  return newest;
}

}  // namespace

TEST_CASE("a snapshot waits for --snapshot-count entries and for the log to outgrow the last one",
          "[cluster]") {
  Cluster c(1, /*snapshot_count=*/10);
  c.start_all();
  TestMember& m = *c.members[0];
  REQUIRE(eventually([&] { return m.node->is_ready(); }));
  const std::string kib(1024, 'v');
  for (int i = 0; i < 10; ++i)
    REQUIRE(put(*m.node, "big" + std::to_string(i), kib).index() == 0);
  REQUIRE(eventually([&] { return newest_snapshot_index(m.config.data_dir) > 0; }));
  const uint64_t first = newest_snapshot_index(m.config.data_dir);
  // 100 small entries: ten times --snapshot-count, but about 3 KB of log against a snapshot of
  // over 10 KB, so none of them is worth rewriting the store for...
  for (int i = 0; i < 100; ++i)
    REQUIRE(put(*m.node, "small" + std::to_string(i), "s").index() == 0);
  CHECK(newest_snapshot_index(m.config.data_dir) == first);
  // ...until one entry takes the log past the snapshot's size: the next snapshot is at that
  // entry. (Every 10 entries, the newest snapshot would be 10 or fewer entries behind it, and
  // none would follow it, one entry after.)
  REQUIRE(put(*m.node, "huge", std::string(64 * 1024, 'h')).index() == 0);
  REQUIRE_FALSE(barrier(*m.node));  // the put's answer may precede its applied index's update
  const uint64_t huge_index = m.node->status().raft_applied_index;
  CHECK(huge_index > first + 100);
  CHECK(eventually([&] { return newest_snapshot_index(m.config.data_dir) == huge_index; }));
}

TEST_CASE("three members elect one leader and replicate a follower's write", "[cluster]") {
  Cluster c(3);
  c.start_all();
  REQUIRE(eventually([&] { return c.leader() != nullptr; }));
  REQUIRE(eventually([&] {
    for (auto& m : c.members)
      if (!m->node->is_ready()) return false;
    return c.follower() != nullptr;
  }));
  // Everyone agrees on the leader and the cluster id.
  uint64_t lead = c.leader()->node->id();
  for (auto& m : c.members) {
    CHECK(m->node->leader() == lead);
    CHECK(m->node->header().cluster_id == c.members[0]->node->header().cluster_id);
  }
  TestMember* f = c.follower();
  REQUIRE(f);
  auto r = put(*f->node, "k1", "v1");
  REQUIRE(r.index() == 0);
  int64_t rev = std::get<kv::PutResponse>(std::get<0>(r)).revision;
  CHECK(rev >= 2);
  for (auto& m : c.members) {
    CHECK_FALSE(barrier(*m->node));
    CHECK(get(*m->node, "k1") == "v1");
  }
  // Members publish their names and client URLs through the log.
  REQUIRE(eventually([&] {
    for (const auto& m : c.leader()->node->members())
      if (m.client_urls.empty()) return false;
    return true;
  }));
  auto st = c.leader()->node->status();
  CHECK(st.leader == lead);
  CHECK(st.raft_applied_index <= st.raft_index);
  CHECK(st.raft_index > 3);
}

TEST_CASE(
    "a follower learns a write's commit within milliseconds, from the leader's commit notice, "
    "not from the next heartbeat",
    "[cluster]") {
  // One heartbeat every 500 ms: a follower that waited for it would lag up to that. The leader
  // tells followers a commit that no append carried about a millisecond after it (Node's
  // maybe_notify_commit); each write below is then seen on every follower well within 200 ms.
  // Without that notice each write passes only if a heartbeat happens to fall in its 200 ms
  // (2 in 5), all 15 of them about once in a million runs.
  Cluster c(3, 10000, 500, 2500);
  c.start_all();
  REQUIRE(c.all_ready_with_leader());
  TestMember* leader = c.leader();
  for (int i = 0; i < 15; ++i) {
    const std::string key = "notice" + std::to_string(i);
    REQUIRE(put(*leader->node, key, "v").index() == 0);
    for (auto& m : c.members) {
      INFO("write " << i << ", member " << m->config.name);
      CHECK(eventually([&] { return get(*m->node, key) == "v"; }, 200ms));
    }
  }
}

TEST_CASE("an apply that outlasts the heartbeat interval is logged with its entry and request",
          "[cluster]") {
  // The loop that applies entries also sends and answers heartbeats: an operator must be able to
  // see which request held it up (etcd logs "apply request took too long"). With 2 ms heartbeats,
  // deleting 50k keys in one request outlasts one on every member.
  server::testing::CapturedLog log;
  {
    Cluster c(3, 10000, 2, 200);
    c.start_all();
    REQUIRE(c.all_ready_with_leader());
    TestMember* leader = c.leader();
    for (int t = 0; t < 400; ++t) {
      kv::TxnRequest txn;
      for (int i = 0; i < 125; ++i) {
        kv::PutRequest p;
        p.key = "bulk/" + std::to_string(t * 125 + i);
        p.value = "v";
        txn.success.push_back(kv::RequestOp{p});
      }
      REQUIRE(call<WriteResponse>([&](auto done) { leader->node->write(txn, done); }).index() == 0);
    }
    kv::DeleteRangeRequest del;
    del.key = "bulk/";
    del.range_end = "bulk0";  // the prefix's end: '/' + 1
    auto r = call<WriteResponse>([&](auto done) { leader->node->write(del, done); });
    REQUIRE(r.index() == 0);
    CHECK(std::get<kv::DeleteRangeResponse>(std::get<0>(r)).deleted == 50000);
    for (auto& m : c.members)
      m->stop();  // nothing logs while the log is read
  }
  const std::string text = log.out.str();
  INFO(text.substr(0, 4000));
  CHECK(text.find("(delete) took") != std::string::npos);
  CHECK(text.find("longer than the heartbeat interval (2 ms)") != std::string::npos);
}

namespace {

// A write through `via` whose answer - run on that member's loop, inside its apply, as every
// answer is - holds the loop for `busy`: an apply that long, as far as Raft can tell. The future
// says whether the write succeeded.
std::future<bool> write_holding_the_loop(TestMember& via, std::chrono::milliseconds busy) {
  auto done = std::make_shared<std::promise<bool>>();
  auto f = done->get_future();
  kv::PutRequest req;
  req.key = "busy";
  req.value = "x";
  via.node->write(req, [done, busy](ApiResult<WriteResponse> r) {
    std::this_thread::sleep_for(busy);  // the long apply being simulated, not synchronisation
    done->set_value(r.index() == 0);
  });
  return f;
}

}  // namespace

TEST_CASE(
    "a follower busy applying for five election timeouts is vouched for: the leader keeps its "
    "leadership",
    "[cluster]") {
  // The third member is stopped, so the leader's quorum is the busy follower: without BusyWatch it
  // hears nothing for an election timeout and steps down (check quorum).
  Cluster c(3);
  c.start_all();
  REQUIRE(c.all_ready_with_leader());
  TestMember* leader = c.leader();
  TestMember* busy = nullptr;
  for (auto& m : c.members) {
    if (m.get() == leader) continue;
    if (busy == nullptr) {
      busy = m.get();
    } else {
      m->stop();
    }
  }
  const uint64_t term = leader->node->status().raft_term;
  auto applied = write_holding_the_loop(*busy, 5 * 200ms);
  REQUIRE(applied.wait_for(15s) == std::future_status::ready);
  CHECK(applied.get());
  CHECK(leader->node->leader() == leader->node->id());
  CHECK(leader->node->status().raft_term == term);
  REQUIRE_FALSE(barrier(*leader->node));  // and it still leads: a read round needs the follower
}

TEST_CASE(
    "a leader busy applying for five election timeouts is vouched for: its followers do not "
    "campaign",
    "[cluster]") {
  Cluster c(3);
  c.start_all();
  REQUIRE(c.all_ready_with_leader());
  TestMember* leader = c.leader();
  const uint64_t term = leader->node->status().raft_term;
  auto applied = write_holding_the_loop(*leader, 5 * 200ms);
  REQUIRE(applied.wait_for(15s) == std::future_status::ready);
  CHECK(applied.get());
  for (auto& m : c.members) {
    CHECK(m->node->status().raft_term == term);
    CHECK(m->node->leader() == leader->node->id());
  }
  REQUIRE_FALSE(barrier(*leader->node));
}

TEST_CASE("a stopping leader hands over to a live voter, and does not wait for a stopped one",
          "[cluster]") {
  constexpr int kElectionMs = 2000;
  Cluster c(3, 10000, 50, kElectionMs);
  c.start_all();
  REQUIRE(c.all_ready_with_leader());
  REQUIRE(put(*c.leader()->node, "k", "v").index() == 0);

  // Handed over: a successor leads well before an election timeout could pass.
  TestMember* first = c.leader();
  const uint64_t first_id = first->node->id();
  first->stop();
  REQUIRE(eventually(
      [&] {
        TestMember* l = c.leader();
        return l != nullptr && l->node->id() != first_id;
      },
      std::chrono::milliseconds(kElectionMs / 2)));

  // The last follower is stopped first; the last leader must not wait for it to take over. It has
  // not heard from it for about a second (20 heartbeats), so it leaves at once. It used to hand
  // over to it anyway and wait until check-quorum made it step down, an election timeout later.
  TestMember* last = c.leader();
  REQUIRE(last != nullptr);
  REQUIRE(c.follower() != nullptr);
  c.follower()->stop();  // returns after its peer server's 1 s shutdown grace: long silent
  const auto start = std::chrono::steady_clock::now();
  last->stop();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  CHECK(took.count() < kElectionMs / 2);
}

TEST_CASE("losing the leader elects another - a restarted member catches up by snapshot",
          "[cluster]") {
  Cluster c(3, /*snapshot_count=*/20);
  c.start_all();
  REQUIRE(eventually([&] { return c.leader() != nullptr; }));
  TestMember* old = c.leader();
  uint64_t old_id = old->node->id();
  old->stop();
  REQUIRE(eventually(
      [&] {
        TestMember* l = c.leader();
        return l != nullptr && l->node->id() != old_id;
      },
      3s));  // 2 election timeouts plus slack for the pre-vote round
  TestMember* l = c.leader();
  for (int i = 0; i < 100; ++i)
    REQUIRE(put(*l->node, "key" + std::to_string(i), "x").index() == 0);
  old->start();
  REQUIRE(eventually([&] { return old->node->is_ready(); }));
  REQUIRE_FALSE(barrier(*old->node));
  CHECK(get(*old->node, "key99") == "x");
  CHECK(old->node->store().revision() == l->node->store().revision());
}

TEST_CASE("membership: learner added - joins - is promoted - removed - leader moves", "[cluster]") {
  Cluster c(3);
  const auto started = std::chrono::steady_clock::now();
  c.start_all();
  REQUIRE(eventually([&] { return c.leader() != nullptr && c.follower() != nullptr; }));
  TestMember* f = c.follower();
  REQUIRE(f);
  int port = test_support::free_tcp_port();
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto add = [&] {
    return call<MemberChangeResult>([&](auto done) { f->node->member_add({url}, true, done); });
  };
  ApiResult<MemberChangeResult> added = add();
  // --strict-reconfig-check (on by default): until every voter's stream has been up for 5 s,
  // etcd's "unhealthy cluster"; the same request goes through once they have.
  if (std::chrono::steady_clock::now() - started < 4s) {
    REQUIRE(added.index() == 1);
    CHECK(std::get<1>(added).code == ApiCode::kUnavailable);
    CHECK(std::get<1>(added).message == "etcdserver: unhealthy cluster");
  }
  REQUIRE(eventually(
      [&] {
        if (added.index() == 0) return true;
        added = add();
        return false;
      },
      15s));
  REQUIRE(added.index() == 0);
  auto& res = std::get<0>(added);
  CHECK(res.member.is_learner);
  CHECK(res.members.size() == 4);
  // A second learner is refused while one exists (etcd 3.4).
  auto second = call<MemberChangeResult>(
      [&](auto done) { f->node->member_add({"http://127.0.0.1:1"}, true, done); });
  CHECK(second.index() == 1);

  c.initial_cluster += ",m3=" + url;
  c.members.push_back(c.make("m3", port, "existing", 10000));
  TestMember* joiner = c.members.back().get();
  joiner->start();
  CHECK(joiner->node->id() == res.member.id);
  REQUIRE(eventually([&] { return joiner->node->is_ready(); }));
  REQUIRE_FALSE(barrier(*joiner->node));
  REQUIRE(eventually([&] {
    auto p = call<MemberChangeResult>(
        [&](auto done) { c.leader()->node->member_promote(res.member.id, done); });
    return p.index() == 0;
  }));
  REQUIRE(eventually([&] {
    return !c.leader()->node->status().is_learner && !joiner->node->status().is_learner;
  }));

  // Leader transfer to the new voter.
  std::promise<std::optional<ApiError>> moved;
  auto moved_f = moved.get_future();
  c.leader()->node->move_leader(joiner->node->id(),
                                [&](std::optional<ApiError> e) { moved.set_value(e); });
  REQUIRE(moved_f.wait_for(15s) == std::future_status::ready);
  CHECK_FALSE(moved_f.get());
  REQUIRE(eventually([&] { return c.leader() == joiner; }));

  // Removing a member: it stops taking part and the rest keep writing.
  TestMember* gone = c.members[0].get() == joiner ? c.members[1].get() : c.members[0].get();
  uint64_t gone_id = gone->node->id();
  // A leader elected a moment ago refuses membership changes until its first entry is applied
  // (etcd's rule); that answer says to retry, and so does a client.
  ApiResult<MemberChangeResult> removed;
  // So does --strict-reconfig-check while the joiner's streams are younger than 5 s.
  REQUIRE(eventually(
      [&] {
        removed = call<MemberChangeResult>(
            [&](auto done) { joiner->node->member_remove(gone_id, done); });
        if (removed.index() == 0) return true;
        const std::string& why = std::get<1>(removed).message;
        return why.find("still being applied; retry") == std::string::npos &&
               why != "etcdserver: unhealthy cluster";
      },
      15s));
  REQUIRE(removed.index() == 0);
  CHECK(std::get<0>(removed).members.size() == 3);
  REQUIRE(eventually([&] { return gone->node->removed(); }));
  gone->stop();
  CHECK(put(*joiner->node, "after-remove", "y").index() == 0);
  auto unknown =
      call<MemberChangeResult>([&](auto done) { joiner->node->member_remove(gone_id, done); });
  REQUIRE(unknown.index() == 1);
  CHECK(std::get<1>(unknown).message == "etcdserver: member not found");
}

TEST_CASE("without a quorum requests fail with etcd's errors instead of hanging", "[cluster]") {
  Cluster c(3);
  c.members[0]->start();  // the other two never start: no leader can be elected
  NodeApi& n = *c.members[0]->node;
  auto r = put(n, "k", "v");
  REQUIRE(r.index() == 1);
  CHECK(std::get<1>(r).message == "etcdserver: no leader");
  CHECK(std::get<1>(r).code == ApiCode::kUnavailable);
  auto e = barrier(n);
  REQUIRE(e);
  CHECK(e->message == "etcdserver: no leader");
  // Size is checked before anything is proposed.
  auto big = put(n, "big", std::string(c.members[0]->config.max_request_bytes + 1, 'x'));
  REQUIRE(big.index() == 1);
  CHECK(std::get<1>(big).message == "etcdserver: request is too large");
  CHECK_FALSE(c.members[0]->node->is_ready());
  CHECK(n.status().leader == 0);
}

TEST_CASE("member update changes a member's peer URLs on every member", "[cluster]") {
  Cluster c(3);
  c.start_all();
  REQUIRE(eventually([&] { return c.leader() != nullptr && c.follower() != nullptr; }));
  TestMember* f = c.follower();
  uint64_t target = f->node->id();
  std::string url = "http://127.0.0.1:" + std::to_string(test_support::free_tcp_port());
  auto r =
      call<MemberChangeResult>([&](auto done) { f->node->member_update(target, {url}, done); });
  REQUIRE(r.index() == 0);
  CHECK(std::get<0>(r).member.peer_urls == std::vector<std::string>{url});
  REQUIRE(eventually([&] {
    for (auto& m : c.members) {
      bool seen = false;
      for (const auto& mm : m->node->members())
        seen = seen || (mm.id == target && mm.peer_urls.front() == url);
      if (!seen) return false;
    }
    return true;
  }));
  // Another member's URL is refused.
  auto clash = call<MemberChangeResult>([&](auto done) {
    f->node->member_update(target, c.members[0]->node->members().front().peer_urls, done);
  });
  if (c.members[0]->node->members().front().id != target) {
    REQUIRE(clash.index() == 1);
    CHECK(std::get<1>(clash).message == "etcdserver: Peer URLs already exists");
  }
}
