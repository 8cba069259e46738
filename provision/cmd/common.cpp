#include "provision/cmd/common.h"

#include <iostream>
#include <sstream>

namespace provision {

void add_inventory_option(CLI::App& cmd, std::string& path) {
  cmd.add_option("-i,--inventory", path, "The inventory YAML (see inventory.example.yaml)")
      ->required();
}

int report_error(const certs::Error& error) {
  std::istringstream lines(error.message);
  for (std::string line; std::getline(lines, line);)
    std::cerr << "provision: " << line << "\n";
  return kExitUsage;
}

}  // namespace provision
