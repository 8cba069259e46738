// Node: one kvserver Raft member - the node loop around raft::RawNode, the apply of committed
// entries to the KvStore and the Membership, snapshots, and the peer transport. It implements
// NodeApi (kvserver/server/node_api.h) for the client-facing services.
//
// Threads: the LOOP owns the RawNode and the Storage (neither is thread-safe): one iteration at a
// time, under loop_mu_. Everything else - gRPC client threads calling NodeApi, peer stream threads
// delivering frames, transport feedback - hands the loop a task and returns; answers come back
// through callbacks. The loop thread runs the iterations that ticks, timers and submit()ed tasks
// need. A client's write and a received peer batch (the two hand-offs on every write's path) use
// run_or_submit(): the calling thread runs the iteration itself unless another thread is already
// running one, which then takes the task too. See run_or_submit() for why.
// Per iteration the loop: ticks when the heartbeat interval has passed, runs the queued tasks
// (steps messages, queues proposals), proposes the queued writes as one batch (group commit), then
// per Ready: sends messages (a leader before its fsync, thesis §10.2.1), persists with one fsync,
// sends persisted_messages, installs a snapshot, applies committed entries, serves read states,
// advance()s, and takes a snapshot every --snapshot-count applied entries once the log since the
// last one has outgrown it (maybe_snapshot says why) - written by a forked child
// (snapshot_writer.h) while the loop goes on, and adopted by the loop once it is durable. Last, a
// leader tells followers a commit index that no append carried (maybe_notify_commit). Applying
// on the loop thread keeps committed - applied at zero in steady state; the 5000-entry backpressure
// bound matters after a restart, when the whole log tail is re-applied.
// While the loop is busy applying (or installing a snapshot) past a heartbeat interval, a
// BusyWatch thread (busy_watch.h) vouches to the peers that this member is alive, as etcd's raft
// loop keeps heartbeating beside its apply.
//
// Durable state: the WAL + snapshots (kvserver/storage), member metadata (bootstrap.h). A
// snapshot's data is "kvns1" + the Membership + the KvStore image (state_image.h); the KvStore is
// in memory, rebuilt on start from the latest snapshot plus the committed log after it.
//
// Thread-safety: NodeApi methods and the accessors are thread-safe; start()/stop() from one
// thread (main).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "certs/result.h"
#include "kvserver/raft/node.h"
#include "kvserver/server/flags.h"
#include "kvserver/server/node/busy_watch.h"
#include "kvserver/server/node/command.h"
#include "kvserver/server/node/frame.h"
#include "kvserver/server/node/image_exporter.h"
#include "kvserver/server/node/membership.h"
#include "kvserver/server/node/peer_service.h"
#include "kvserver/server/node/peer_transport.h"
#include "kvserver/server/node/proposal_batch.h"
#include "kvserver/server/node/proposal_registry.h"
#include "kvserver/server/node/reconfig_check.h"
#include "kvserver/server/node/snapshot_writer.h"
#include "kvserver/server/node_api.h"
#include "kvserver/server/tls.h"
#include "kvserver/storage/storage.h"

namespace kvserver::node {

struct NodeOptions {
  server::ServerConfig config;                  // validated
  server::PeerDialCredentials* dial = nullptr;  // null: dial peers without TLS; must outlive Node
  // Called once (on the loop: see Node) when the member has seen a leader, applied everything that
  // was committed when it started, and its own publish (name, client URLs) is applied - a joiner
  // has then caught up to its admission: the moment to send READY=1 (Node::maybe_report_ready).
  std::function<void()> on_ready;
  // Called once (on the loop) when this member's removal is applied: it should stop.
  std::function<void()> on_removed;
  // Called (on the loop) on every state change worth a STATUS= line.
  std::function<void(const std::string&)> on_status;
};

class Node final : public NodeApi {
 public:
  // Opens the data dir (bootstrapping it if fresh), restores the latest snapshot. Errors say what
  // is wrong with the data dir and what to do.
  static certs::Result<std::unique_ptr<Node>> open(NodeOptions options);
  ~Node() override;

  // The peer port's service; register it on the peer gRPC server before start().
  PeerService* peer_service() { return &peer_service_; }
  void start();
  // Graceful stop: a leader first hands leadership to the most up-to-date voter (waiting up to two
  // election timeouts), then the loop and the transport stop; waiting callers get an error.
  void stop();

