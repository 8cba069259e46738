// WatchService: etcd's Watch service, one bidi stream carrying many watchers, over the store's
// WatchHub (kvserver/kv/watch_hub.h).
//
// Per stream: create_request registers a hub watcher and answers {watch_id, created} (watch_id 0
// asks the server to pick; etcd's picks count up from 0 per stream); cancel_request removes it and
// answers {watch_id, canceled}; progress_request answers a header with the current revision and
// watch_id -1. Events go out in revision order, one response per hub batch (each txn's events
// together). A start revision that was compacted away gets {canceled, compact_revision} and the
// watcher ends (etcdctl then prints etcd's "required revision has been compacted").
// A watcher created with progress_notify gets, every tick of the ProgressTicker
// (progress_ticker.h), an empty response {watch_id, header.revision} saying it has seen everything
// up to that revision - unless it was sent events since the last tick, or is not synced (still
// catching up from history, or events wait for it): etcd 3.4's rules.
// A stream whose metadata says `hasleader: true` (etcdctl's watch does) is refused with Unavailable
// "etcdserver: no leader" while the member knows no leader, and ended with that error when the
// member loses its leader for a while (leader_monitor.h).
//
// Flow: the hub's notify (from the apply thread) only marks a watcher ready and, when no write is
// in flight, polls it; later batches are polled from gRPC's write-done callback. So the apply
// thread never waits for a client, and a slow client only grows the hub's bounded per-watcher
// buffer, after which the hub catches it up from history.
//
// Thread-safety: any gRPC thread.
#pragma once

#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"
#include "kvserver/server/node_api.h"
#include "kvserver/server/services/leader_monitor.h"
#include "kvserver/server/services/progress_ticker.h"

namespace kvserver::services {

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  WatchService(NodeApi& node, LeaderMonitor& monitor, ProgressTicker& ticker)
      : node_(node), monitor_(monitor), ticker_(ticker) {}

  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext* ctx) override;

 private:
  NodeApi& node_;
  LeaderMonitor& monitor_;
  ProgressTicker& ticker_;
};

}  // namespace kvserver::services
