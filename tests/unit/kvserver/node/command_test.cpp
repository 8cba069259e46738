// Round trips of the node's durable and wire encodings: commands (WAL entries), frames (peer
// stream), membership and state images (snapshots), and that malformed input is refused.
#include <catch2/catch.hpp>

#include "kvserver/raft/codec.h"
#include "kvserver/server/node/command.h"
#include "kvserver/server/node/frame.h"
#include "kvserver/server/node/membership.h"
#include "kvserver/server/node/state_image.h"

using namespace kvserver;
using namespace kvserver::node;

namespace {

kv::TxnRequest nested_txn() {
  kv::TxnRequest inner;
  inner.success.push_back({kv::DeleteRangeRequest{"a", "b", true}});
  kv::TxnRequest t;
  kv::Compare c;
  c.result = kv::CompareResult::kGreater;
  c.target = kv::CompareTarget::kMod;
  c.key = "k";
  c.mod_revision = 7;
  t.compare.push_back(c);
  kv::RangeRequest r;
  r.key = "x";
  r.range_end = "y";
  r.limit = 3;
  r.sort_order = kv::SortOrder::kDescend;
  r.sort_target = kv::SortTarget::kValue;
  r.keys_only = true;
  r.max_create_revision = 9;
  t.success.push_back({r});
  // In place: a braced RequestOp{PutRequest} here draws a false -Wmaybe-uninitialized from GCC 12
  // (about the TxnRequest alternative's vectors) depending on what else the file inlines.
  t.success.emplace_back().request.emplace<kv::PutRequest>(
      kv::PutRequest{"p", "v", 5, true, false, false});
  t.failure.push_back({inner});
  return t;
}

}  // namespace

TEST_CASE("every write request survives encode/decode", "[command]") {
  std::vector<WriteRequest> writes = {
      kv::PutRequest{"key", std::string("v\0al", 4), 42, true, false, true},
      kv::DeleteRangeRequest{"a", "z", true},
      nested_txn(),
      CompactRequest{99, true},
      LeaseGrantRequest{-1, 60},
      LeaseRevokeRequest{123456789},
  };
  for (const auto& w : writes) {
    Command c;
    c.kind = CommandKind::kWrite;
    c.request_id = 0xdeadbeefcafeull;
    c.origin = 77;
    c.write = w;
    auto back = decode_command(encode_command(c));
    REQUIRE(back);
    CHECK(back->request_id == c.request_id);
    CHECK(back->origin == 77);
    REQUIRE(back->write.index() == w.index());
    // Re-encoding the decoded value gives the same bytes: nothing was lost or reordered.
    CHECK(encode_command(*back) == encode_command(c));
  }
  auto txn =
      decode_command(encode_command(Command{CommandKind::kWrite, 1, 2, nested_txn(), 0, {}, 0}));
  REQUIRE(txn);
  const auto& t = std::get<kv::TxnRequest>(txn->write);
  CHECK(t.compare.at(0).mod_revision == 7);
  CHECK(std::get<kv::RangeRequest>(t.success.at(0).request).sort_target == kv::SortTarget::kValue);
  CHECK(std::get<kv::PutRequest>(t.success.at(1).request).lease == 5);
  CHECK(std::get<kv::DeleteRangeRequest>(
            std::get<kv::TxnRequest>(t.failure.at(0).request).success.at(0).request)
            .range_end == "b");
}

TEST_CASE("membership commands carry the member and the cluster id", "[command]") {
  Command c;
  c.kind = CommandKind::kMemberAdd;
  c.member = Member{5, "n5", {"https://10.0.0.5:2380"}, {"https://10.0.0.5:2379"}, true};
  c.cluster_id = 0x1234;
  auto back = decode_command(encode_command(c));
  REQUIRE(back);
  CHECK(back->kind == CommandKind::kMemberAdd);
  CHECK(back->member.name == "n5");
  CHECK(back->member.peer_urls == c.member.peer_urls);
  CHECK(back->member.client_urls == c.member.client_urls);
  CHECK(back->member.is_learner);
  CHECK(back->cluster_id == 0x1234);
}

