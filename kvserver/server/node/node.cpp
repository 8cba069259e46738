// Node: construction, the loop thread, Ready handling, ticks and housekeeping. Apply is in
// node_apply.cpp, the NodeApi entry points in node_api.cpp.
#include "kvserver/server/node/node.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

#include "kvserver/raft/codec.h"
#include "kvserver/server/log.h"
#include "kvserver/server/node/bootstrap.h"
#include "kvserver/server/node/clock.h"
#include "kvserver/server/node/command.h"
#include "kvserver/server/node/snapshot_stagger.h"
#include "kvserver/server/node/state_image.h"

namespace kvserver::node {
namespace {

// etcd keeps 5000 entries behind a snapshot for slow followers; a smaller --snapshot-count (tests,
// tiny clusters) keeps that many instead, so a member that was down for more than one snapshot
// interval really catches up from the snapshot.
constexpr uint64_t kCatchUpEntries = 5000;

// How long a leader waits for an append to carry a new commit index to the followers before it
// sends one just for that (maybe_notify_commit). At one client the next write's append follows
// in a few hundred microseconds; a follower's watchers and serializable reads lag at most this.
constexpr auto kCommitNoticeDelay = std::chrono::milliseconds(1);
constexpr int64_t kLeaseCheckIntervalMs = 500;
// A leader stopping hands over only to a voter heard from within this many heartbeat intervals.
constexpr int64_t kStopTransferLivenessHeartbeats = 3;
constexpr std::size_t kRevokesPerCheck = 16;
// How long a gRPC thread that took the loop (Node::run_or_submit) goes on iterating.
constexpr auto kMaxInlineRun = std::chrono::milliseconds(2);

}  // namespace

ApiError member_not_found() {
  return {ApiCode::kNotFound, "etcdserver: member not found"};
}
ApiError promote_not_in_sync() {
  return {ApiCode::kFailedPrecondition,
          "etcdserver: can only promote a learner member which is in sync with leader"};
}

certs::Result<std::unique_ptr<Node>> Node::open(NodeOptions options) {
  const auto& config = options.config;
  auto st = storage::Storage::open({config.data_dir});
  if (!st) return certs::Error("data dir " + config.data_dir + ": " + st.error().message);
  std::unique_ptr<storage::Storage> storage = std::move(*st);
  auto meta = read_meta(config.data_dir);
  if (!meta) return meta.error();
  bool log_empty = storage->last_index() == 0 && storage->hard_state().empty();
  auto plan = plan_bootstrap(config, *meta, log_empty);
  if (!plan) return plan.error();

  if (plan->kind == BootstrapPlan::Kind::kNewCluster) {
    // etcd's bootstrap: every initial member writes the same committed log of one AddVoter entry
    // per member (term 1), so a member that joins later learns the initial membership from the
    // log like any other change.
    raft::ConfState cs;
    std::vector<raft::Entry> entries;
    for (const auto& m : plan->initial_members) {
      cs.voters.push_back(m.id);
      Command c;
      c.kind = CommandKind::kMemberAdd;
      c.member = m;
      c.cluster_id = plan->cluster_id;
      raft::ConfChange cc{raft::ConfChangeType::kAddVoter, m.id, encode_command(c)};
      raft::Entry e;
      e.term = 1;
      e.index = entries.size() + 1;
      e.type = raft::EntryType::kConfChange;
      e.data = raft::encode_conf_change(cc);
      entries.push_back(std::move(e));
    }
    storage->set_conf_state(cs);
    storage->save(raft::HardState{1, 0, entries.size()}, entries);
  }
  if (!meta->has_value()) {
    if (auto s = write_meta(config.data_dir,
                            {config.initial_cluster_token, plan->member_id, plan->cluster_id});
        !s) {
      return s.error();
    }
  }
  std::string token = meta->has_value() ? (*meta)->token : config.initial_cluster_token;
  std::unique_ptr<Node> node(
      new Node(std::move(options), std::move(storage), plan->member_id, std::move(token)));
  if (plan->cluster_id != 0) node->membership_.set_cluster_id(plan->cluster_id);
  if (plan->kind == BootstrapPlan::Kind::kNewCluster) node->advance_first_election();
  return node;
}

Node::Node(NodeOptions options, std::unique_ptr<storage::Storage> storage, uint64_t id,
           std::string token)
    : options_(std::move(options)),
      id_(id),
      token_(std::move(token)),
      heartbeat_ms_(options_.config.heartbeat_interval_ms),
      election_ms_(options_.config.election_timeout_ms),
      storage_(std::move(storage)),
      store_(kv::KvStore::Options{{}, (options_.config.election_timeout_ms * 3 / 2 + 999) / 1000}),
      peer_service_(PeerServiceCallbacks{
          [this] { return id_; }, [this] { return membership_.cluster_id(); },
          [this](uint64_t from, std::vector<Frame> frames) { on_frames(from, std::move(frames)); },
          [this](uint64_t member) {
            std::lock_guard lock(removed_ids_mu_);
            return removed_ids_.count(member) > 0;
          },
          [this] { return membership_.members(); }}),
      // Limit: ten election timeouts, five times the longest apply seen (check perf's final
      // delete under a snapshot fork); a loop busy longer is more likely stuck than slow.
      busy_watch_(std::chrono::milliseconds(heartbeat_ms_),
                  std::chrono::milliseconds(10 * election_ms_), [this] { vouch_alive(); }),
      image_exporter_(options_.config.data_dir) {
  transport_ = std::make_unique<PeerTransport>(
      id_, options_.dial,
      TransportCallbacks{
          [this](uint64_t peer) { submit([this, peer] { raw_->report_unreachable(peer); }); },
          [this](uint64_t peer, bool ok) {
            submit([this, peer, ok] { raw_->report_snapshot(peer, ok); });
          },
          [this] { return membership_.cluster_id(); },
          [this](uint64_t peer, const std::string& error) {
            if (error != kRemovedMemberError) return;
            submit([this, peer] {
              if (applied_.load() == 0) {
                // A new member replacing a removed one at the same peer URLs has its id, and a
                // peer that has not applied the re-add yet still refuses it: for a member that
                // has applied nothing, the leader's log decides (apply_committed).
                spdlog::warn(
                    "member {:x} refused this member as removed; waiting for the "
                    "leader (if this member was not added back with `member add`, add "
                    "it first)",
                    peer);
                return;
              }
              spdlog::warn("member {:x} says this member was removed from the cluster", peer);
              mark_removed();
            });
          }});

  // The latest snapshot is the state machine's starting point; the log after it is re-applied.
  raft::Index applied = 0;
  auto snap = storage_->snapshot();
  if (snap.ok() && !snap.value.empty()) {
    install_snapshot(snap.value);
    applied = snap.value.metadata.index;
    snapshot_bytes_ = snap.value.data.size();
  }
  snapshot_index_ = applied;
  start_commit_ = storage_->hard_state().commit;
  raft::Config rc;
  rc.id = id_;
  rc.heartbeat_tick = 1;
  rc.election_tick = static_cast<int>(std::max<int64_t>(2, election_ms_ / heartbeat_ms_));
  rc.storage = storage_.get();
  rc.applied = applied;
  rc.seed = (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  rc.defer_commit_notice = true;  // maybe_notify_commit
  raw_ = std::make_unique<raft::RawNode>(rc);
  applied_ = applied;
  committed_ = start_commit_;
  term_ = storage_->hard_state().term;
}

// Called only on a member that has just bootstrapped a new cluster (nothing was persisted before):
// its election clock starts one tick short of the timeout, as etcd's does on first boot. Every
// member is started at once (`systemctl start --no-block` on all nodes), so waiting a whole
// election timeout before the first campaign only delays the first leader - and READY=1 and
// `provision up`'s verify - by about a second. The randomized part of the timeout ([T, 2T)) still
// separates the candidates.
void Node::advance_first_election() {
  const int election_ticks = static_cast<int>(std::max<int64_t>(2, election_ms_ / heartbeat_ms_));
  for (int i = 0; i + 1 < election_ticks; ++i)
    raw_->tick();
}

Node::~Node() {
  stop();
}

void Node::start() {
  sync_peers();
  // A joining member knows no membership yet, but must answer the leader: --initial-cluster (as
  // `member add` prints it) names every member, and ids derive from peer URLs + token.
  std::map<std::string, std::vector<std::string>> by_name;
  for (const auto& cm : options_.config.cluster)
    by_name[cm.name].push_back(cm.peer_url.text);
  for (const auto& [name, urls] : by_name) {
    uint64_t pid = derive_member_id(urls, token_);
    if (pid != id_ && !membership_.find(pid)) transport_->set_peer(pid, urls);
  }
  started_ = true;
  next_tick_ms_ = now_ms() + heartbeat_ms_;
  {
    std::lock_guard lock(mu_);
    timer_due_ = std::chrono::steady_clock::time_point(std::chrono::milliseconds(next_tick_ms_));
    running_ = true;
  }
  loop_ = std::thread([this] { run(); });
  busy_watch_.start();
}

void Node::stop() {
  if (!started_) return;
  started_ = false;
  if (is_leader_.load() && !removed_.load()) {
    // SIGTERM on a leader: hand over first, so the cluster does not wait an election timeout.
    // Only to a voter heard from within the last few heartbeats: one that has just been stopped
    // (the whole cluster going down member by member) cannot take over, and waiting for it would
    // hold this member's exit for an election timeout.
    stop_transfer_ = StopTransfer::kRequested;
    submit([this] { start_stop_transfer(); });
    // Until the target leads, or the core gives up on it (after an election timeout).
    const int64_t deadline = now_ms() + 2 * election_ms_;
    while (is_leader_.load() && stop_transfer_.load() != StopTransfer::kNone &&
           now_ms() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a flag, not syncing
    }
  }
  {
    std::lock_guard lock(mu_);
    running_ = false;  // the loop thread ends; no new iteration starts (iterate() checks it)
  }
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  busy_watch_.stop();  // before the transport it sends through
  image_exporter_.cancel_all(ApiError{ApiCode::kUnavailable, "etcdserver: server stopped"});
  transport_->stop();
  for (auto& cb : registry_.take_all())
    cb(Outcome{ApiError{ApiCode::kUnavailable, "etcdserver: server stopped"}, {}, 0, {}});
}

void Node::start_stop_transfer() {
  auto& r = raw_->mutable_raft();
  const int64_t heard_since = now_ms() - kStopTransferLivenessHeartbeats * heartbeat_ms_;
  uint64_t best = 0, best_match = 0;
  int others = 0;
  for (uint64_t v : r.tracker().conf_state().voters) {
    auto* pr = r.tracker().progress(v);
    if (v == id_ || !pr) continue;
    ++others;
    auto heard = last_heard_ms_.find(v);
    if (heard == last_heard_ms_.end() || heard->second < heard_since) continue;
    if (pr->match >= best_match) best = v, best_match = pr->match;
  }
  if (best != 0 && raw_->transfer_leader(best) == raft::Status::kOk) {
    spdlog::info("stopping: transferring leadership to {:x}", best);
    stop_transfer_ = StopTransfer::kTransferring;
    return;
  }
  if (others > 0) {
    spdlog::info(
        "stopping: no other voter answered in the last {} ms; leaving without "
        "transferring leadership",
        kStopTransferLivenessHeartbeats * heartbeat_ms_);
  }
  stop_transfer_ = StopTransfer::kNone;
}

void Node::submit(std::function<void()> task) {
  bool was_empty;
  {
    std::lock_guard lock(mu_);
    was_empty = inbox_.empty();
    inbox_.push_back(std::move(task));
  }
  // The loop sleeps only on an empty inbox and takes everything it finds: only the first task of
  // a burst needs to wake it (a futex call and a context switch per task showed in profiles).
  if (was_empty) cv_.notify_one();
}

void Node::on_frames(uint64_t from, std::vector<Frame> frames) {
  // A Reject is answered here (the registry is thread-safe); the rest of the batch goes to the
  // loop as ONE task: one iteration per received batch, not one per raft message.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (auto* rj = std::get_if<Reject>(&frames[i])) {
      if (auto cb = registry_.take(rj->request_id)) (*cb)(Outcome{rj->error, {}, 0, {}});
    } else {
      if (kept != i) frames[kept] = std::move(frames[i]);
      ++kept;
    }
  }
  if (kept == 0) return;
  frames.erase(frames.begin() + static_cast<std::ptrdiff_t>(kept), frames.end());
  run_or_submit([this, from, frames = std::move(frames)]() mutable {
    last_heard_ms_[from] = now_ms();
    for (auto& frame : frames) {
      if (auto* m = std::get_if<raft::Message>(&frame)) {
        if (m->type == raft::MessageType::kApp || m->type == raft::MessageType::kHeartbeat) {
          leader_commit_seen_ = std::max(leader_commit_seen_, m->commit);
        }
        raw_->step(*m);
        continue;
      }
      if (auto* alive = std::get_if<Alive>(&frame)) {
        raw_->note_alive(from, alive->term);
        continue;
      }
      auto& fw = std::get<Forward>(frame);
      if (fw.conf_change) {
        raft::ConfChange cc;
        if (raft::decode_conf_change(fw.data, &cc)) local_propose_conf(cc, fw.request_id, from);
        continue;
      }
      if (!is_leader_.load()) {
        fail_request(fw.request_id, from, {ApiCode::kUnavailable, "etcdserver: leader changed"});
        continue;
      }
      // The origin waits for it, not us.
      proposals_.add(std::move(fw.data), fw.request_id, from, std::chrono::steady_clock::now());
    }
  });
}

