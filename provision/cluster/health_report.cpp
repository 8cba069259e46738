#include "provision/cluster/health_report.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "provision/table.h"

namespace provision::cluster {

std::string format_member_id(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string format_db_size(int64_t bytes) {
  // go-humanize.Bytes: below 10 plain bytes; otherwise one decimal below 10 units, none above.
  if (bytes < 10) return std::to_string(bytes) + " B";
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  const double e = std::floor(std::log(static_cast<double>(bytes)) / std::log(1000.0));
  const int exp = static_cast<int>(std::min(e, 6.0));
  const double val = std::floor(static_cast<double>(bytes) / std::pow(1000.0, exp) * 10 + 0.5) / 10;
  char buf[32];
  std::snprintf(buf, sizeof buf, val < 10 ? "%.1f %s" : "%.0f %s", val, kUnits[exp]);
  return buf;
}

std::string format_took(double ms) {
  char buf[32];
  if (ms >= 1000) {
    std::snprintf(buf, sizeof buf, "%.2fs", ms / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fms", ms);
  }
  return buf;
}

namespace {

const MemberInfo* find_member(const ClusterReport& report, uint64_t id) {
  for (const auto& m : report.members)
    if (m.id == id) return &m;
  return nullptr;
}

}  // namespace

std::string member_name(const ClusterReport& report, uint64_t id) {
  const MemberInfo* m = find_member(report, id);
  return m ? m->name : "";
}

Verdict evaluate(const ClusterReport& report) {
  Verdict v;
  size_t healthy = 0;
  std::set<uint64_t> leaders_named;
  std::map<uint64_t, std::string> node_of_member;
  std::vector<std::string> problems;
  for (const auto& e : report.endpoints) {
    const bool answered = e.healthy && e.status.has_value();
    if (!answered) {
      v.failing_nodes.push_back(e.node);
      problems.push_back(e.node + ": " + (e.error.empty() ? "no answer" : e.error));
      continue;
    }
    ++healthy;
    node_of_member[e.status->member_id] = e.node;
    leaders_named.insert(e.status->leader);
  }
  uint64_t leader = 0;
  if (healthy == report.endpoints.size() && !report.endpoints.empty()) {
    if (leaders_named.size() != 1 || *leaders_named.begin() == 0) {
      problems.push_back("members disagree on the leader (or have none): " +
                         std::to_string(leaders_named.size()) + " different answers");
    } else {
      leader = *leaders_named.begin();
      if (node_of_member.count(leader) == 0) {
        problems.push_back("the leader " + format_member_id(leader) +
                           " is not one of the inventory's members");
      }
    }
    if (node_of_member.size() != report.endpoints.size()) {
      problems.push_back("two endpoints answered as the same member");
    }
    // A member that answers may not have published its name and client URLs yet (kvserver
    // serves as soon as it has a leader; etcd waits). Until it has, `etcdctl member list` shows
    // it unstarted and `endpoint health --cluster` skips it, so the cluster is not up yet.
    for (const auto& [id, node] : node_of_member) {
      const MemberInfo* m = find_member(report, id);
      if (m == nullptr || m->name.empty() || m->client_urls.empty()) {
        v.failing_nodes.push_back(node);
        problems.push_back(node + ": not started in the member list yet (name and client URLs " +
                           "not published)");
      }
    }
  }
  std::ostringstream s;
  s << healthy << "/" << report.endpoints.size() << " healthy";
  if (problems.empty() && leader != 0) {
    v.ok = true;
    uint64_t term = 0;
    for (const auto& e : report.endpoints)
      if (e.status && e.status->member_id == leader) term = e.status->raft_term;
    s << ", leader " << node_of_member[leader] << " (term " << term << ")";
  } else {
    for (const auto& p : problems)
      s << "; " << p;
  }
  v.summary = s.str();
  return v;
}

std::string render_health_table(const ClusterReport& report) {
  bool any_error = false;
  for (const auto& e : report.endpoints)
    any_error = any_error || !e.error.empty();
  Row header = {"ENDPOINT",  "ID",        "NAME",       "VERSION", "DB SIZE",
                "IS LEADER", "RAFT TERM", "RAFT INDEX", "HEALTH",  "TOOK"};
  if (any_error) header.push_back("ERROR");
  std::vector<Row> rows;
  for (const auto& e : report.endpoints) {
    Row r;
    r.push_back(e.endpoint);
    if (e.status) {
      const MemberStatus& st = *e.status;
      std::string name = member_name(report, st.member_id);
      r.insert(r.end(), {format_member_id(st.member_id), name.empty() ? e.node : name, st.version,
                         format_db_size(st.db_size), st.leader == st.member_id ? "true" : "false",
                         std::to_string(st.raft_term), std::to_string(st.raft_index)});
    } else {
      r.insert(r.end(), {"-", e.node, "-", "-", "-", "-", "-"});
    }
    r.push_back(e.healthy ? "true" : "false");
    r.push_back(e.healthy ? format_took(e.took_ms) : "-");
    if (any_error) r.push_back(e.error);
    rows.push_back(std::move(r));
  }
  return render_table(header, rows);
}

std::string render_health_json(const ClusterReport& report, const Verdict& verdict) {
  std::ostringstream o;
  o << "{\"healthy\":" << (verdict.ok ? "true" : "false")
    << ",\"summary\":" << json_string(verdict.summary) << ",\"members\":[";
  bool first = true;
  for (const auto& e : report.endpoints) {
    if (!first) o << ",";
    first = false;
    o << "{\"node\":" << json_string(e.node) << ",\"endpoint\":" << json_string(e.endpoint)
      << ",\"healthy\":" << (e.healthy ? "true" : "false");
    if (e.healthy) o << ",\"took_ms\":" << e.took_ms;
    if (e.status) {
      const MemberStatus& st = *e.status;
      o << ",\"id\":" << json_string(format_member_id(st.member_id))
        << ",\"name\":" << json_string(member_name(report, st.member_id))
        << ",\"version\":" << json_string(st.version) << ",\"db_size\":" << st.db_size
        << ",\"is_leader\":" << (st.leader == st.member_id ? "true" : "false")
        << ",\"raft_term\":" << st.raft_term << ",\"raft_index\":" << st.raft_index;
    }
    if (!e.error.empty()) o << ",\"error\":" << json_string(e.error);
    o << "}";
  }
  o << "]}";
  return o.str();
}

}  // namespace provision::cluster
