// Shared by the steps tests: a small inventory and NodeInputs built from literal bytes, so the
// planner can be driven without reading a PKI.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "provision/inventory.h"
#include "provision/ssh/upload.h"
#include "provision/steps/desired.h"

namespace steps_test {

inline provision::Inventory inventory(const std::string& nodes_yaml) {
  auto inv = provision::parse_inventory(
      "cluster: {name: demo}\nserver: {flavor: etcd, binary: /usr/bin/etcd}\nnodes:\n" + nodes_yaml,
      "/tmp/inv.yaml");
  REQUIRE(inv.ok());
  return std::move(*inv);
}

inline provision::steps::DesiredFile file(const std::string& label, const std::string& path,
                                          const std::string& bytes, int mode) {
  provision::steps::DesiredFile f;
  f.label = label;
  f.remote_path = path;
  f.bytes = std::make_shared<const std::string>(bytes);
  f.sha256 = provision::ssh::sha256_hex(bytes);
  f.mode = mode;
  return f;
}

}  // namespace steps_test