TEST_CASE("malformed commands are refused - never crash", "[command]") {
  Command c;
  c.write = nested_txn();
  std::string good = encode_command(c);
  CHECK_FALSE(decode_command(""));
  CHECK_FALSE(decode_command("xyz"));
  CHECK_FALSE(decode_command(good + "x"));  // trailing bytes
  for (std::size_t n = 0; n < good.size(); ++n)
    CHECK_FALSE(decode_command(good.substr(0, n)));
}

TEST_CASE("frames: raft messages - forwards, rejects and alive vouches round-trip", "[frame]") {
  raft::Message m;
  m.type = raft::MessageType::kApp;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  m.entries.push_back(raft::Entry{3, 10, raft::EntryType::kNormal, "data"});
  auto f = decode_frame(encode_frame(Frame(m)));
  REQUIRE(f);
  CHECK(std::get<raft::Message>(*f) == m);

  auto fw = decode_frame(encode_frame(Frame(Forward{true, 9, "cc"})));
  REQUIRE(fw);
  CHECK(std::get<Forward>(*fw).conf_change);
  CHECK(std::get<Forward>(*fw).request_id == 9);
  CHECK(std::get<Forward>(*fw).data == "cc");

  auto rj = decode_frame(encode_frame(Frame(Reject{4, no_leader()})));
  REQUIRE(rj);
  CHECK(std::get<Reject>(*rj).error.message == "etcdserver: no leader");
  CHECK(std::get<Reject>(*rj).error.code == ApiCode::kUnavailable);

  auto alive = decode_frame(encode_frame(Frame(Alive{7})));
  REQUIRE(alive);
  CHECK(std::get<Alive>(*alive).term == 7);
  std::string alive_enc = encode_frame(Frame(Alive{7}));
  CHECK_FALSE(decode_frame(alive_enc + "x"));
  CHECK_FALSE(decode_frame(alive_enc.substr(0, alive_enc.size() - 1)));

  CHECK(known_frame_tag(alive_enc));
  CHECK_FALSE(known_frame_tag("q123"));  // a newer member's: skipped, not refused
  CHECK_FALSE(known_frame_tag(""));

  CHECK_FALSE(decode_frame(""));
  CHECK_FALSE(decode_frame("q123"));
  std::string enc = encode_frame(Frame(m));
  CHECK_FALSE(decode_frame(enc.substr(0, enc.size() - 1)));
}

TEST_CASE("membership and state images round-trip - a damaged image is refused", "[image]") {
  Membership ms;
  ms.set_cluster_id(99);
  ms.upsert(Member{1, "a", {"https://a:2380"}, {"https://a:2379"}, false});
  ms.upsert(Member{2, "", {"https://b:2380"}, {}, true});
  Membership back;
  REQUIRE(back.decode(ms.encode()));
  CHECK(back.cluster_id() == 99);
  CHECK(back.members().size() == 2);
  CHECK(back.find(2)->is_learner);
  CHECK(back.find_by_peer_url("https://a:2380")->id == 1);
  CHECK(back.learner_count() == 1);

  Image img{12, 3, encode_state({ms.encode(), "kvbytes"})};
  std::string file = encode_image(img);
  auto got = decode_image(file);
  REQUIRE(got);
  CHECK(got->index == 12);
  CHECK(got->term == 3);
  auto parts = decode_state(got->state);
  REQUIRE(parts);
  CHECK(parts->kv == "kvbytes");
  CHECK(decode_image(file + std::string(100, '\0')));  // zero padding is allowed
  std::string flipped = file;
  flipped[10] ^= 1;
  CHECK_FALSE(decode_image(flipped));
  CHECK_FALSE(decode_image(file + "x"));
}
