// NodeApi: the Raft member as the client-facing gRPC services (KV, Watch, Lease, Cluster,
// Maintenance) see it. The node loop (node.h) implements it; the services (services/) only use it.
// This header is the contract between the two, so they can be built and tested apart.
//
// Writes go through the Raft log: write() proposes (a follower's proposal is forwarded to the
// leader by the Raft core), and `done` runs on the apply thread once THIS member has applied the
// entry, with the state machine's answer. Reads are linearizable when they wait for read_barrier()
// (ReadIndex, thesis §6.4: one heartbeat round serves a whole batch of waiting reads) and then read
// store() directly; serializable reads skip the barrier.
//
// Errors use etcd 3.4's gRPC code and exact text (etcdctl matches both): see ApiError.
// Thread-safety: every method may be called from any thread; callbacks run on the node's threads
// and must not block (hand work to the gRPC reactor instead).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "kvserver/kv/kv_store.h"
#include "kvserver/kv/types.h"

namespace kvserver {

// gRPC status codes we answer with (values equal grpc::StatusCode's).
enum class ApiCode {
  kOk = 0,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kFailedPrecondition = 9,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kResourceExhausted = 8,
  kDataLoss = 15,
};

struct ApiError {
  ApiCode code = ApiCode::kUnavailable;
  std::string message;  // etcd's text, e.g. "etcdserver: request timed out"
};

// etcd's texts for the node-level failures.
inline ApiError request_timed_out() {
  return {ApiCode::kUnavailable, "etcdserver: request timed out"};
}
inline ApiError no_leader() {
  return {ApiCode::kUnavailable, "etcdserver: no leader"};
}
inline ApiError too_many_requests() {
  return {ApiCode::kResourceExhausted, "etcdserver: too many requests"};
}
inline ApiError request_too_large() {
  return {ApiCode::kInvalidArgument, "etcdserver: request is too large"};
}

template <typename T>
using ApiResult = std::variant<T, ApiError>;  // index 0: the answer

struct CompactRequest {
  int64_t revision = 0;
  bool physical = false;
};
struct LeaseGrantRequest {
  int64_t id = 0;  // 0: the leader picks one
  int64_t ttl_s = 0;
};
struct LeaseRevokeRequest {
  int64_t id = 0;
};
struct LeaseRevokeResponse {
  int64_t revision = 0;
};

using WriteRequest = std::variant<kv::PutRequest, kv::DeleteRangeRequest, kv::TxnRequest,
                                  CompactRequest, LeaseGrantRequest, LeaseRevokeRequest>;
using WriteResponse =
    std::variant<kv::PutResponse, kv::DeleteRangeResponse, kv::TxnResponse, kv::CompactResponse,
                 kv::LeaseGrantResponse, LeaseRevokeResponse>;

// Every etcd response header carries these.
struct Header {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  int64_t revision = 0;
  uint64_t raft_term = 0;
};

struct Member {
  uint64_t id = 0;
  std::string name;  // empty for a member added but not started yet ("unstarted")
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

struct MemberChangeResult {
  Member member;                // the member added / removed / updated / promoted
  std::vector<Member> members;  // the membership after the change
};

struct NodeStatus {
  uint64_t member_id = 0;
  uint64_t leader = 0;  // 0: no leader known
  uint64_t raft_term = 0;
  uint64_t raft_index = 0;  // committed index
  uint64_t raft_applied_index = 0;
  int64_t db_size = 0;
  int64_t db_size_in_use = 0;
  bool is_learner = false;
  std::vector<std::string> errors;
};

// A state machine image in a file: `bytes` bytes from `offset` of `fd`, which is open for reading
// and owned (closed on destruction). The file has no name left: nothing to clean up.
struct ImageFile {
  int fd = -1;
  uint64_t offset = 0;
  uint64_t bytes = 0;

  ImageFile() = default;
  ImageFile(int f, uint64_t off, uint64_t n) : fd(f), offset(off), bytes(n) {}
  ImageFile(ImageFile&& o) noexcept
      : fd(std::exchange(o.fd, -1)), offset(o.offset), bytes(o.bytes) {}
  ImageFile& operator=(ImageFile&& o) noexcept {
    std::swap(fd, o.fd);
    offset = o.offset;
    bytes = o.bytes;
    return *this;
  }
  ~ImageFile() {
    if (fd >= 0) ::close(fd);
  }
};

class NodeApi {
 public:
  virtual ~NodeApi() = default;

  template <typename T>
  using Done = std::function<void(ApiResult<T>)>;

  // The replicated writes (KV Put/DeleteRange/Txn/Compact, LeaseGrant/Revoke). Requests over
  // --max-request-bytes fail with request_too_large(); no answer within the request timeout
  // (etcd: 5 s + 2 x election timeout) fails with request_timed_out(); applying lagging committing
  // by more than 5000 entries fails fast with too_many_requests().
  virtual void write(WriteRequest request, Done<WriteResponse> done) = 0;

  // Runs `done` once this member has applied everything committed when it was called (a
  // linearizable read may then read store()), or with no_leader()/request_timed_out().
  virtual void read_barrier(std::function<void(std::optional<ApiError>)> done) = 0;

  // The state machine: reads and watches from any thread (kv_store.h); writes only via write().
  virtual kv::KvStore& store() = 0;
  virtual Header header() const = 0;

  // Leases: keep-alive refreshes the leader's expiry clock; a follower forwards it to the leader.
  // Answers the remaining TTL in seconds.
  virtual void lease_keep_alive(int64_t id, Done<int64_t> done) = 0;
  // TimeToLive / Leases must reflect the leader's view too (followers forward).
  virtual void lease_time_to_live(int64_t id, bool keys,
                                  Done<kv::LeaseTimeToLiveResponse> done) = 0;

  // Cluster. Member changes are one at a time through the log (thesis §4.1).
  virtual std::vector<Member> members() const = 0;
  virtual void member_add(std::vector<std::string> peer_urls, bool is_learner,
                          Done<MemberChangeResult> done) = 0;
  virtual void member_remove(uint64_t id, Done<MemberChangeResult> done) = 0;
  virtual void member_update(uint64_t id, std::vector<std::string> peer_urls,
                             Done<MemberChangeResult> done) = 0;
  // FailedPrecondition "etcdserver: can only promote a learner member which is in sync with
  // leader" until the learner has caught up.
  virtual void member_promote(uint64_t id, Done<MemberChangeResult> done) = 0;

  // Maintenance.
  virtual NodeStatus status() const = 0;
  virtual void move_leader(uint64_t target_id,
                           std::function<void(std::optional<ApiError>)> done) = 0;
  // A consistent image of the state machine for Maintenance.Snapshot, in kvserver's own snapshot
  // file format (what `kvserver --restore FILE` reads). Built beside the node, as its periodic
  // snapshots are, so writes go on meanwhile; `done` runs on a node thread when it is ready.
  virtual void snapshot_image(Done<ImageFile> done) = 0;
};

}  // namespace kvserver
