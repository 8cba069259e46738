// RepeatGate: the first line passes, a changed text passes at once, an unchanged one at most once
// per interval carrying the count of those held back, and keys do not affect each other.
#include <catch2/catch.hpp>

#include <chrono>

#include "kvserver/server/node/repeat_gate.h"

using kvserver::node::repeat_note;
using kvserver::node::RepeatGate;
using namespace std::chrono_literals;

TEST_CASE("RepeatGate holds back repeats within the interval and counts them", "[repeat_gate]") {
  RepeatGate gate(60s);
  const RepeatGate::Clock::time_point t0{};
  uint64_t held = 99;
  REQUIRE(gate.pass(1, "refused", t0, &held));
  CHECK(held == 0);
  CHECK_FALSE(gate.pass(1, "refused", t0 + 1s, &held));
  CHECK_FALSE(gate.pass(1, "refused", t0 + 59s, &held));
  REQUIRE(gate.pass(1, "refused", t0 + 60s, &held));
  CHECK(held == 2);
  CHECK_FALSE(gate.pass(1, "refused", t0 + 61s, &held));
}

TEST_CASE("RepeatGate lets a changed text through at once, keyed separately", "[repeat_gate]") {
  RepeatGate gate(60s);
  const RepeatGate::Clock::time_point t0{};
  uint64_t held = 0;
  REQUIRE(gate.pass(1, "a", t0, &held));
  CHECK_FALSE(gate.pass(1, "a", t0 + 1s, &held));
  REQUIRE(gate.pass(1, "b", t0 + 2s, &held));
  CHECK(held == 0);                            // the held-back "a" is not counted against "b"
  REQUIRE(gate.pass(2, "b", t0 + 3s, &held));  // another key has its own history
  CHECK(held == 0);
  CHECK_FALSE(gate.pass(2, "b", t0 + 4s, &held));
}

TEST_CASE("repeat_note says how many were held back", "[repeat_gate]") {
  CHECK(repeat_note(0).empty());
  CHECK(repeat_note(12) == " (12 more since the last such line)");
}