// The leader vouches to every peer (their election timers), a follower to its leader (check
// quorum). The term is the one this member is in as it vouches; a peer in another ignores it.
void Node::vouch_alive() {
  const std::string frame = encode_frame(Alive{term_.load()});
  if (is_leader_.load()) {
    for (const auto& m : membership_.members()) {
      if (m.id != id_) transport_->send(m.id, frame);
    }
  } else if (uint64_t lead = leader_.load(); lead != 0 && lead != id_) {
    transport_->send(lead, frame);
  }
}

namespace {
// The node whose iteration this thread is running, if any. A task that ends up in run_or_submit()
// (gRPC may run callbacks inline) only queues: iterations never nest, not even two nodes' ones
// (unit tests run several in one process).
thread_local const Node* tl_iterating = nullptr;
}  // namespace

// Why the calling thread runs the iteration: a Put at one client (3 members on loopback, traced)
// waited 21, 48 and 30 us between a gRPC thread queuing a task and the sleeping loop thread
// running it - the leader taking the client's write, a follower the append, the leader the
// follower's answer. On this 2-core VM a wake-up costs that much. Run here, the leader's time from
// a write's arrival to its answer fell from 481 to 334 us (medians over 4700 and 6200 writes).
// A/B runs against the loop thread alone (100k keys): Put/s +13% at 1 client, +16-28% at 16,
// unchanged at 256, and `check perf --load=l` 5334 -> 5570 w/s, without the kMaxInlineRun bound
// below; with it, +4-9% at 1 client, +6-14% at 16, 256 within noise. Whoever holds
// loop_mu_ takes the task with the rest of the inbox; a caller that cannot take the lock leaves it
// to the holder, which looks at the inbox again after letting go (a combiner's hand-over). The
// caller is a gRPC callback thread: it blocks for the iteration's fsync as the loop thread would;
// gRPC's other threads poll meanwhile, and only one thread at a time runs an iteration.
void Node::run_or_submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    inbox_.push_back(std::move(task));
    if (!running_ || tl_iterating != nullptr) {
      // Not started, stopping, or this thread is already inside an iteration: the loop thread
      // takes it.
      cv_.notify_one();
      return;
    }
  }
  // Iterations go on while tasks keep coming (at one client, the followers' answers arrive during
  // the leader's fsync), but for kMaxInlineRun at most: this thread is gRPC's, and may be the
  // reader of a peer's stream, whose next batch waits until we return. Draining for as long as
  // clients kept writing could hold a follower's reader past an election timeout, the leader's
  // heartbeats unread. What is left then goes to the loop thread.
  const auto until = std::chrono::steady_clock::now() + kMaxInlineRun;
  for (;;) {
    if (!loop_mu_.try_lock()) return;  // the holder takes it
    tl_iterating = this;
    iterate(false);
    tl_iterating = nullptr;
    loop_mu_.unlock();
    std::lock_guard lock(mu_);
    if (!running_ || inbox_.empty()) return;
    if (std::chrono::steady_clock::now() >= until) {
      cv_.notify_one();
      return;
    }
  }
}

