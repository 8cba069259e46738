// Watch service through real gRPC on loopback, over FakeNode (a test double for the consensus
// layer; the e2e tests use the real cluster): ordering, txn batching, cancel, compacted starts,
// history replay with filters, hasleader, progress, and many watchers on one stream.
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "kvserver/kv/types.h"
#include "tests/unit/kvserver/services/test_server.h"

using kvserver::services::testing::FakeNode;
using kvserver::services::testing::TestServer;
using Stream = grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>;

namespace {

// Every blocking read in these tests ends by this deadline at the latest (no test can hang).
void set_deadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
}

int64_t put(etcdserverpb::KV::Stub& kv, const std::string& key, const std::string& value) {
  grpc::ClientContext ctx;
  etcdserverpb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  etcdserverpb::PutResponse resp;
  REQUIRE(kv.Put(&ctx, req, &resp).ok());
  return resp.header().revision();
}

void create(Stream& s, const std::string& key, const std::string& range_end, int64_t start_rev = 0,
            int64_t watch_id = 0, bool prev_kv = false, bool no_put = false) {
  etcdserverpb::WatchRequest req;
  auto* c = req.mutable_create_request();
  c->set_key(key);
  c->set_range_end(range_end);
  c->set_start_revision(start_rev);
  c->set_watch_id(watch_id);
  c->set_prev_kv(prev_kv);
  if (no_put) c->add_filters(etcdserverpb::WatchCreateRequest::NOPUT);
  REQUIRE(s.Write(req));
}

etcdserverpb::WatchResponse read(Stream& s) {
  etcdserverpb::WatchResponse resp;
  REQUIRE(s.Read(&resp));
  return resp;
}

}  // namespace

TEST_CASE("Watch: created first, events in revision order, a txn's events in one response") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  auto watch = etcdserverpb::Watch::NewStub(server.channel());
  grpc::ClientContext ctx;
  set_deadline(ctx);
  auto s = watch->Watch(&ctx);
  create(*s, "w/", kv::prefix_end("w/"), 0, 0, /*prev_kv=*/true);
  auto created = read(*s);
  CHECK(created.created());
  CHECK(created.watch_id() == 0);  // etcd numbers a stream's watchers from 0
  CHECK(created.header().member_id() == FakeNode::kMemberId);
  CHECK(created.header().revision() == 1);

  put(*kv, "w/a", "1");
  put(*kv, "w/a", "2");
  put(*kv, "other", "x");  // outside the range: no event
  {
    grpc::ClientContext tctx;
    etcdserverpb::TxnRequest txn;
    auto* p = txn.add_success()->mutable_request_put();
    p->set_key("w/b");
    p->set_value("3");
    txn.add_success()->mutable_request_delete_range()->set_key("w/a");
    etcdserverpb::TxnResponse tresp;
    REQUIRE(kv->Txn(&tctx, txn, &tresp).ok());
    REQUIRE(tresp.header().revision() == 5);
  }
  std::vector<mvccpb::Event> events;
  std::map<int64_t, std::set<int>> responses_of_rev;  // revision -> which responses carried it
  int n = 0;
  while (events.size() < 4) {
    auto r = read(*s);
    ++n;
    CHECK(r.watch_id() == 0);
    CHECK_FALSE(r.canceled());
    for (const auto& e : r.events()) {
      events.push_back(e);
      responses_of_rev[e.kv().mod_revision()].insert(n);
    }
    CHECK(r.header().revision() == r.events(r.events_size() - 1).kv().mod_revision());
  }
  REQUIRE(events.size() == 4);
  CHECK(events[0].kv().mod_revision() == 2);
  CHECK(events[1].kv().mod_revision() == 3);
  CHECK(events[1].prev_kv().value() == "1");
  CHECK(events[2].type() == mvccpb::Event::PUT);
  CHECK(events[2].kv().key() == "w/b");
  CHECK(events[3].type() == mvccpb::Event::DELETE);
  CHECK(events[3].kv().key() == "w/a");
  CHECK(events[3].kv().mod_revision() == 5);
  CHECK(events[3].prev_kv().value() == "2");
  CHECK(responses_of_rev[5].size() == 1);  // both txn events arrived together

  // Cancel, then write the key again and start a second watcher from that write's revision: if the
  // first were still alive its event would be due before the second's.
  etcdserverpb::WatchRequest cancel;
  cancel.mutable_cancel_request()->set_watch_id(0);
  REQUIRE(s->Write(cancel));
  auto canceled = read(*s);
  CHECK(canceled.canceled());
  CHECK(canceled.watch_id() == 0);
  int64_t rev = put(*kv, "w/c", "4");
  create(*s, "w/c", "", rev);
  auto created2 = read(*s);
  CHECK(created2.created());
  CHECK(created2.watch_id() == 1);
  auto ev = read(*s);
  CHECK(ev.watch_id() == 1);
  REQUIRE(ev.events_size() == 1);
  CHECK(ev.events(0).kv().value() == "4");
  s->WritesDone();
  CHECK(s->Finish().ok());
}

