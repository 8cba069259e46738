#include "kvserver/kv/lease_table.h"

#include <cstdio>
#include <cstdlib>

namespace kv {

Result<int64_t> LeaseTable::grant(int64_t id, int64_t ttl_s, int64_t now_ms) {
  if (ttl_s > kMaxLeaseTtlS) return etcd_error(ErrorCode::kLeaseTtlTooLarge);
  if (id == 0) {
    while (leases_.count(next_auto_id_) != 0)
      ++next_auto_id_;
    id = next_auto_id_++;
  } else if (leases_.count(id) != 0) {
    return etcd_error(ErrorCode::kLeaseExists);
  }
  Lease& l = leases_[id];
  l.ttl_s = ttl_s;
  l.expiry_ms = now_ms + ttl_s * 1000;
  return id;
}

const LeaseTable::Lease* LeaseTable::find(int64_t id) const {
  auto it = leases_.find(id);
  return it == leases_.end() ? nullptr : &it->second;
}

Result<std::set<std::string>> LeaseTable::revoke(int64_t id) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return etcd_error(ErrorCode::kLeaseNotFound);
  std::set<std::string> keys = std::move(it->second.keys);
  leases_.erase(it);
  return keys;
}

Result<int64_t> LeaseTable::keep_alive(int64_t id, int64_t now_ms) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return etcd_error(ErrorCode::kLeaseNotFound);
  it->second.expiry_ms = now_ms + it->second.ttl_s * 1000;
  return it->second.ttl_s;
}

Result<int64_t> LeaseTable::remaining_s(int64_t id, int64_t now_ms) const {
  auto it = leases_.find(id);
  if (it == leases_.end()) return etcd_error(ErrorCode::kLeaseNotFound);
  int64_t left_ms = it->second.expiry_ms - now_ms;
  return left_ms <= 0 ? int64_t{0} : left_ms / 1000;
}

void LeaseTable::attach(int64_t id, const std::string& key) {
  if (id == 0) return;
  auto it = leases_.find(id);
  if (it == leases_.end()) {
    // KvStore checks existence before writing; reaching here means the two fell out of step.
    std::fprintf(stderr, "kv::LeaseTable: attach to unknown lease %lld\n",
                 static_cast<long long>(id));
    std::abort();
  }
  it->second.keys.insert(key);
}

void LeaseTable::detach(int64_t id, const std::string& key) {
  if (id == 0) return;
  auto it = leases_.find(id);
  if (it != leases_.end()) it->second.keys.erase(key);
}

std::vector<int64_t> LeaseTable::expired(int64_t now_ms, std::size_t limit) const {
  // A linear scan: the leader asks a few times a second and lease counts are in the thousands.
  std::vector<int64_t> out;
  for (const auto& [id, l] : leases_) {
    if (out.size() >= limit) break;
    if (l.expiry_ms <= now_ms) out.push_back(id);
  }
  return out;
}

void LeaseTable::promote(int64_t now_ms) {
  for (auto& [id, l] : leases_)
    l.expiry_ms = now_ms + l.ttl_s * 1000;
}

std::vector<int64_t> LeaseTable::ids() const {
  std::vector<int64_t> out;
  out.reserve(leases_.size());
  for (const auto& [id, l] : leases_)
    out.push_back(id);
  return out;
}

void LeaseTable::serialize(Writer& w) const {
  w.i64(next_auto_id_);
  w.u64(leases_.size());
  for (const auto& [id, l] : leases_) {
    w.i64(id);
    w.i64(l.ttl_s);
  }
}

Status LeaseTable::deserialize(Reader& r, int64_t now_ms) {
  std::map<int64_t, Lease> leases;
  int64_t next = r.i64();
  uint64_t n = r.u64();
  if (!r.ok() || n > r.remaining()) return etcd_error(ErrorCode::kBadSnapshot);
  for (uint64_t i = 0; i < n; ++i) {
    int64_t id = r.i64();
    int64_t ttl = r.i64();
    if (!r.ok() || id == 0) return etcd_error(ErrorCode::kBadSnapshot);
    Lease& l = leases[id];
    l.ttl_s = ttl;
    l.expiry_ms = now_ms + ttl * 1000;
  }
  leases_ = std::move(leases);
  next_auto_id_ = next;
  return Ok{};
}

}  // namespace kv
