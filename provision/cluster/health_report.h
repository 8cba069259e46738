// What `provision up` (verify step) and `provision status` say about a running cluster: one row per
// inventory node with the answers of its member (health, Maintenance.Status, member name from
// MemberList), the verdict, and the two output forms (table, JSON).
//
// The verdict is the product's definition of "healthy": every member answered a linearizable read
// and its status, they all name the same leader, and that leader is exactly one of them. Anything
// else names the nodes at fault and why, so the caller can point the user at them.
//
// Thread-safety: pure functions over plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "provision/cluster/etcd_client.h"

namespace provision::cluster {

struct EndpointReport {
  std::string node;  // inventory name
  std::string endpoint;
  bool healthy = false;  // the linearizable read succeeded
  std::string error;     // why not healthy, or why status failed; empty when all went well
  double took_ms = 0;    // the health read's round trip
  std::optional<MemberStatus> status;
};

struct ClusterReport {
  std::vector<EndpointReport> endpoints;  // inventory order
  std::vector<MemberInfo> members;        // MemberList from the first member that answered
};

struct Verdict {
  bool ok = false;
  std::string summary;                     // one line: "3/3 healthy, leader h2 (term 2)"
  std::vector<std::string> failing_nodes;  // nodes to report on (journal) when !ok
};

Verdict evaluate(const ClusterReport& report);

// The member name for an id, from MemberList; "" when unknown.
std::string member_name(const ClusterReport& report, uint64_t id);

// ENDPOINT ID NAME VERSION DB SIZE IS LEADER RAFT TERM RAFT INDEX HEALTH TOOK, with ERROR added
// when any row has one.
std::string render_health_table(const ClusterReport& report);
// {"healthy":bool,"summary":..,"members":[{"endpoint":..,"id":"hex",...}]}
std::string render_health_json(const ClusterReport& report, const Verdict& verdict);

// Sizes the way etcdctl prints DB SIZE (SI units, go-humanize): 20480 -> "20 kB", 1500 -> "1.5 kB".
std::string format_db_size(int64_t bytes);
// "4.7ms", "1.2s".
std::string format_took(double ms);
// 16 lower-case hex digits without leading zeros, as etcdctl prints member ids.
std::string format_member_id(uint64_t id);

}  // namespace provision::cluster