TEST_CASE("Watch from a compacted revision is canceled with compact_revision and etcd's text") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  for (int i = 0; i < 4; ++i)
    put(*kv, "k", std::to_string(i));  // revisions 2..5
  {
    grpc::ClientContext ctx;
    etcdserverpb::CompactionRequest req;
    req.set_revision(4);
    etcdserverpb::CompactionResponse resp;
    REQUIRE(kv->Compact(&ctx, req, &resp).ok());
  }
  auto watch = etcdserverpb::Watch::NewStub(server.channel());
  grpc::ClientContext ctx;
  set_deadline(ctx);
  auto s = watch->Watch(&ctx);
  create(*s, "k", "", 2);
  auto created = read(*s);
  CHECK(created.created());
  auto r = read(*s);
  CHECK(r.canceled());
  CHECK(r.watch_id() == created.watch_id());
  CHECK(r.compact_revision() == 4);
  CHECK(r.cancel_reason() == "etcdserver: mvcc: required revision has been compacted");
  CHECK(r.events_size() == 0);

  // The stream itself carries on: a watcher from a retained revision replays.
  create(*s, "k", "", 4);
  auto created2 = read(*s);
  CHECK(created2.created());
  CHECK(created2.watch_id() != created.watch_id());
  auto replay = read(*s);
  REQUIRE(replay.events_size() == 2);
  CHECK(replay.events(0).kv().mod_revision() == 4);
  CHECK(replay.events(1).kv().mod_revision() == 5);
}

TEST_CASE("Watch: history replay honours the NOPUT filter, and duplicate ids are refused") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  put(*kv, "f", "1");
  {
    grpc::ClientContext ctx;
    etcdserverpb::DeleteRangeRequest req;
    req.set_key("f");
    etcdserverpb::DeleteRangeResponse resp;
    REQUIRE(kv->DeleteRange(&ctx, req, &resp).ok());
  }
  auto watch = etcdserverpb::Watch::NewStub(server.channel());
  grpc::ClientContext ctx;
  set_deadline(ctx);
  auto s = watch->Watch(&ctx);
  create(*s, "f", "", 1, /*watch_id=*/7, false, /*no_put=*/true);
  auto created = read(*s);
  CHECK(created.watch_id() == 7);
  auto r = read(*s);
  REQUIRE(r.events_size() == 1);
  CHECK(r.events(0).type() == mvccpb::Event::DELETE);
  CHECK(r.events(0).kv().mod_revision() == 3);

  create(*s, "g", "", 0, /*watch_id=*/7);
  auto dup = read(*s);
  CHECK(dup.created());
  CHECK(dup.canceled());
  CHECK(dup.watch_id() == -1);
  CHECK(dup.cancel_reason() == "mvcc: duplicate watch ID provided on the WatchStream");

  etcdserverpb::WatchRequest progress;
  progress.mutable_progress_request();
  REQUIRE(s->Write(progress));
  auto p = read(*s);
  CHECK(p.watch_id() == -1);
  CHECK(p.header().revision() == 3);
  CHECK(p.events_size() == 0);
}

