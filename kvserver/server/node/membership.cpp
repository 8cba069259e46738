#include "kvserver/server/node/membership.h"

#include <algorithm>
#include <cstdio>

#include "kvserver/kv/codec.h"
#include "kvserver/server/node/command.h"

namespace kvserver::node {
namespace {

uint64_t fnv1a64(uint64_t h, std::string_view data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}
constexpr uint64_t kFnv64Seed = 14695981039346656037ull;

}  // namespace

uint64_t derive_member_id(std::vector<std::string> peer_urls, std::string_view token) {
  std::sort(peer_urls.begin(), peer_urls.end());
  uint64_t h = kFnv64Seed;
  for (const auto& u : peer_urls) {
    h = fnv1a64(h, u);
    h = fnv1a64(h, ",");  // separator: {"ab"} and {"a","b"} must differ
  }
  h = fnv1a64(h, token);
  return h == 0 ? 1 : h;  // 0 means "no member" in Raft
}

uint64_t derive_cluster_id(std::vector<uint64_t> member_ids) {
  std::sort(member_ids.begin(), member_ids.end());
  uint64_t h = kFnv64Seed;
  for (uint64_t id : member_ids) {
    char buf[8];
    for (int i = 0; i < 8; ++i)
      buf[i] = static_cast<char>(id >> (8 * i));
    h = fnv1a64(h, std::string_view(buf, 8));
  }
  return h == 0 ? 1 : h;
}

std::vector<Member> Membership::members() const {
  std::lock_guard lock(mu_);
  std::vector<Member> out;
  for (const auto& [id, m] : members_)
    out.push_back(m);
  return out;
}

std::optional<Member> Membership::find(uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  return it->second;
}

std::optional<Member> Membership::find_by_peer_url(const std::string& url) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, m] : members_) {
    if (std::find(m.peer_urls.begin(), m.peer_urls.end(), url) != m.peer_urls.end()) return m;
  }
  return std::nullopt;
}

uint64_t Membership::cluster_id() const {
  std::lock_guard lock(mu_);
  return cluster_id_;
}

std::size_t Membership::learner_count() const {
  std::lock_guard lock(mu_);
  return std::count_if(members_.begin(), members_.end(),
                       [](const auto& p) { return p.second.is_learner; });
}

void Membership::set_cluster_id(uint64_t id) {
  std::lock_guard lock(mu_);
  cluster_id_ = id;
}

void Membership::upsert(const Member& m) {
  std::lock_guard lock(mu_);
  members_[m.id] = m;
}

void Membership::remove(uint64_t id) {
  std::lock_guard lock(mu_);
  members_.erase(id);
}

std::string Membership::encode() const {
  std::lock_guard lock(mu_);
  kv::Writer w;
  w.u64(cluster_id_);
  w.u64(members_.size());
  for (const auto& [id, m] : members_)
    w.bytes(encode_member(m));
  return std::move(w.out());
}

bool Membership::decode(std::string_view data) {
  kv::Reader r(data);
  uint64_t cluster_id = r.u64();
  uint64_t n = r.u64();
  if (!r.ok() || n > r.remaining()) return false;
  std::map<uint64_t, Member> members;
  for (uint64_t i = 0; i < n; ++i) {
    auto m = decode_member(r.bytes());
    if (!r.ok() || !m) return false;
    members[m->id] = std::move(*m);
  }
  if (!r.at_end()) return false;
  std::lock_guard lock(mu_);
  cluster_id_ = cluster_id;
  members_ = std::move(members);
  return true;
}

std::string id_hex(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace kvserver::node
