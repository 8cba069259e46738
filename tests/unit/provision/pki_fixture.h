// An inventory in a temp dir, for the PKI tests of provision.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "certs/file_io.h"
#include "provision/inventory.h"
#include "provision/pki_generate.h"
#include "tests/support/test_support.h"

namespace pki_test {

using namespace std::chrono_literals;

inline certs::TimePoint now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

struct Workspace {
  test_support::TempDir dir;
  std::string inventory_path = dir / "inv.yaml";

  // Writes an inventory with nodes h1..hN and loads it.
  provision::Inventory inventory(int nodes = 2, const std::string& extra = "",
                                 const std::string& h1_extra_sans = "[]") {
    std::string yaml = "cluster: {name: demo}\n" + extra + "nodes:\n";
    for (int i = 1; i <= nodes; ++i) {
      yaml += "  - {name: h" + std::to_string(i) + ", address: 10.0.0." + std::to_string(i) +
              ", dns: [h" + std::to_string(i) +
              "], extra_sans: " + (i == 1 ? h1_extra_sans : "[]") + "}\n";
    }
    REQUIRE(certs::atomic_write(inventory_path, yaml, 0644));
    auto inv = provision::load_inventory(inventory_path);
    REQUIRE(inv.ok());
    return std::move(*inv);
  }
  std::string pki(const std::string& rel) const { return dir / ("pki/" + rel); }
};

// path -> "created" / "kept" / "reissued (reason)"
inline std::map<std::string, std::string> by_path(const std::vector<provision::FileOutcome>& v,
                                                  const std::string& pki_dir) {
  std::map<std::string, std::string> out;
  for (const auto& o : v) {
    std::string rel = o.path.substr(pki_dir.size() + 1);
    out[rel] = o.action == provision::FileAction::kCreated ? "created"
               : o.action == provision::FileAction::kKept  ? "kept"
                                                           : "reissued (" + o.reason + ")";
  }
  return out;
}

inline std::map<std::string, std::string> generate(const provision::Inventory& inv,
                                                   certs::TimePoint at = now(),
                                                   bool new_ca = false) {
  auto r = provision::generate_pki(inv, {new_ca, at});
  if (!r.ok()) FAIL(r.error().message);
  return by_path(*r, inv.pki.dir);
}

}  // namespace pki_test
