// codec.h: round trips, the byte layout, and rejection of malformed input.
#include "kvserver/raft/codec.h"

#include <catch2/catch.hpp>

using namespace raft;

namespace {

Message full_message() {
  Message m;
  m.type = MessageType::kSnap;
  m.from = 0x0102030405060708ull;
  m.to = 2;
  m.term = 7;
  m.log_term = 6;
  m.index = 99;
  m.entries = {Entry{6, 100, EntryType::kNormal, "hello"},
               Entry{7, 101, EntryType::kConfChange, std::string("\0\1\2", 3)}};
  m.commit = 98;
  m.reject = true;
  m.reject_hint = 42;
  m.snapshot.metadata = {90, 5, ConfState{{1, 2, 3}, {4}}};
  m.snapshot.data = std::string(1000, 'x');
  m.context = "ctx";
  return m;
}

}  // namespace

TEST_CASE("codec: a message round-trips with every field", "[raft][codec]") {
  Message m = full_message();
  std::string buf;
  encode_message(m, &buf);
  Message out;
  std::size_t used = 0;
  REQUIRE(decode_message(buf, &out, &used));
  CHECK(used == buf.size());
  CHECK(out == m);
}

TEST_CASE("codec: records are length-prefixed and little-endian, and concatenate into a stream",
          "[raft][codec]") {
  std::string buf;
  encode_hard_state(HardState{0x0102, 3, 4}, &buf);
  REQUIRE(buf.size() == 4 + 24);
  CHECK(buf.substr(0, 4) == std::string("\x18\0\0\0", 4));  // body length 24
  CHECK(buf.substr(4, 8) == std::string("\x02\x01\0\0\0\0\0\0", 8));
  ConfChange cc{ConfChangeType::kRemoveNode, 5, "peer"};
  encode_conf_change(cc, &buf);
  HardState hs;
  ConfChange cc2;
  std::size_t a = 0, b = 0;
  REQUIRE(decode_hard_state(buf, &hs, &a));
  REQUIRE(decode_conf_change(std::string_view(buf).substr(a), &cc2, &b));
  CHECK(hs == HardState{0x0102, 3, 4});
  CHECK(cc2 == cc);
  CHECK(a + b == buf.size());
}

TEST_CASE("codec: entries, snapshots and conf changes round-trip", "[raft][codec]") {
  Entry e{3, 4, EntryType::kConfChange, "data"};
  std::string buf;
  encode_entry(e, &buf);
  Entry e2;
  std::size_t used = 0;
  REQUIRE(decode_entry(buf, &e2, &used));
  CHECK(e2 == e);
  Snapshot s = full_message().snapshot;
  buf.clear();
  encode_snapshot(s, &buf);
  Snapshot s2;
  REQUIRE(decode_snapshot(buf, &s2, &used));
  CHECK(s2 == s);
  ConfChange cc{ConfChangeType::kAddLearner, 9, ""};
  ConfChange cc2;
  REQUIRE(decode_conf_change(encode_conf_change(cc), &cc2));
  CHECK(cc2 == cc);
}

TEST_CASE("codec: every truncation of a valid record is rejected", "[raft][codec]") {
  std::string buf;
  encode_message(full_message(), &buf);
  for (std::size_t n = 0; n < buf.size(); ++n) {
    Message out;
    std::size_t used = 0;
    INFO("prefix length " << n);
    CHECK_FALSE(decode_message(std::string_view(buf).substr(0, n), &out, &used));
  }
}

TEST_CASE("codec: corrupt type, counts and lengths are rejected without a crash", "[raft][codec]") {
  std::string good;
  encode_message(full_message(), &good);
  Message out;
  std::size_t used = 0;
  std::string bad = good;
  bad[5] = 99;  // message type
  CHECK_FALSE(decode_message(bad, &out, &used));
  bad = good;
  bad[4] = 2;  // version
  CHECK_FALSE(decode_message(bad, &out, &used));
  // The entry count (after 1+1+8*6+1+8 body bytes) claims 4 billion entries.
  bad = good;
  for (int i = 0; i < 4; ++i)
    bad[4 + 59 + i] = '\xff';
  CHECK_FALSE(decode_message(bad, &out, &used));
  // A frame longer than the buffer, and trailing bytes inside a frame.
  bad = good;
  bad[0] = static_cast<char>(bad[0] + 1);
  CHECK_FALSE(decode_message(bad, &out, &used));
  std::string cc = encode_conf_change(ConfChange{ConfChangeType::kAddVoter, 1, ""});
  ConfChange c;
  CHECK_FALSE(decode_conf_change(cc + "x", &c));
  cc[5] = 7;  // unknown change type
  CHECK_FALSE(decode_conf_change(cc, &c));
}