void Node::run() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, timer_due_,
                     [&] { return !running_ || !inbox_.empty() || timer_moved_; });
      if (!running_) break;  // stop(): the thread starts after start() set it
      timer_moved_ = false;
    }
    std::lock_guard hold(loop_mu_);
    tl_iterating = this;
    iterate(true);
    tl_iterating = nullptr;
  }
  std::lock_guard hold(loop_mu_);  // an iteration on another thread finishes first
  snapshot_writer_.cancel();       // a half-written snapshot is no use to the next start
}

void Node::iterate(bool on_loop_thread) {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(mu_);
    if (!running_) return;  // stop() has begun: nothing more runs
    tasks.swap(inbox_);
  }
  int64_t now = now_ms();
  if (now >= next_tick_ms_) {
    raw_->tick();
    on_tick(now);
    next_tick_ms_ += heartbeat_ms_;
    if (next_tick_ms_ < now) next_tick_ms_ = now + heartbeat_ms_;  // we fell behind: no burst
  }
  for (auto& t : tasks)
    t();
  tasks.clear();
  maybe_flush_proposals(std::chrono::steady_clock::now());
  if (!reads_waiting_.empty()) start_read_round();
  for (;;) {
    // Before each Ready: a commit noticed at once (a follower's forwarded request, or one whose
    // apply walks a range of keys) goes out in it, ahead of our own apply of it, so the followers
    // apply beside us instead of after us. An apply pauses a member's loop - no heartbeat sent or
    // answered - and a leader whose followers pause after it, one after the other, hears nothing
    // from them for twice as long: etcdctl check perf's final delete of 300k keys (0.5 s on the
    // leader, then 1.2 s on each follower during a snapshot) cost the leadership that way (check
    // quorum).
    maybe_notify_commit(std::chrono::steady_clock::now());
    if (!raw_->has_ready()) break;
    handle_ready();
    // A Ready can commit what was in flight (the leader's own fsync may be the vote a commit
    // needed): held proposals then go now, not at the next wake-up.
    if (!raw_->has_ready()) maybe_flush_proposals(std::chrono::steady_clock::now());
  }
  if (stop_transfer_.load(std::memory_order_relaxed) == StopTransfer::kTransferring &&
      raw_->raft().lead_transferee() == raft::kNoNode) {
    stop_transfer_ = StopTransfer::kNone;  // done, or abandoned by the core
  }
  auto due = std::chrono::steady_clock::time_point(std::chrono::milliseconds(next_tick_ms_));
  if (commit_notice_due_) due = std::min(due, *commit_notice_due_);
  if (auto held = proposals_.deadline()) due = std::min(due, *held);
  bool moved = false;
  {
    std::lock_guard lock(mu_);
    // The loop thread sleeps until timer_due_: wake it only when this is sooner. A later one
    // costs it at most one wake-up that finds nothing due.
    moved = !on_loop_thread && due < timer_due_;
    timer_due_ = due;
    if (moved) timer_moved_ = true;
  }
  if (moved) cv_.notify_one();
}

