// `provision reset`: Stop and remove the service, certs, binary and data dir from every node (needs
// --yes). The work is in provision/steps/verbs.h; this file only wires the flags.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace provision {

void add_reset_command(CLI::App& app, std::function<int()>& run);

}  // namespace provision
