// ProgressTicker: the clock behind etcd's watch progress notifications. A watch created with
// progress_notify gets, every --experimental-watch-progress-notify-interval (etcd 3.4.11's flag,
// default 10 minutes), an empty response whose header revision says how far it has seen - unless
// events went to it since the last tick (watch_service.cpp). One thread wakes every interval and
// runs each registered stream's tick; streams register when they create such a watcher and
// unregister when done. Ticks run on that thread, outside the ticker's lock, and must not block.
//
// Thread-safety: add()/remove() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace kvserver::services {

class ProgressTicker {
 public:
  explicit ProgressTicker(std::chrono::milliseconds interval);
  ~ProgressTicker();
  ProgressTicker(const ProgressTicker&) = delete;
  ProgressTicker& operator=(const ProgressTicker&) = delete;

  // Registers a stream's tick; returns a token for remove(). A tick may still run once just
  // after remove() returns: the callback must cope with a stream that is gone.
  uint64_t add(std::function<void()> tick);
  void remove(uint64_t token);

 private:
  void loop();

  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, std::function<void()>> ticks_;
  uint64_t next_token_ = 1;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace kvserver::services
