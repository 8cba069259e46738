// `provision status`: Health and status of every member (exit 0 only when all are healthy with one
// leader). The work is in provision/steps/verbs.h; this file only wires the flags.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace provision {

void add_status_command(CLI::App& app, std::function<int()>& run);

}  // namespace provision