void Node::maybe_flush_proposals(std::chrono::steady_clock::time_point now) {
  const auto& log = raw_->raft().log();
  const bool in_flight = is_leader_.load() && log.committed() < log.last_index();
  if (proposals_.due(now, in_flight)) flush_proposals();
}

void Node::flush_proposals() {
  if (proposals_.empty()) return;
  auto [entries, ids] = proposals_.take();
  auto res = raw_->propose_batch(std::move(entries));
  const bool at_once = held_walk_keys_ || std::any_of(ids.begin(), ids.end(),
                                                      [&](auto& b) { return b.second != id_; });
  held_walk_keys_ = false;
  if (res.status == raft::Status::kOk && at_once) notify_at_once_.push_back(res.index);
  if (res.status != raft::Status::kOk) {
    ApiError err = res.status == raft::Status::kLeaderTransferring
                       ? ApiError{ApiCode::kUnavailable, "etcdserver: leader changed"}
                       : no_leader();
    for (auto [rid, origin] : ids)
      fail_request(rid, origin, err);
  }
}

// The Raft core defers commit notices (Config::defer_commit_notice): a follower learns a commit
// index from the next append, which at one client is the next write's, a few hundred microseconds
// later. Telling it at once cost an empty append and its answer per follower per write, about a
// tenth of Put c=1 (42 context switches per Put across the members instead of 55). Those not told
// by an append get an empty one here, kCommitNoticeDelay after the commit, or at once when it
// covers a request a follower forwarded (that follower answers its client only once it applies the
// entry) or one whose apply walks a range of keys (see iterate()). The heartbeat would tell them
// too, but a heartbeat interval is too long for watchers.
void Node::maybe_notify_commit(std::chrono::steady_clock::time_point now) {
  const raft::Index committed = raw_->raft().log().committed();
  bool at_once = false;
  if (!is_leader_.load()) notify_at_once_.clear();
  while (!notify_at_once_.empty() && notify_at_once_.front() <= committed) {
    notify_at_once_.pop_front();
    at_once = true;
  }
  // One notice per commit index: a follower the core cannot send to just now (one that needs a
  // snapshot while it is down) stays "unsent", and must not wake this loop every millisecond.
  if (committed <= commit_noticed_ || !raw_->has_unsent_commit()) {
    commit_notice_due_.reset();
    return;
  }
  if (!commit_notice_due_) commit_notice_due_ = now + kCommitNoticeDelay;
  if (!at_once && now < *commit_notice_due_) return;
  commit_notice_due_.reset();
  commit_noticed_ = committed;
  raw_->notify_commit();  // the notices go out with the next Ready (iterate())
}

