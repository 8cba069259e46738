// Membership: the cluster's members (id, name, peer/client URLs, learner flag) and the cluster id,
// as the applied log says them; plus the etcd-style id derivation every member agrees on.
//
// Ids (etcd's scheme, with FNV-1a 64 instead of SHA-1 - any stable hash works as long as every
// member uses the same one): a member id hashes its sorted peer URLs and the cluster token, so a
// member started with `--initial-cluster-state existing` computes the same id the MemberAdd that
// admitted it computed, without asking anyone. The cluster id hashes the sorted initial member ids.
//
// The apply thread changes it (only while applying committed entries, so every member holds the
// same membership at the same index); any thread reads. Encoded into snapshots (encode()/decode()).
//
// Thread-safety: all methods are thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kvserver/server/node_api.h"

namespace kvserver::node {

uint64_t derive_member_id(std::vector<std::string> peer_urls, std::string_view token);
uint64_t derive_cluster_id(std::vector<uint64_t> member_ids);

class Membership {
 public:
  std::vector<Member> members() const;
  std::optional<Member> find(uint64_t id) const;
  // The member whose peer URLs include `url`, if any.
  std::optional<Member> find_by_peer_url(const std::string& url) const;
  uint64_t cluster_id() const;
  std::size_t learner_count() const;

  void set_cluster_id(uint64_t id);
  // Adds or replaces (by id).
  void upsert(const Member& m);
  void remove(uint64_t id);

  std::string encode() const;
  bool decode(std::string_view data);  // replaces the whole content; false: malformed

 private:
  mutable std::mutex mu_;
  uint64_t cluster_id_ = 0;
  std::map<uint64_t, Member> members_;
};

// A member or cluster id as etcd prints it in logs and errors: lowercase hex, no padding.
std::string id_hex(uint64_t id);

}  // namespace kvserver::node
