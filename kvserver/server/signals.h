// Signal handling for kvserver: SIGHUP = reload TLS files now, SIGTERM/SIGINT = stop.
//
// Contract: construct a SignalWatcher in main() BEFORE any other thread exists (gRPC creates its
// own): the constructor blocks SIGHUP/SIGTERM/SIGINT in the calling thread, every thread created
// afterwards inherits the mask, and one watcher thread receives them with sigwait(). Handlers thus
// run on an ordinary thread and may lock, log and allocate (unlike async signal handlers).
// The destructor stops the watcher thread and restores the previous mask.
//
// Thread-safety: callbacks run on the watcher thread, one at a time.
#pragma once

#include <csignal>
#include <functional>
#include <thread>

namespace kvserver::server {

class SignalWatcher {
 public:
  SignalWatcher(std::function<void()> on_reload, std::function<void(int signo)> on_stop);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  sigset_t watched_{};
  sigset_t previous_{};
  std::thread thread_;
};

}  // namespace kvserver::server