void Node::local_propose(std::string data, uint64_t request_id, bool walks_keys) {
  if (is_leader_.load()) {
    proposals_.add(std::move(data), request_id, id_, std::chrono::steady_clock::now());
    held_walk_keys_ = held_walk_keys_ || walks_keys;
    return;
  }
  uint64_t lead = leader_.load();
  if (lead == 0 ||
      !transport_->send(lead, encode_frame(Forward{false, request_id, std::move(data)}))) {
    fail_request(request_id, id_, no_leader());
  }
}

void Node::local_propose_conf(const raft::ConfChange& cc, uint64_t request_id, uint64_t origin) {
  if (!is_leader_.load()) {
    uint64_t lead = leader_.load();
    if (origin == id_ && lead != 0 &&
        transport_->send(lead,
                         encode_frame(Forward{true, request_id, raft::encode_conf_change(cc)}))) {
      return;
    }
    fail_request(
        request_id, origin,
        lead == 0 ? no_leader() : ApiError{ApiCode::kUnavailable, "etcdserver: leader changed"});
    return;
  }
  auto& r = raw_->mutable_raft();
  if (cc.type == raft::ConfChangeType::kAddVoter && r.tracker().progress(cc.node_id) &&
      !r.tracker().is_voter(cc.node_id)) {
    // etcd's rule: a learner is promotable once its log is within 10% of the leader's.
    const auto* pr = r.tracker().progress(cc.node_id);
    if (pr->match == 0 || pr->match * 10 < r.log().last_index() * 9) {
      fail_request(request_id, origin, promote_not_in_sync());
      return;
    }
  }
  auto res = raw_->propose_conf_change(cc);
  switch (res.status) {
    case raft::Status::kOk:
      return;
    case raft::Status::kConfChangePending:
      fail_request(request_id, origin,
                   {ApiCode::kFailedPrecondition,
                    "etcdserver: a membership change is still being applied; retry"});
      return;
    case raft::Status::kInvalidConfChange:
      fail_request(request_id, origin,
                   {ApiCode::kFailedPrecondition, "etcdserver: invalid membership change"});
      return;
    default:
      fail_request(request_id, origin, {ApiCode::kUnavailable, "etcdserver: leader changed"});
  }
}

void Node::fail_request(uint64_t request_id, uint64_t origin, const ApiError& error) {
  if (request_id == 0) return;
  if (origin == id_) {
    if (auto cb = registry_.take(request_id)) (*cb)(Outcome{error, {}, 0, {}});
  } else {
    transport_->send(origin, encode_frame(Reject{request_id, error}));
  }
}

void Node::start_read_round() {
  if (leader_.load() == 0) {
    for (auto& w : reads_waiting_)
      w.done(no_leader());
    reads_waiting_.clear();
    return;
  }
  std::string ctx = id_hex(id_) + ":" + std::to_string(++read_seq_);
  if (raw_->read_index(ctx) != raft::Status::kOk) {
    for (auto& w : reads_waiting_)
      w.done(no_leader());
    reads_waiting_.clear();
    return;
  }
  read_rounds_[ctx] = {now_ms(), std::move(reads_waiting_)};
  reads_waiting_.clear();
}

void Node::release_reads() {
  uint64_t applied = applied_.load();
  while (!reads_applying_.empty() && reads_applying_.begin()->first <= applied) {
    reads_applying_.begin()->second.done(std::nullopt);
    reads_applying_.erase(reads_applying_.begin());
  }
}

