// `provision up`: Stand up (or converge) the cluster: preflight, certs, render, push, start,
// verify. The work is in provision/steps/verbs.h; this file only wires the flags.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace provision {

void add_up_command(CLI::App& app, std::function<int()>& run);

}  // namespace provision
