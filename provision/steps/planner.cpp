#include "provision/steps/planner.h"

#include <cstdio>

namespace provision::steps {

namespace {
constexpr const char* kOwner = "root:root";

std::string size_text(size_t bytes) {
  char buf[32];
  if (bytes >= 1000 * 1000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  } else if (bytes >= 1000) {
    std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(bytes) / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%zu B", bytes);
  }
  return buf;
}

}  // namespace

std::string mode_text(int mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%o", mode);
  return buf;
}

bool NodePlan::content_changed() const {
  for (const auto& w : writes)
    if (w.change != Change::kFixMetadata) return true;
  return false;
}

bool NodePlan::changes_anything() const {
  return !writes.empty() || fix_data_dir || enable || action != ServiceAction::kNone;
}

NodePlan plan_node(const NodeInputs& inputs, const NodeFacts& facts, bool another_node_has_member) {
  NodePlan plan;
  plan.node = inputs.node->name;
  auto remote = [&facts](const std::string& path) -> std::optional<RemoteFile> {
    auto it = facts.files.find(path);
    return it == facts.files.end() ? std::nullopt : it->second;
  };

  const std::optional<RemoteFile> unit_now = remote(inputs.unit_new.remote_path);
  if (unit_now && unit_now->sha256 == inputs.unit_existing.sha256) {
    plan.state = ClusterState::kExisting;
  } else if (unit_now && unit_now->sha256 == inputs.unit_new.sha256) {
    plan.state = ClusterState::kNew;
  } else {
    plan.state = !facts.data_dir_has_member && another_node_has_member ? ClusterState::kExisting
                                                                       : ClusterState::kNew;
  }
  std::vector<const DesiredFile*> files;
  for (const auto& f : inputs.fixed)
    files.push_back(&f);
  files.push_back(plan.state == ClusterState::kNew ? &inputs.unit_new : &inputs.unit_existing);

  for (const DesiredFile* f : files) {
    const std::optional<RemoteFile> now = remote(f->remote_path);
    if (!now) {
      plan.writes.push_back({*f, Change::kCreate});
    } else if (now->sha256 != f->sha256) {
      plan.writes.push_back({*f, Change::kUpdate});
    } else if (now->mode != mode_text(f->mode) || now->owner != kOwner) {
      plan.writes.push_back({*f, Change::kFixMetadata});
    } else {
      continue;
    }
    if (f->label == "unit" && plan.writes.back().change != Change::kFixMetadata)
      plan.unit_changed = true;
  }
  plan.fix_data_dir = !facts.data_dir_exists || facts.data_dir_mode != "700";
  plan.enable = facts.unit_enabled != "enabled";
  if (!facts.unit_running()) {
    plan.action = ServiceAction::kStart;
  } else if (plan.content_changed()) {
    plan.action = ServiceAction::kRestart;
  }
  return plan;
}

std::vector<NodePlan> plan_cluster(const std::vector<NodeInputs>& inputs,
                                   const std::vector<NodeFacts>& facts) {
  std::vector<NodePlan> out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    bool other = false;
    for (size_t j = 0; j < facts.size(); ++j)
      other = other || (j != i && facts[j].data_dir_has_member);
    out.push_back(plan_node(inputs[i], facts[i], other));
  }
  return out;
}

std::vector<std::string> describe(const NodePlan& plan, const std::string& unit) {
  std::vector<std::string> lines;
  for (const auto& w : plan.writes) {
    switch (w.change) {
      case Change::kCreate:
        lines.push_back("create " + w.file.remote_path + " (" + size_text(w.file.bytes->size()) +
                        ")");
        break;
      case Change::kUpdate:
        lines.push_back("update " + w.file.remote_path + " (" + size_text(w.file.bytes->size()) +
                        ")");
        break;
      case Change::kFixMetadata:
        lines.push_back("chmod/chown " + w.file.remote_path + " (" + mode_text(w.file.mode) + " " +
                        kOwner + ")");
        break;
    }
  }
  if (plan.fix_data_dir) lines.push_back("create data dir (0700)");
  if (plan.enable) lines.push_back("enable " + unit);
  if (plan.action == ServiceAction::kStart) lines.push_back("start " + unit);
  if (plan.action == ServiceAction::kRestart) lines.push_back("restart " + unit);
  return lines;
}

}  // namespace provision::steps
