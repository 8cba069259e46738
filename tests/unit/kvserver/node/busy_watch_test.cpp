// BusyWatch: vouches only while a job runs past the interval, and stops at the limit. Time is
// real (the watch thread sleeps on the steady clock); the test waits on its rounds, not on sleeps.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>

#include "kvserver/server/node/busy_watch.h"
#include "tests/support/test_support.h"

using namespace std::chrono_literals;
using kvserver::node::BusyWatch;
using test_support::eventually;

namespace {

// Waits until the watch thread has woken `n` more times.
bool rounds_pass(const BusyWatch& w, uint64_t n) {
  const uint64_t target = w.rounds() + n;
  return eventually([&] { return w.rounds() >= target; });
}

}  // namespace

TEST_CASE("busy watch: vouches while a job outlasts the interval, never while idle", "[busy]") {
  std::atomic<int> vouches{0};
  BusyWatch w(5ms, 10s, [&] { ++vouches; });
  w.start();
  REQUIRE(rounds_pass(w, 10));
  CHECK(vouches.load() == 0);  // idle

  {
    BusyWatch::Scope job(w);
    {
      BusyWatch::Scope nested(w);  // part of the same job
    }
    REQUIRE(eventually([&] { return vouches.load() >= 3; }));
  }
  REQUIRE(rounds_pass(w, 1));  // a round that began inside the job may still vouch
  const int after = vouches.load();
  REQUIRE(rounds_pass(w, 10));
  CHECK(vouches.load() == after);
  w.stop();
}

TEST_CASE("busy watch: a short job is not vouched for - a job past the limit no longer is",
          "[busy]") {
  std::atomic<int> vouches{0};
  BusyWatch w(20ms, 100ms, [&] { ++vouches; });
  w.start();
  {
    BusyWatch::Scope job(w);  // over long before the interval: nothing to vouch for
  }
  REQUIRE(rounds_pass(w, 3));
  CHECK(vouches.load() == 0);

  BusyWatch::Scope stuck(w);
  const auto began = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return std::chrono::steady_clock::now() - began > 150ms; }));
  REQUIRE(rounds_pass(w, 1));
  const int at_limit = vouches.load();
  CHECK(at_limit >= 1);  // about one per interval between 20 and 100 ms
  REQUIRE(rounds_pass(w, 5));
  CHECK(vouches.load() == at_limit);
  w.stop();
}
