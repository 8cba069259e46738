#include "kvserver/server/signals.h"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>

namespace kvserver::server {
namespace {
// Sent to ourselves by the destructor to wake sigwait(); never delivered otherwise because it is
// blocked and only this class waits for it.
constexpr int kWakeSignal = SIGUSR2;
}  // namespace

SignalWatcher::SignalWatcher(std::function<void()> on_reload, std::function<void(int)> on_stop) {
  sigemptyset(&watched_);
  sigaddset(&watched_, SIGHUP);
  sigaddset(&watched_, SIGTERM);
  sigaddset(&watched_, SIGINT);
  sigaddset(&watched_, kWakeSignal);
  if (pthread_sigmask(SIG_BLOCK, &watched_, &previous_) != 0) {
    std::fprintf(stderr, "SignalWatcher: pthread_sigmask failed\n");
    std::abort();
  }
  thread_ = std::thread([this, on_reload = std::move(on_reload), on_stop = std::move(on_stop)] {
    for (;;) {
      int signo = 0;
      if (sigwait(&watched_, &signo) != 0) continue;
      if (signo == kWakeSignal) return;
      if (signo == SIGHUP) {
        on_reload();
      } else {
        on_stop(signo);
      }
    }
  });
}

SignalWatcher::~SignalWatcher() {
  pthread_kill(thread_.native_handle(), kWakeSignal);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace kvserver::server
