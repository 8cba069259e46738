// `provision render`: write every node's systemd unit locally, to read or review before `up`.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace provision {

void add_render_command(CLI::App& app, std::function<int()>& run);

}  // namespace provision
