// SignalWatcher: real signals sent to this process reach the callbacks on the watcher thread.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "kvserver/server/signals.h"
#include "tests/support/test_support.h"

using test_support::eventually;

TEST_CASE("SIGHUP calls on_reload and SIGTERM calls on_stop without killing the process",
          "[signals]") {
  std::atomic<int> reloads{0};
  std::atomic<int> stopped_by{0};
  {
    kvserver::server::SignalWatcher watcher([&] { ++reloads; },
                                            [&](int signo) { stopped_by = signo; });
    REQUIRE(kill(getpid(), SIGHUP) == 0);
    CHECK(eventually([&] { return reloads.load() == 1; }));
    REQUIRE(kill(getpid(), SIGHUP) == 0);
    CHECK(eventually([&] { return reloads.load() == 2; }));
    REQUIRE(kill(getpid(), SIGTERM) == 0);
    CHECK(eventually([&] { return stopped_by.load() == SIGTERM; }));
  }
  // The destructor restored the mask: SIGHUP is no longer blocked in this thread.
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  CHECK_FALSE(sigismember(&now, SIGHUP));
  CHECK(reloads.load() == 2);
}
