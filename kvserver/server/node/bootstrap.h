// Bootstrap: how a starting member learns who it is, decided from its flags and its data dir.
//
//   data dir has member metadata       -> restart with the stored ids (the token must match)
//   fresh data dir, --initial-cluster-state new      -> form the cluster from --initial-cluster:
//       every member derives the same member ids and cluster id (membership.h) and writes the
//       same bootstrap log (one AddVoter entry per member, term 1, committed), as etcd does
//   fresh data dir, --initial-cluster-state existing -> join as the member MemberAdd created: the
//       id is derived from our own peer URLs and the token; the cluster id and the membership
//       arrive with the leader's log or snapshot
//   WAL present but no metadata -> refused (a crash between the two, or a foreign dir)
//
// On-disk format: <data-dir>/member/meta, text lines "key=value": token, member_id, cluster_id
// (ids in hex). Written once (temp file + fsync + rename + dir fsync) after the bootstrap log.
//
// Thread-safety: pure functions plus file I/O with no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certs/result.h"
#include "kvserver/server/flags.h"
#include "kvserver/server/node_api.h"

namespace kvserver::node {

struct MemberMeta {
  std::string token;
  uint64_t member_id = 0;
  uint64_t cluster_id = 0;  // 0 for a joining member until it learns it
};

struct BootstrapPlan {
  enum class Kind { kRestart, kNewCluster, kJoin };
  Kind kind = Kind::kRestart;
  uint64_t member_id = 0;
  uint64_t cluster_id = 0;
  std::vector<Member> initial_members;  // kNewCluster: in --initial-cluster order
};

// The decision above. `meta` is what the data dir holds; `log_empty` whether its WAL has no entry
// and no snapshot.
certs::Result<BootstrapPlan> plan_bootstrap(const server::ServerConfig& config,
                                            const std::optional<MemberMeta>& meta, bool log_empty);

std::string meta_path(const std::string& data_dir);
// nullopt when the file does not exist; Error when it exists but is unreadable or malformed.
certs::Result<std::optional<MemberMeta>> read_meta(const std::string& data_dir);
certs::Status write_meta(const std::string& data_dir, const MemberMeta& meta);

}  // namespace kvserver::node
