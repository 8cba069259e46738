// FakeNode: a TEST DOUBLE for the consensus layer. It implements NodeApi by applying writes
// directly to a KvStore on its own "apply thread", without Raft, so the etcd services can be driven
// through real gRPC on one machine. The e2e tests (tests/e2e/kvserver_etcdctl_test.sh) replace it
// with the real 3-node cluster.
//
// What it keeps of the real node's shape: write() and read_barrier() complete asynchronously on the
// apply thread, in order (a barrier completes after every write queued before it); the apply thread
// revokes expired leases like a leader would; set_leader(false) makes it answer like a member that
// knows no leader (Unavailable "etcdserver: no leader").
//
// Thread-safety: every method from any thread, as NodeApi requires.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "kvserver/server/node_api.h"

namespace kvserver::services::testing {

class FakeNode final : public NodeApi {
 public:
  static constexpr uint64_t kClusterId = 0x1c2d3e4f5a6b7c8dULL;
  static constexpr uint64_t kMemberId = 0x8e9e05c52164694dULL;
  static constexpr uint64_t kTerm = 3;

  FakeNode();
  ~FakeNode() override;

  void set_leader(bool has_leader) { has_leader_ = has_leader; }
  std::size_t writes_applied() const { return writes_applied_.load(); }

  void write(WriteRequest request, Done<WriteResponse> done) override;
  void read_barrier(std::function<void(std::optional<ApiError>)> done) override;
  kv::KvStore& store() override { return store_; }
  Header header() const override;
  void lease_keep_alive(int64_t id, Done<int64_t> done) override;
  void lease_time_to_live(int64_t id, bool keys, Done<kv::LeaseTimeToLiveResponse> done) override;
  std::vector<Member> members() const override;
  void member_add(std::vector<std::string> peer_urls, bool is_learner,
                  Done<MemberChangeResult> done) override;
  void member_remove(uint64_t id, Done<MemberChangeResult> done) override;
  void member_update(uint64_t id, std::vector<std::string> peer_urls,
                     Done<MemberChangeResult> done) override;
  void member_promote(uint64_t id, Done<MemberChangeResult> done) override;
  NodeStatus status() const override;
  void move_leader(uint64_t target_id, std::function<void(std::optional<ApiError>)> done) override;
  // Synchronous: the image goes into an unnamed memfd (the real node builds it in a child).
  void snapshot_image(Done<ImageFile> done) override;

 private:
  void run_on_apply_thread(std::function<void()> job);
  void apply_loop();
  WriteResponse apply(const WriteRequest& request, std::optional<kv::Error>& error);

  kv::KvStore store_;
  std::atomic<bool> has_leader_{true};
  std::atomic<std::size_t> writes_applied_{0};
  std::atomic<uint64_t> applied_index_{1};

  mutable std::mutex members_mu_;
  std::vector<Member> members_;
  uint64_t next_member_id_ = 0x1000;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread apply_thread_;
};

}  // namespace kvserver::services::testing