  uint64_t id() const { return id_; }
  bool is_ready() const { return ready_.load(); }
  bool removed() const { return removed_.load(); }
  uint64_t leader() const { return leader_.load(); }

  // --- NodeApi ---
  void write(WriteRequest request, Done<WriteResponse> done) override;
  void read_barrier(std::function<void(std::optional<ApiError>)> done) override;
  kv::KvStore& store() override { return store_; }
  Header header() const override;
  void lease_keep_alive(int64_t id, Done<int64_t> done) override;
  void lease_time_to_live(int64_t id, bool keys, Done<kv::LeaseTimeToLiveResponse> done) override;
  std::vector<Member> members() const override { return membership_.members(); }
  void member_add(std::vector<std::string> peer_urls, bool is_learner,
                  Done<MemberChangeResult> done) override;
  void member_remove(uint64_t id, Done<MemberChangeResult> done) override;
  void member_update(uint64_t id, std::vector<std::string> peer_urls,
                     Done<MemberChangeResult> done) override;
  void member_promote(uint64_t id, Done<MemberChangeResult> done) override;
  NodeStatus status() const override;
  void move_leader(uint64_t target_id, std::function<void(std::optional<ApiError>)> done) override;
  void snapshot_image(Done<ImageFile> done) override;

 private:
  struct ReadWaiter {
    std::function<void(std::optional<ApiError>)> done;
    int64_t deadline_ms;
  };
  struct TransferWaiter {
    uint64_t target;
    std::function<void(std::optional<ApiError>)> done;
    int64_t deadline_ms;
  };

  Node(NodeOptions options, std::unique_ptr<storage::Storage> storage, uint64_t id,
       std::string token);

  // Any thread.
  void submit(std::function<void()> task);  // for the loop thread
  void run_or_submit(std::function<void()> task);
  int64_t request_deadline_ms() const;
  std::optional<ApiError> admission_check(std::size_t request_bytes) const;
  uint64_t propose_command(Command c, ProposalRegistry::Callback cb);  // returns request id
  void propose_conf(raft::ConfChange cc, ProposalRegistry::Callback cb);
  void on_frames(uint64_t from, std::vector<Frame> frames);  // one received batch, in order
  // --strict-reconfig-check (reconfig_check.h): why `change` must not be proposed now, if so.
  std::optional<ApiError> strict_reconfig(Reconfig change, uint64_t target) const;
  void vouch_alive();  // BusyWatch's thread: the loop is busy applying

  // The loop thread (node.cpp).
  void run();
  // The loop (loop_mu_ held): one iteration. Run by another thread (run_or_submit), it wakes the
  // loop thread when it moves the next timer earlier.
  void iterate(bool on_loop_thread);
  void on_tick(int64_t now_ms);
  void handle_ready();
  void send_messages(std::vector<raft::Message>& msgs);
  // Hands the held proposals to the core when ProposalBatch says they are due (always, when
  // this member no longer leads: the core then refuses them at once).
  void maybe_flush_proposals(std::chrono::steady_clock::time_point now);
  void flush_proposals();
  void maybe_notify_commit(std::chrono::steady_clock::time_point now);
  void start_read_round();
  void release_reads();
  // walks_keys: the leader notices the commit at once (notify_at_once_).
  void local_propose(std::string data, uint64_t request_id, bool walks_keys = false);
  void local_propose_conf(const raft::ConfChange& cc, uint64_t request_id, uint64_t origin);
  void fail_request(uint64_t request_id, uint64_t origin, const ApiError& error);
  bool caught_up() const;
  void maybe_publish(int64_t now_ms);
  void maybe_revoke_expired_leases(int64_t now_ms);
  void maybe_snapshot();
  void export_image(Done<ImageFile> done);
  void finish_snapshot();
  raft::Index compact_through(raft::Index snapshot_index) const;  // the log kept behind it
  void log_snapshot_taken(raft::Index index, std::size_t bytes, const std::string& how);
  void maybe_report_ready();
  void advance_first_election();
  void sync_peers();
  void defer_peer_change(uint64_t peer);
  void apply_peer_changes(int64_t now_ms);
  void on_soft_state(const raft::SoftState& ss, int64_t now_ms);

  // Loop thread (node_apply.cpp).
  void apply_committed(const std::vector<raft::Entry>& entries);
  void apply_entry(const raft::Entry& e);
  void apply_conf_entry(const raft::Entry& e);
  Outcome apply_command(const Command& c);
  void mark_removed();  // our removal was applied, or a peer that applied it says so
  // stop() on a leader: hands over to the best-matched voter heard from lately (loop thread).
  void start_stop_transfer();
  void install_snapshot(const raft::Snapshot& snap);

