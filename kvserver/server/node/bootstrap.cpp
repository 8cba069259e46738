#include "kvserver/server/node/bootstrap.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>

#include "kvserver/server/node/membership.h"
#include "kvserver/storage/file_util.h"

namespace kvserver::node {
namespace {

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

certs::Result<BootstrapPlan> plan_bootstrap(const server::ServerConfig& config,
                                            const std::optional<MemberMeta>& meta, bool log_empty) {
  BootstrapPlan plan;
  if (meta) {
    if (meta->token != config.initial_cluster_token) {
      return certs::Error("data dir " + config.data_dir + " belongs to the cluster with token '" +
                          meta->token + "', but --initial-cluster-token is '" +
                          config.initial_cluster_token +
                          "': start with the original token, or remove the data dir to join "
                          "this cluster as a new member (member add + --initial-cluster-state "
                          "existing)");
    }
    if (config.initial_cluster_state == "new" && meta->cluster_id != 0 && !config.cluster.empty()) {
      // A restart normally ignores --initial-cluster (etcd does too), except that a data dir
      // formed for a different "new" cluster must not silently join this one.
      std::vector<uint64_t> ids;
      std::map<std::string, std::vector<std::string>> by_name;
      for (const auto& cm : config.cluster)
        by_name[cm.name].push_back(cm.peer_url.text);
      for (const auto& [name, urls] : by_name)
        ids.push_back(derive_member_id(urls, meta->token));
      bool self_listed = false;
      for (uint64_t id : ids)
        self_listed = self_listed || id == meta->member_id;
      // A member that joined later is not in the original list and keeps its data dir.
      if (self_listed && derive_cluster_id(ids) != meta->cluster_id) {
        return certs::Error("data dir " + config.data_dir + " belongs to cluster " +
                            hex(meta->cluster_id) + ", but --initial-cluster describes cluster " +
                            hex(derive_cluster_id(ids)) +
                            ": start with the data dir's original --initial-cluster, or remove "
                            "the data dir to form the new cluster");
      }
    }
    plan.kind = BootstrapPlan::Kind::kRestart;
    plan.member_id = meta->member_id;
    plan.cluster_id = meta->cluster_id;
    return plan;
  }
  if (!log_empty) {
    return certs::Error("data dir " + config.data_dir +
                        " holds a Raft log but no member metadata (" + meta_path(config.data_dir) +
                        "): it was not written by a complete kvserver start; remove the data dir "
                        "and start again");
  }
  std::vector<std::string> own_urls;
  for (const auto& u : config.advertise_peer)
    own_urls.push_back(u.text);
  plan.member_id = derive_member_id(own_urls, config.initial_cluster_token);
  if (config.initial_cluster_state == "existing") {
    plan.kind = BootstrapPlan::Kind::kJoin;
    return plan;
  }
  plan.kind = BootstrapPlan::Kind::kNewCluster;
  // --initial-cluster may name a member once per URL: group them, keeping first-seen order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> by_name;
  for (const auto& cm : config.cluster) {
    if (!by_name.count(cm.name)) order.push_back(cm.name);
    by_name[cm.name].push_back(cm.peer_url.text);
  }
  std::vector<uint64_t> ids;
  bool found_self = false;
  for (const auto& name : order) {
    Member m;
    m.id = derive_member_id(by_name[name], config.initial_cluster_token);
    m.peer_urls = by_name[name];
    // Names become visible when each member publishes them (etcd shows a member "unstarted"
    // until then), but the bootstrap list already knows them: keep them.
    m.name = name;
    // No client URLs here: every member must write byte-identical bootstrap entries, and only
    // each member knows its own client URLs; it publishes them through the log after start.
    if (m.id == plan.member_id) found_self = true;
    ids.push_back(m.id);
    plan.initial_members.push_back(std::move(m));
  }
  if (!found_self) {
    return certs::Error(
        "--initial-cluster does not list this member's "
        "--initial-advertise-peer-urls under --name " +
        config.name + ": list exactly the same URLs there");
  }
  plan.cluster_id = derive_cluster_id(ids);
  return plan;
}

std::string meta_path(const std::string& data_dir) {
  return data_dir + "/member/meta";
}

certs::Result<std::optional<MemberMeta>> read_meta(const std::string& data_dir) {
  std::string path = meta_path(data_dir);
  if (::access(path.c_str(), F_OK) != 0) return std::optional<MemberMeta>{};
  auto text = storage::read_file(path);
  if (!text) return certs::Error("cannot read " + path + ": " + text.error().message);
  MemberMeta meta;
  std::istringstream in(*text);
  std::string line;
  int seen = 0;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "token") {
      meta.token = value;
      seen |= 1;
    } else if (key == "member_id") {
      meta.member_id = std::strtoull(value.c_str(), nullptr, 16);
      seen |= 2;
    } else if (key == "cluster_id") {
      meta.cluster_id = std::strtoull(value.c_str(), nullptr, 16);
      seen |= 4;
    }
  }
  if (seen != 7 || meta.member_id == 0) {
    return certs::Error(path +
                        " is malformed (needs token, member_id, cluster_id): remove the "
                        "data dir and start the member again");
  }
  return std::optional<MemberMeta>(meta);
}

certs::Status write_meta(const std::string& data_dir, const MemberMeta& meta) {
  std::string dir = data_dir + "/member";
  if (auto s = storage::ensure_dir(dir); !s) return s;
  std::string text = "token=" + meta.token + "\nmember_id=" + hex(meta.member_id) +
                     "\ncluster_id=" + hex(meta.cluster_id) + "\n";
  std::string tmp = meta_path(data_dir) + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return certs::Error("cannot create " + tmp + ": " + std::strerror(errno));
  storage::pwrite_all(fd, text, 0, tmp);
  storage::fullsync(fd, tmp);
  ::close(fd);
  if (::rename(tmp.c_str(), meta_path(data_dir).c_str()) != 0) {
    return certs::Error("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  storage::sync_dir(dir);
  return certs::ok_status();
}

}  // namespace kvserver::node