void Node::on_tick(int64_t now) {
  for (auto& cb : registry_.expire(now))
    cb(Outcome{request_timed_out(), {}, 0, {}});
  // A read round whose answer was lost (leader change, dropped message) is retried.
  for (auto it = read_rounds_.begin(); it != read_rounds_.end();) {
    if (now - it->second.first > election_ms_) {
      for (auto& w : it->second.second)
        reads_waiting_.push_back(std::move(w));
      it = read_rounds_.erase(it);
    } else {
      ++it;
    }
  }
  auto timed_out = [&](auto& waiters) {
    std::vector<std::remove_reference_t<decltype(waiters[0])>> keep;
    for (auto& w : waiters) {
      if (w.deadline_ms <= now) {
        w.done(leader_.load() == 0 ? no_leader() : request_timed_out());
      } else {
        keep.push_back(std::move(w));
      }
    }
    waiters.swap(keep);
  };
  timed_out(reads_waiting_);
  for (auto it = reads_applying_.begin(); it != reads_applying_.end();) {
    if (it->second.deadline_ms <= now) {
      it->second.done(request_timed_out());
      it = reads_applying_.erase(it);
    } else {
      ++it;
    }
  }
  timed_out(transfers_);
  finish_snapshot();
  // A snapshot that came due while the last one was still being written, or was resting after
  // it, is taken here rather than at the next write, which may never come. Between Readys the
  // applied log is durable, as maybe_snapshot needs.
  maybe_snapshot();
  image_exporter_.poll();
  maybe_publish(now);
  maybe_report_ready();
  maybe_revoke_expired_leases(now);
  apply_peer_changes(now);
}

// A removed peer loses its sender, an updated one is redialed at its new URLs - but not at once:
// the leader's append carrying the commit of that very change was queued for the peer moments
// ago, in the same Ready, and dropping or redialing the sender now can discard that frame. The
// peer would then never learn of its removal (Raft sends it nothing more), or of its new URLs
// before it listens there. One election timeout is ample for the frame to go out.
void Node::defer_peer_change(uint64_t peer) {
  peer_changes_.emplace_back(peer, now_ms() + election_ms_);
}

void Node::apply_peer_changes(int64_t now) {
  for (auto it = peer_changes_.begin(); it != peer_changes_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    // Looked up now, so a later change (or a re-add under the same id) wins.
    if (auto m = membership_.find(it->first)) {
      transport_->set_peer(m->id, m->peer_urls);
    } else {
      transport_->remove_peer(it->first);
      last_heard_ms_.erase(it->first);
    }
    it = peer_changes_.erase(it);
  }
}

// Whether this member has applied all the cluster had committed when it last heard from the
// leader. Our own Raft commit index alone can say yes too early: a follower learns it as at most
// the last entry the leader has sent, so while the log arrives in 1 MiB appends it looks caught
// up after every one of them. The leader's own commit index rides on each append (a heartbeat
// carries it too, capped at what the leader knows we have).
bool Node::caught_up() const {
  const uint64_t known = std::max(raw_->raft().log().committed(), leader_commit_seen_);
  if (applied_.load() < known || applied_.load() < start_commit_) return false;
  return is_leader_.load() || leader_commit_seen_ > 0;
}

void Node::maybe_publish(int64_t now) {
  if (published_ || now < publish_retry_ms_ || leader_.load() == 0 || removed_.load()) return;
  // Not halfway through the log: a member replacing a removed one at the same address (same id)
  // would find its predecessor's name and URLs there and take them for its own publish.
  if (!caught_up()) return;
  auto self = membership_.find(id_);
  if (!self) return;  // a joiner before it has applied its own admission
  std::vector<std::string> clients;
  for (const auto& u : options_.config.advertise_client)
    clients.push_back(u.text);
  if (self->name == options_.config.name && self->client_urls == clients) {
    published_ = true;
    return;
  }
  publish_retry_ms_ = now + 5000;  // one attempt in flight at a time
  Command c;
  c.kind = CommandKind::kPublish;
  c.member = *self;
  c.member.name = options_.config.name;
  c.member.client_urls = clients;
  c.origin = id_;
  c.request_id = registry_.add(
      [this](Outcome o) {
        if (!o.error)
          published_ = true;
        else
          publish_retry_ms_ = 0;
      },
      now + 5000);
  local_propose(encode_command(c), c.request_id);
}

void Node::maybe_revoke_expired_leases(int64_t now) {
  if (!is_leader_.load() || now - last_lease_check_ms_ < kLeaseCheckIntervalMs) return;
  last_lease_check_ms_ = now;
  for (auto it = revoking_.begin(); it != revoking_.end();) {
    it = now - it->second > 3000 ? revoking_.erase(it) : std::next(it);
  }
  for (int64_t lease : store_.expired_leases(now, kRevokesPerCheck)) {
    if (revoking_.count(lease)) continue;
    revoking_[lease] = now;
    Command c;
    c.kind = CommandKind::kWrite;
    c.origin = id_;
    c.write = LeaseRevokeRequest{lease};
    proposals_.add(encode_command(c), 0, id_, std::chrono::steady_clock::now());
  }
  flush_proposals();
}