TEST_CASE("Watch: a progress_notify watcher hears how far it has seen and the others do not") {
  kvserver::services::ServicesOptions options;
  options.progress_notify_interval = std::chrono::milliseconds(100);
  TestServer server(options);
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  auto watch = etcdserverpb::Watch::NewStub(server.channel());
  grpc::ClientContext ctx;
  set_deadline(ctx);
  auto s = watch->Watch(&ctx);
  create(*s, "quiet", "");  // watch id 0: no progress_notify
  REQUIRE(read(*s).created());
  etcdserverpb::WatchRequest req;
  req.mutable_create_request()->set_key("p");
  req.mutable_create_request()->set_progress_notify(true);
  REQUIRE(s->Write(req));
  auto created = read(*s);
  REQUIRE(created.created());
  const int64_t id = created.watch_id();
  REQUIRE(id == 1);

  // Nothing written yet: a tick brings {watch_id, header.revision}, no events.
  auto first = read(*s);
  CHECK(first.watch_id() == id);
  CHECK(first.events_size() == 0);
  CHECK_FALSE(first.created());
  CHECK_FALSE(first.canceled());
  CHECK(first.header().revision() == 1);

  // After events, later notifications never claim less than what the events said.
  put(*kv, "quiet", "x");  // the other watcher's key: its event, never a notification
  const int64_t rev = put(*kv, "p", "1");
  bool saw_event = false;
  int notifications_after = 0;
  while (notifications_after < 2) {
    auto r = read(*s);
    CHECK_FALSE(r.canceled());
    if (r.watch_id() == 0) {  // the quiet watcher: exactly its one event
      REQUIRE(r.events_size() == 1);
      CHECK(r.events(0).kv().key() == "quiet");
      continue;
    }
    REQUIRE(r.watch_id() == id);
    if (r.events_size() > 0) {
      CHECK(r.events(0).kv().mod_revision() == rev);
      saw_event = true;
    } else if (saw_event) {
      CHECK(r.header().revision() >= rev);
      ++notifications_after;
    } else {
      CHECK(r.header().revision() < rev);  // a tick before the put's event went out
    }
  }
  CHECK(saw_event);
}

TEST_CASE("Watch with hasleader metadata fails with etcd's no-leader error when there is none") {
  TestServer server;
  server.node().set_leader(false);
  auto watch = etcdserverpb::Watch::NewStub(server.channel());
  grpc::ClientContext ctx;
  set_deadline(ctx);
  ctx.AddMetadata("hasleader", "true");
  auto s = watch->Watch(&ctx);
  etcdserverpb::WatchResponse resp;
  CHECK_FALSE(s->Read(&resp));
  auto st = s->Finish();
  CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(st.error_message() == "etcdserver: no leader");

  // Without the metadata the stream is served (etcd's rule).
  grpc::ClientContext ctx2;
  set_deadline(ctx2);
  auto s2 = watch->Watch(&ctx2);
  create(*s2, "x", "");
  CHECK(read(*s2).created());
}

TEST_CASE("Watch: 500 watchers on one stream each get the event") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  auto watch = etcdserverpb::Watch::NewStub(server.channel());
  grpc::ClientContext ctx;
  set_deadline(ctx);
  auto s = watch->Watch(&ctx);
  constexpr int kWatchers = 500;
  for (int i = 0; i < kWatchers; ++i)
    create(*s, "hot", "");
  for (int i = 0; i < kWatchers; ++i)
    REQUIRE(read(*s).created());
  CHECK(server.node().store().watch_hub().watcher_count() == kWatchers);
  int64_t rev = put(*kv, "hot", "v");
  std::set<int64_t> got;
  while (got.size() < kWatchers) {
    auto r = read(*s);
    REQUIRE(r.events_size() == 1);
    CHECK(r.events(0).kv().mod_revision() == rev);
    CHECK(got.insert(r.watch_id()).second);
  }
  s->WritesDone();
  CHECK(s->Finish().ok());
  // Closing the stream removes its watchers from the hub (poll: OnDone runs after Finish).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.node().store().watch_hub().watcher_count() != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK(server.node().store().watch_hub().watcher_count() == 0);
}