  NodeOptions options_;
  const uint64_t id_;
  const std::string token_;
  const int64_t heartbeat_ms_;
  const int64_t election_ms_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<raft::RawNode> raw_;
  kv::KvStore store_;
  Membership membership_;
  ProposalRegistry registry_;
  PeerService peer_service_;
  std::unique_ptr<PeerTransport> transport_;
  SnapshotWriter snapshot_writer_;  // the loop only
  BusyWatch busy_watch_;            // its Scopes: the loop only
  ImageExporter image_exporter_;    // the loop only (Maintenance.Snapshot)

  // Shared with other threads.
  std::atomic<uint64_t> leader_{0};
  std::atomic<uint64_t> term_{0};
  std::atomic<uint64_t> committed_{0};
  std::atomic<uint64_t> applied_{0};
  std::atomic<bool> is_leader_{false};
  std::atomic<bool> ready_{false};
  std::atomic<bool> removed_{false};
  // stop()'s leadership transfer: kNone, kRequested (stop() waits for the loop to pick a target),
  // kTransferring (until the target leads or the core gives up, after an election timeout; the
  // loop then sets kNone).
  enum class StopTransfer { kNone, kRequested, kTransferring };
  std::atomic<StopTransfer> stop_transfer_{StopTransfer::kNone};
  mutable std::mutex removed_ids_mu_;
  std::set<uint64_t> removed_ids_;  // members whose removal we applied; guarded by removed_ids_mu_

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> inbox_;  // guarded by mu_
  bool running_ = false;  // guarded by mu_: between start() and stop(); iterations may run
  // When the loop thread must next wake for a timer (tick, held proposals, commit notice), and
  // whether an iteration on another thread moved it earlier; guarded by mu_.
  std::chrono::steady_clock::time_point timer_due_;
  bool timer_moved_ = false;
  std::mutex loop_mu_;  // held by whichever thread runs an iteration
  std::thread loop_;
  bool started_ = false;

  // The loop only (loop_mu_ held).
  int64_t next_tick_ms_ = 0;
  uint64_t start_commit_ = 0;
  bool self_removal_applied_ = false;  // our removal was applied; see apply_committed
  uint64_t leader_commit_seen_ = 0;    // the highest commit index a leader's message carried
  uint64_t snapshot_index_ = 0;
  int64_t snapshot_rest_until_ms_ = 0;     // no new snapshot before (maybe_snapshot)
  uint64_t snapshot_bytes_ = 0;            // the size of the latest snapshot (maybe_snapshot)
  uint64_t log_bytes_since_snapshot_ = 0;  // entry data applied since the last one started
  ProposalBatch proposals_;  // leader: proposals waiting to go to the core (proposal_batch.h)
  // Leader: the last index of each proposed batch whose commit the followers must hear at once,
  // oldest first, until committed (maybe_notify_commit): one holding a follower's forwarded
  // request, or a request whose apply walks a range of keys.
  std::deque<raft::Index> notify_at_once_;
  bool held_walk_keys_ = false;  // leader: proposals_ holds a request that walks a range of keys
  std::optional<std::chrono::steady_clock::time_point> commit_notice_due_;
  raft::Index commit_noticed_ = 0;  // the commit index of the last notice: one per index
  std::vector<ReadWaiter> reads_waiting_;
  std::map<std::string, std::pair<int64_t, std::vector<ReadWaiter>>> read_rounds_;  // ctx -> round
  std::multimap<uint64_t, ReadWaiter> reads_applying_;  // read index -> waiter
  uint64_t read_seq_ = 0;
  std::vector<TransferWaiter> transfers_;
  std::map<uint64_t, int64_t> last_heard_ms_;  // peer -> when its last batch arrived
  bool published_ = false;
  int64_t publish_retry_ms_ = 0;
  std::map<int64_t, int64_t> revoking_;  // lease id -> when proposed
  int64_t last_lease_check_ms_ = 0;
  std::vector<std::pair<uint64_t, int64_t>> peer_changes_;  // (peer, when): defer_peer_change
};

// etcd's texts for membership errors.
ApiError member_not_found();
ApiError promote_not_in_sync();

}  // namespace kvserver::node