void Node::on_soft_state(const raft::SoftState& ss, int64_t now) {
  uint64_t old_leader = leader_.exchange(ss.lead);
  bool was_leader = is_leader_.exchange(ss.role == raft::Role::kLeader);
  term_ = raw_->raft().term();
  // etcd logs these too: a term skipped between two "campaigning" lines is a split vote.
  if (ss.role == raft::Role::kPreCandidate) {
    spdlog::info("raft: campaigning (pre-vote) for term {}", term_.load() + 1);
  } else if (ss.role == raft::Role::kCandidate) {
    spdlog::info("raft: campaigning at term {}", term_.load());
  }
  if (old_leader != ss.lead) {
    if (ss.lead == 0) {
      spdlog::warn("raft: lost the leader (term {})", term_.load());
    } else {
      spdlog::info("raft: leader is {:x} at term {}{}", ss.lead, term_.load(),
                   ss.lead == id_ ? " (this member)" : "");
    }
    if (options_.on_status) {
      options_.on_status(ss.lead == 0 ? "no leader" : "leader " + id_hex(ss.lead));
    }
  }
  if (ss.role == raft::Role::kLeader && !was_leader) {
    // etcd's rule: a new leader gives every lease a fresh TTL, as the old leader's refreshes
    // are not known here.
    store_.promote_leases(now);
    revoking_.clear();
  }
  for (auto it = transfers_.begin(); it != transfers_.end();) {
    if (ss.lead == it->target) {
      it->done(std::nullopt);
      it = transfers_.erase(it);
    } else {
      ++it;
    }
  }
}

void Node::send_messages(std::vector<raft::Message>& msgs) {
  for (auto& m : msgs) {
    if (m.type == raft::MessageType::kSnap) {
      transport_->send_snapshot(m);
    } else if (!transport_->send(m.to, encode_frame(Frame(std::move(m))))) {
      raw_->report_unreachable(m.to);
    }
  }
}

void Node::handle_ready() {
  raft::Ready rd = raw_->ready();
  int64_t now = now_ms();
  if (rd.soft_state) on_soft_state(*rd.soft_state, now);
  send_messages(rd.messages);  // leader: before its own fsync (thesis §10.2.1)
  if (!rd.snapshot.empty()) {
    snapshot_writer_.cancel();  // the leader's snapshot supersedes ours, and resets the log
    storage_->apply_snapshot(rd.snapshot);
  }
  if (rd.hard_state) {
    committed_ = rd.hard_state->commit;
    term_ = rd.hard_state->term;
  }
  // Committed entries are applied before this Ready's entries are persisted, as etcd does (its
  // apply runs beside the WAL write): they are durable on a quorum already, so nothing waits for
  // our own fsync. The leader answers its clients one fsync earlier, a follower those whose
  // requests it forwarded. At 16 clients: 1-4% more Put/s, p99 a little lower (4 paired runs).
  // A snapshot is installed first.
  if (rd.snapshot.empty()) apply_committed(rd.committed_entries);
  // A Ready whose only news is a higher commit index is not persisted (etcd's raft.MustSync rule):
  // the commit index is volatile state (§5.3, Figure 2), a restarted member learns it again from
  // the leader, and restart copes with a durable commit behind the snapshot. Syncing it cost one
  // fdatasync per write on every member, the leader's between commit and apply, i.e. on the
  // client's critical path. The commit goes to the WAL with the next entries or term/vote change.
  const auto& durable = storage_->hard_state();
  const bool commit_only = rd.entries.empty() && rd.snapshot.empty() && rd.hard_state &&
                           rd.hard_state->term == durable.term &&
                           rd.hard_state->vote == durable.vote;
  if (rd.must_sync() && !commit_only) {
    storage_->save(rd.hard_state ? *rd.hard_state : durable, rd.entries);
  }
  send_messages(rd.persisted_messages);
  if (!rd.snapshot.empty()) {
    install_snapshot(rd.snapshot);
    applied_ = rd.snapshot.metadata.index;
    snapshot_index_ = rd.snapshot.metadata.index;
    snapshot_bytes_ = rd.snapshot.data.size();
    log_bytes_since_snapshot_ = 0;
    spdlog::info("installed snapshot at index {} from the leader", rd.snapshot.metadata.index);
    apply_committed(rd.committed_entries);
  }
  for (auto& rs : rd.read_states) {
    auto it = read_rounds_.find(rs.request_ctx);
    if (it == read_rounds_.end()) continue;
    for (auto& w : it->second.second)
      reads_applying_.emplace(rs.index, std::move(w));
    read_rounds_.erase(it);
  }
  raw_->advance();
  release_reads();
  maybe_snapshot();  // after the save: a snapshot never runs ahead of the durable log
  maybe_report_ready();
}

// Ready (READY=1, `systemctl start` returns) once this member has joined a quorum: it knows a
// leader, has applied what was committed when it started, and its name and client URLs are in the
// applied membership (published_). The last part matters for a member that joins with `existing`
// and an empty data dir: a leader's first heartbeat would satisfy the rest while it has applied
// nothing; its publish entry only applies after its own admission, i.e. once it has caught up to
// the point where it joined (etcd likewise signals readiness after publishing).
void Node::maybe_report_ready() {
  if (ready_.load() || leader_.load() == 0 || applied_.load() < start_commit_ || !published_)
    return;
  ready_ = true;
  spdlog::info("member {:x} ready: leader {:x}, applied index {}", id_, leader_.load(),
               applied_.load());
  if (options_.on_ready) options_.on_ready();
}