TEST_CASE(
    "Watch and keep-alive streams with hasleader end with no-leader once the leader is lost") {
  TestServer server({.election_timeout_ms = 50});
  auto lease = etcdserverpb::Lease::NewStub(server.channel());
  int64_t lease_id = 0;
  {
    grpc::ClientContext ctx;
    etcdserverpb::LeaseGrantRequest req;
    req.set_ttl(60);
    etcdserverpb::LeaseGrantResponse resp;
    REQUIRE(lease->LeaseGrant(&ctx, req, &resp).ok());
    lease_id = resp.id();
  }
  auto watch = etcdserverpb::Watch::NewStub(server.channel());
  grpc::ClientContext wctx;
  set_deadline(wctx);
  wctx.AddMetadata("hasleader", "true");
  auto ws = watch->Watch(&wctx);
  create(*ws, "x", "");
  REQUIRE(read(*ws).created());

  grpc::ClientContext kctx;
  set_deadline(kctx);
  kctx.AddMetadata("hasleader", "true");
  auto ks = lease->LeaseKeepAlive(&kctx);
  etcdserverpb::LeaseKeepAliveRequest kreq;
  kreq.set_id(lease_id);
  REQUIRE(ks->Write(kreq));
  etcdserverpb::LeaseKeepAliveResponse kresp;
  REQUIRE(ks->Read(&kresp));
  CHECK(kresp.ttl() == 60);

  // A stream without the metadata is left alone.
  grpc::ClientContext plain_ctx;
  set_deadline(plain_ctx);
  auto plain = watch->Watch(&plain_ctx);
  create(*plain, "y", "");
  REQUIRE(read(*plain).created());

  auto lost_at = std::chrono::steady_clock::now();
  server.node().set_leader(false);
  etcdserverpb::WatchResponse wresp;
  CHECK_FALSE(ws->Read(&wresp));  // ends after 3 checks (~150 ms); the 20 s deadline bounds it
  auto wst = ws->Finish();
  CHECK(wst.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(wst.error_message() == "etcdserver: no leader");
  CHECK(std::chrono::steady_clock::now() - lost_at < std::chrono::seconds(10));
  CHECK_FALSE(ks->Read(&kresp));
  auto kst = ks->Finish();
  CHECK(kst.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(kst.error_message() == "etcdserver: no leader");

  // The plain stream still works: a progress request is answered.
  etcdserverpb::WatchRequest progress;
  progress.mutable_progress_request();
  REQUIRE(plain->Write(progress));
  CHECK(read(*plain).watch_id() == -1);
}

TEST_CASE("Watch: a client that cancels mid-flood leaves no watcher behind") {
  TestServer server;
  auto kv = etcdserverpb::KV::NewStub(server.channel());
  auto watch = etcdserverpb::Watch::NewStub(server.channel());
  auto ctx = std::make_unique<grpc::ClientContext>();
  set_deadline(*ctx);
  auto s = watch->Watch(ctx.get());
  for (int i = 0; i < 10; ++i)
    create(*s, "flood", "");
  for (int i = 0; i < 10; ++i)
    REQUIRE(read(*s).created());
  // Events pile up unread (64 KiB values fill the transport's windows), then the client goes away.
  for (int i = 0; i < 40; ++i)
    put(*kv, "flood", std::string(64 * 1024, 'f'));
  ctx->TryCancel();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.node().store().watch_hub().watcher_count() != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval
  }
  CHECK(server.node().store().watch_hub().watcher_count() == 0);
  (void)s->Finish();
  // The server still serves new streams.
  grpc::ClientContext ctx2;
  set_deadline(ctx2);
  auto s2 = watch->Watch(&ctx2);
  create(*s2, "flood", "");
  CHECK(read(*s2).created());
}
