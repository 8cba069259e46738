// Rendering systemd units from templates/*.service.in (embedded in the binary at build time).
//
// The template language is one construct: {{name}} is replaced by a value. A placeholder with no
// value is an error (never rendered as empty: a unit with `--name=` would start a broken member).
// Rendering is a pure function of the inventory, the node, the token and the cluster state, so the
// same inputs give the same bytes - which is what lets `up` skip unchanged nodes.
#pragma once

#include <map>
#include <string>

#include "certs/result.h"
#include "provision/inventory.h"

namespace provision {

certs::Result<std::string> render_template(const std::string& text,
                                           const std::map<std::string, std::string>& values,
                                           const std::string& template_name);

// "https://10.0.0.1:2379" or "https://[fd00::1]:2379".
std::string https_url(const std::string& address, int port);

// --initial-cluster: "h1=https://10.0.0.1:2380,h2=..." over every node, in inventory order.
std::string initial_cluster(const Inventory& inv);

enum class ClusterState { kNew, kExisting };

// The unit file for `node`. `token` is the --initial-cluster-token.
certs::Result<std::string> render_unit(const Inventory& inv, const NodeSpec& node,
                                       const std::string& token, ClusterState state);

}  // namespace provision