void Node::maybe_snapshot() {
  uint64_t applied = applied_.load();
  uint64_t every = std::max<uint64_t>(1, options_.config.snapshot_count);
  if (applied < snapshot_index_ + every) return;
  // A snapshot here rewrites the whole store with its history, where etcd's is a marker over a
  // bbolt file already on disk. Taken every `every` entries regardless, a large store is
  // rewritten over and over for a few writes each time: 30-60 MB per 10k puts at 100k keys, the
  // biggest share of the disk and CPU a steady write load cost. So, as the Raft thesis suggests
  // (§5.1.3, "when to snapshot"), the next one also waits until the log since the last one is as
  // big as that snapshot: writing snapshots then costs at most one byte per byte of log, and a
  // restart replays at most about a snapshot's worth of log. That threshold is staggered across
  // the members, so that they do not all pay for a snapshot at once (snapshot_stagger.h).
  if (log_bytes_since_snapshot_ < snapshot_bytes_) return;  // the cheap test first
  std::vector<uint64_t> member_ids;
  for (const auto& m : membership_.members())
    member_ids.push_back(m.id);
  if (log_bytes_since_snapshot_ <
      staggered_snapshot_due(snapshot_bytes_, id_, std::move(member_ids)))
    return;
  finish_snapshot();
  if (snapshot_writer_.busy()) return;  // still writing the last one: this one waits for it
  // Each snapshot rewrites the whole store (and its history), so under a steady write load they
  // would run back to back, their disk writes slowing the WAL's fsyncs. Resting as long as the
  // last one took caps that at half the time; the log just grows a little longer meanwhile.
  if (now_ms() < snapshot_rest_until_ms_) return;
  // handle_ready leaves a commit-only hard state unsynced, but a restart needs the durable commit
  // at or past the snapshot (the log below it may be compacted away): persist it first. Called
  // after advance(), so term and vote are already durable; only the commit can lag.
  if (storage_->hard_state().commit < applied) storage_->save(raw_->raft().hard_state(), {});
  raft::SnapshotMetadata meta{applied, storage_->term(applied).value,
                              raw_->mutable_raft().tracker().conf_state()};
  snapshot_index_ = applied;  // the next one is due `every` entries from here, whatever happens
  log_bytes_since_snapshot_ = 0;
  // The membership has its own mutex, which a gRPC thread may hold at the fork: encode it here.
  std::string membership = membership_.encode();
  std::string error;
  bool forked = false;
  {
    auto frozen = store_.freeze();
    forked = snapshot_writer_.start(
        meta, storage_->snapshots().path_for(meta.term, meta.index),
        [&] {
          return encode_state({membership, store_.snapshot_frozen()});
        },
        &error);
  }
  if (!forked) {
    spdlog::warn("snapshot at index {}: {}; writing it on the loop thread instead", applied, error);
    std::string data = encode_state({std::move(membership), store_.snapshot()});
    std::size_t bytes = data.size();
    snapshot_bytes_ = bytes;
    storage_->create_snapshot(applied, meta.conf_state, std::move(data));
    storage_->compact(compact_through(applied));  // a no-op at or below the compacted index
    log_snapshot_taken(applied, bytes, ", on the loop");
    // Building the image allocated store-sized buffers, now freed; glibc keeps freed memory in its
    // arenas (one per thread that ever allocated, and gRPC has many), so without this a member
    // would hold about 1.5x its live heap for good.
    malloc_trim(0);
  }
}

void Node::export_image(Done<ImageFile> done) {
  Image img;
  img.index = applied_.load();
  img.term = term_.load();
  // As in maybe_snapshot: the membership is encoded here, the store in the child.
  std::string membership = membership_.encode();
  std::string error;
  bool forked = false;
  {
    auto frozen = store_.freeze();
    forked = image_exporter_.start(
        img.index, img.term,
        [&] {
          img.state = encode_state({membership, store_.snapshot_frozen()});
          return encode_image(img);
        },
        done, &error);
  }
  if (forked) return;
  spdlog::warn("snapshot image for a client: {}; building it on the loop thread instead", error);
  img.state = encode_state({std::move(membership), store_.snapshot()});
  ImageExporter::export_now(encode_image(img), std::move(done));
}

void Node::finish_snapshot() {
  auto done = snapshot_writer_.poll();
  if (!done) return;
  const raft::Index index = done->metadata.index;
  snapshot_rest_until_ms_ = now_ms() + done->took.count();
  if (!done->ok) {
    spdlog::error("snapshot at index {} failed: {}; the log is kept until the next one", index,
                  done->error);
    return;
  }
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(done->path, ec);
  if (!storage_->adopt_snapshot(done->metadata, compact_through(index))) {
    spdlog::info("snapshot at index {} dropped: a newer one arrived while it was written", index);
    return;
  }
  if (!ec) snapshot_bytes_ = bytes;
  log_snapshot_taken(
      index, ec ? 0 : bytes,
      fmt::format(", written in {} ms beside the loop, which fork() paused {:.1f} ms",
                  done->took.count(), done->fork_pause.count() / 1000.0));
}

raft::Index Node::compact_through(raft::Index snapshot_index) const {
  uint64_t keep = std::min(kCatchUpEntries, std::max<uint64_t>(1, options_.config.snapshot_count));
  return snapshot_index > keep ? snapshot_index - keep : 0;
}

void Node::log_snapshot_taken(raft::Index index, std::size_t bytes, const std::string& how) {
  spdlog::info("snapshot taken at index {} ({} bytes{}); log kept from index {}", index, bytes, how,
               storage_->first_index());
}

void Node::sync_peers() {
  for (const auto& m : membership_.members()) {
    if (m.id != id_) transport_->set_peer(m.id, m.peer_urls);
  }
}

}  // namespace kvserver::node
