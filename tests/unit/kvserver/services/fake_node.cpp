#include "tests/unit/kvserver/services/fake_node.h"

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <type_traits>
#include <utility>

#include "kvserver/server/services/api_errors.h"

namespace kvserver::services::testing {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

FakeNode::FakeNode() {
  members_.push_back(Member{kMemberId, "node-1", {"http://127.0.0.1:2380"}, {}, false});
  apply_thread_ = std::thread([this] { apply_loop(); });
}

FakeNode::~FakeNode() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  apply_thread_.join();
}

void FakeNode::run_on_apply_thread(std::function<void()> job) {
  {
    std::lock_guard lk(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void FakeNode::apply_loop() {
  std::unique_lock lk(mu_);
  while (true) {
    // Wake at least every 50 ms to expire leases, as the real leader's lessor does.
    cv_.wait_for(lk, std::chrono::milliseconds(50), [this] { return stop_ || !jobs_.empty(); });
    if (stop_ && jobs_.empty()) return;
    std::deque<std::function<void()>> batch;
    batch.swap(jobs_);
    lk.unlock();
    for (auto& job : batch)
      job();
    for (int64_t id : store_.expired_leases(now_ms(), 100))
      (void)store_.lease_revoke(id);
    lk.lock();
  }
}

WriteResponse FakeNode::apply(const WriteRequest& request, std::optional<kv::Error>& error) {
  auto take = [&error](auto result) {
    using T = std::decay_t<decltype(result.value())>;
    if (!result.ok()) {
      error = result.error();
      return T{};
    }
    return std::move(result).value();
  };
  return std::visit(
      [&](const auto& r) -> WriteResponse {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, kv::PutRequest>) {
          return take(store_.put(r));
        } else if constexpr (std::is_same_v<T, kv::DeleteRangeRequest>) {
          return take(store_.delete_range(r));
        } else if constexpr (std::is_same_v<T, kv::TxnRequest>) {
          return take(store_.txn(r));
        } else if constexpr (std::is_same_v<T, CompactRequest>) {
          return take(store_.compact(r.revision));
        } else if constexpr (std::is_same_v<T, LeaseGrantRequest>) {
          return take(store_.lease_grant(r.id, r.ttl_s, now_ms()));
        } else {
          auto rev = store_.lease_revoke(r.id);
          if (!rev.ok()) {
            error = rev.error();
            return LeaseRevokeResponse{};
          }
          return LeaseRevokeResponse{rev.value()};
        }
      },
      request);
}

void FakeNode::write(WriteRequest request, Done<WriteResponse> done) {
  if (!has_leader_) {
    done(no_leader());
    return;
  }
  run_on_apply_thread([this, request = std::move(request), done = std::move(done)] {
    std::optional<kv::Error> error;
    WriteResponse resp = apply(request, error);
    applied_index_.fetch_add(1);
    writes_applied_.fetch_add(1);
    if (error) {
      done(to_api_error(*error));
    } else {
      done(std::move(resp));
    }
  });
}

void FakeNode::read_barrier(std::function<void(std::optional<ApiError>)> done) {
  if (!has_leader_) {
    done(no_leader());
    return;
  }
  run_on_apply_thread([done = std::move(done)] { done(std::nullopt); });
}

Header FakeNode::header() const {
  return Header{kClusterId, kMemberId, store_.revision(), kTerm};
}

void FakeNode::lease_keep_alive(int64_t id, Done<int64_t> done) {
  auto ttl = store_.lease_keep_alive(id, now_ms());
  if (!ttl.ok()) {
    done(to_api_error(ttl.error()));
    return;
  }
  done(ttl.value());
}

void FakeNode::lease_time_to_live(int64_t id, bool keys, Done<kv::LeaseTimeToLiveResponse> done) {
  auto r = store_.lease_time_to_live(id, keys, now_ms());
  if (!r.ok()) {
    done(to_api_error(r.error()));
    return;
  }
  done(std::move(r).value());
}

std::vector<Member> FakeNode::members() const {
  std::lock_guard lk(members_mu_);
  return members_;
}

void FakeNode::member_add(std::vector<std::string> peer_urls, bool is_learner,
                          Done<MemberChangeResult> done) {
  MemberChangeResult result;
  {
    std::lock_guard lk(members_mu_);
    result.member = Member{next_member_id_++, "", std::move(peer_urls), {}, is_learner};
    members_.push_back(result.member);
    result.members = members_;
  }
  done(std::move(result));
}

void FakeNode::member_remove(uint64_t id, Done<MemberChangeResult> done) {
  MemberChangeResult result;
  {
    std::lock_guard lk(members_mu_);
    auto it = std::find_if(members_.begin(), members_.end(),
                           [id](const Member& m) { return m.id == id; });
    if (it == members_.end()) {
      done(ApiError{ApiCode::kNotFound, "etcdserver: member not found"});
      return;
    }
    result.member = *it;
    members_.erase(it);
    result.members = members_;
  }
  done(std::move(result));
}

void FakeNode::member_update(uint64_t id, std::vector<std::string> peer_urls,
                             Done<MemberChangeResult> done) {
  MemberChangeResult result;
  {
    std::lock_guard lk(members_mu_);
    for (auto& m : members_) {
      if (m.id == id) {
        m.peer_urls = peer_urls;
        result.member = m;
      }
    }
    if (result.member.id == 0) {
      done(ApiError{ApiCode::kNotFound, "etcdserver: member not found"});
      return;
    }
    result.members = members_;
  }
  done(std::move(result));
}

void FakeNode::member_promote(uint64_t id, Done<MemberChangeResult> done) {
  MemberChangeResult result;
  {
    std::lock_guard lk(members_mu_);
    for (auto& m : members_) {
      if (m.id == id && m.is_learner) {
        m.is_learner = false;
        result.member = m;
      }
    }
    if (result.member.id == 0) {
      done(ApiError{ApiCode::kFailedPrecondition,
                    "etcdserver: can only promote a learner member which is in sync with leader"});
      return;
    }
    result.members = members_;
  }
  done(std::move(result));
}

NodeStatus FakeNode::status() const {
  NodeStatus s;
  s.member_id = kMemberId;
  s.leader = has_leader_ ? kMemberId : 0;
  s.raft_term = kTerm;
  s.raft_index = applied_index_.load();
  s.raft_applied_index = applied_index_.load();
  s.db_size = static_cast<int64_t>(store_.size_bytes());
  s.db_size_in_use = s.db_size;
  return s;
}

void FakeNode::move_leader(uint64_t target_id, std::function<void(std::optional<ApiError>)> done) {
  if (target_id != kMemberId) {
    done(ApiError{ApiCode::kNotFound, "etcdserver: bad leader transferee"});
    return;
  }
  done(std::nullopt);
}

void FakeNode::snapshot_image(Done<ImageFile> done) {
  // A few bytes before the image, as the real node's file has its header there: the stream must
  // start at `offset`.
  const std::string image = store_.snapshot();
  const std::string file = "header:" + image + "crc!";
  const int fd = ::memfd_create("fake-image", MFD_CLOEXEC);
  if (fd < 0 || ::write(fd, file.data(), file.size()) != static_cast<ssize_t>(file.size())) {
    if (fd >= 0) ::close(fd);
    done(ApiError{ApiCode::kInternal, "fake node: memfd"});
    return;
  }
  done(ImageFile(fd, 7, image.size()));
}

}  // namespace kvserver::services::testing
