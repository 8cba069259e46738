// LeaderMonitor: etcd's rule for streams opened with the metadata `hasleader: true` (etcdctl's
// watch and keep-alive set it): when this member has known no leader for 3 election timeouts in a
// row, such streams are ended with Unavailable "etcdserver: no leader", so clients reconnect to a
// member that is part of a working cluster instead of waiting on a partitioned one. (New streams
// are refused at once; existing ones get that grace, as reconnecting costs more - etcd's choice.)
//
// One thread checks NodeApi::status() every election timeout; streams register a cancel callback
// and unregister when done. Cancel callbacks run on that thread, outside the monitor's lock, and
// must not block.
//
// Thread-safety: add()/remove() from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "kvserver/server/node_api.h"

namespace kvserver::services {

class LeaderMonitor {
 public:
  static constexpr int kMaxNoLeaderChecks = 3;  // etcd's maxNoLeaderCnt

  LeaderMonitor(NodeApi& node, int64_t election_timeout_ms);
  ~LeaderMonitor();
  LeaderMonitor(const LeaderMonitor&) = delete;
  LeaderMonitor& operator=(const LeaderMonitor&) = delete;

  // Registers a stream's cancel; returns a token for remove().
  uint64_t add(std::function<void()> cancel);
  void remove(uint64_t token);

 private:
  void loop();

  NodeApi& node_;
  const int64_t election_timeout_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, std::function<void()>> streams_;
  uint64_t next_token_ = 1;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace kvserver::services
