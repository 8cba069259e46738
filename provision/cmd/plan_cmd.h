// `provision plan`: Show what `up` would change on each node (files, restarts), touching nothing.
// The work is in provision/steps/verbs.h; this file only wires the flags.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace provision {

void add_plan_command(CLI::App& app, std::function<int()>& run);

}  // namespace provision
