// ProposalRegistry: each waiting caller is answered exactly once, by apply or by its deadline.
#include <catch2/catch.hpp>

#include "kvserver/server/node/proposal_registry.h"

using kvserver::node::Outcome;
using kvserver::node::ProposalRegistry;

TEST_CASE("take hands a callback out once - unknown ids give nothing", "[registry]") {
  ProposalRegistry r(100);
  int calls = 0;
  uint64_t id = r.add([&](Outcome) { ++calls; }, 1000);
  CHECK(id == 100);
  CHECK(r.size() == 1);
  auto cb = r.take(id);
  REQUIRE(cb);
  (*cb)(Outcome{});
  CHECK(calls == 1);
  CHECK_FALSE(r.take(id));
  CHECK_FALSE(r.take(999));
  CHECK(r.size() == 0);
}

TEST_CASE("expire returns exactly the callbacks past their deadline", "[registry]") {
  ProposalRegistry r(1);
  uint64_t early = r.add([](Outcome) {}, 100);
  uint64_t late = r.add([](Outcome) {}, 200);
  CHECK(r.expire(99).empty());
  CHECK(r.expire(100).size() == 1);
  CHECK_FALSE(r.take(early));  // already handed out by expire
  CHECK(r.size() == 1);
  CHECK(r.take(late));
  CHECK(r.expire(1000).empty());
}

TEST_CASE("ids are unique - never 0 - and random-seeded registries differ", "[registry]") {
  ProposalRegistry wrap(~uint64_t{0});
  uint64_t a = wrap.add([](Outcome) {}, 0);
  uint64_t b = wrap.add([](Outcome) {}, 0);
  CHECK(a == ~uint64_t{0});
  CHECK(b != 0);
  CHECK(a != b);
  ProposalRegistry x, y;
  CHECK(x.add([](Outcome) {}, 0) != y.add([](Outcome) {}, 0));
  CHECK(wrap.take_all().size() == 2);
  CHECK(wrap.size() == 0);
}
