// EtcdServices: kvserver's etcd v3 client API (KV, Watch, Lease, Cluster, Maintenance, Auth) over
// a NodeApi (node_api.h), wire-compatible with etcd 3.4 so the real etcdctl works unchanged.
//
// Use:
//   kvserver::services::EtcdServices services(node, {.max_request_bytes =
//   flags.max_request_bytes}); services.register_with(builder);   // before builder.BuildAndStart()
//   ... server->Shutdown(deadline); then destroy `services` (it must outlive the grpc::Server).
// Give Shutdown a deadline (e.g. now + 1 s): watch and keep-alive streams never end on their own,
// and Shutdown() without one waits for them forever.
//
// All services use gRPC's callback API (reactors): a unary call that waits for Raft (a write, a
// linearizable read) holds no thread while it waits - NodeApi's callback finishes it - and a watch
// or lease keep-alive stream costs a small object, not a thread. Callbacks from the node run on its
// threads and only queue work (never block the apply thread).
//
// Behaviour contract (etcd 3.4, ETCD-FACTS.md): every response header carries cluster_id,
// member_id, revision and raft_term; errors carry etcd's gRPC code and exact text (api_errors.h);
// Put/DeleteRange/Txn over max_request_bytes fail with InvalidArgument "etcdserver: request is too
// large"; Auth.Authenticate answers FailedPrecondition "etcdserver: authentication is not enabled"
// and the other Auth RPCs are absent (Unimplemented).
//
// Maintenance.Snapshot stream framing (what `etcdctl snapshot save` requires: size % 512 == 32):
//   file := image | zero padding | image_len (u64 little-endian) | sha256(all before it) (32 bytes)
// where image is what NodeApi::snapshot_image() hands over and the padding (0..511 bytes) makes
// everything before the sha256 a multiple of 512 bytes. unframe_snapshot() gives the exact image
// back, for `kvserver --restore` (etcdctl writes the stream to the file unchanged).
//
// Thread-safety: register_with() once, from one thread; the services themselves are safe from any
// gRPC thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/server_builder.h>

#include "kvserver/kv/errors.h"
#include "kvserver/server/node_api.h"

namespace kvserver::services {

struct ServicesOptions {
  uint64_t max_request_bytes = 1572864;  // etcd's --max-request-bytes default (1.5 MiB)
  std::string version = "3.4.0";         // Maintenance.Status version: etcd's API generation
  std::size_t snapshot_chunk_bytes = 32 * 1024;
  // --election-timeout: how often streams with `hasleader` metadata check for a leader
  // (leader_monitor.h).
  int64_t election_timeout_ms = 1000;
  // Threads that run reads after a read barrier, off the node's threads (read_pool.h).
  int read_threads = 2;
  // --experimental-watch-progress-notify-interval: how often watchers created with
  // progress_notify hear how far they have seen (progress_ticker.h). etcd's default, 10 minutes.
  std::chrono::milliseconds progress_notify_interval{std::chrono::minutes(10)};
};

class EtcdServices {
 public:
  EtcdServices(NodeApi& node, ServicesOptions options = {});
  ~EtcdServices();
  EtcdServices(const EtcdServices&) = delete;
  EtcdServices& operator=(const EtcdServices&) = delete;

  void register_with(grpc::ServerBuilder& builder);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The snapshot stream as etcdctl saves it (see above), from a whole image in memory: the reference
// form of SnapshotFramer below, which the server streams with (tests check the format with it).
std::string frame_snapshot(std::string_view image);
// The same, for an image streamed in parts without holding it whole: add() each part in order,
// then trailer() is everything that follows the image (padding, image length, sha256).
class SnapshotFramer {
 public:
  static constexpr std::size_t kShaBytes = 32;

  explicit SnapshotFramer(uint64_t image_bytes);
  ~SnapshotFramer();
  SnapshotFramer(const SnapshotFramer&) = delete;
  SnapshotFramer& operator=(const SnapshotFramer&) = delete;

  void add(std::string_view image_part);
  std::string trailer();  // once, after image_bytes were added
  // Sizes known up front: the trailer's, and all the stream's bytes before the sha256.
  std::size_t trailer_bytes() const { return trailer_bytes_; }
  uint64_t bytes_before_sha() const { return image_bytes_ + trailer_bytes_ - kShaBytes; }

 private:
  uint64_t image_bytes_;
  std::size_t trailer_bytes_;
  struct evp_md_ctx_st* ctx_;
};
// A saved snapshot stream back to the exact image; checks the size rule, the length and the sha256
// (kBadSnapshot naming what is wrong otherwise).
kv::Result<std::string> unframe_snapshot(std::string_view file);

}  // namespace kvserver::services
