// The step planner: from what a node should hold (desired.h) and what it holds (node_facts.h),
// decide - without touching anything - which files to write, whether the unit must be enabled, and
// whether the service must be started or restarted. `up` executes a plan; `plan` prints it.
//
// Rules (why each exists):
//   - A file is written when absent or its sha256 differs; a file with the right bytes but another
//     mode/owner is only chmod/chown'ed (no restart: the server reads the same bytes).
//   - initial-cluster-state: a unit already on the node that equals either rendering is kept as it
//     is, so a member's unit never changes (and it never restarts) just because the cluster came
//     into being. Otherwise "new", unless this node's data dir is empty while another node's holds
//     a member: then the cluster exists and this member must join it ("existing"); etcd ignores the
//     flag once its data dir holds a member.
//   - Service: not running -> start (all such nodes at once, --no-block); running with changed
//     content -> restart (one node at a time, gated on cluster health); else nothing.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "provision/render.h"
#include "provision/steps/desired.h"
#include "provision/steps/node_facts.h"

namespace provision::steps {

enum class Change { kCreate, kUpdate, kFixMetadata };
enum class ServiceAction { kNone, kStart, kRestart };

struct FileWrite {
  DesiredFile file;
  Change change = Change::kCreate;
};

struct NodePlan {
  std::string node;
  ClusterState state = ClusterState::kNew;
  std::vector<FileWrite> writes;
  bool fix_data_dir = false;  // create it, or set its mode to 0700
  bool unit_changed = false;  // needs daemon-reload
  bool enable = false;        // not enabled yet
  ServiceAction action = ServiceAction::kNone;

  bool content_changed() const;  // any write other than a metadata fix
  bool changes_anything() const;
};

// `mode` as stat %a prints it: 0644 -> "644".
std::string mode_text(int mode);

NodePlan plan_node(const NodeInputs& inputs, const NodeFacts& facts, bool another_node_has_member);

// Plans every node; `facts` is in the same order as `inputs`.
std::vector<NodePlan> plan_cluster(const std::vector<NodeInputs>& inputs,
                                   const std::vector<NodeFacts>& facts);

// Human lines for `plan` and `up`: "create /etc/etcd/ca.crt (1.2 kB)", "restart etcd.service".
std::vector<std::string> describe(const NodePlan& plan, const std::string& unit);

}  // namespace provision::steps
