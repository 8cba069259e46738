// The `provision certs ...` verbs: wiring between CLI11 and pki_generate / pki_check.
#pragma once

#include <CLI/CLI.hpp>

namespace provision {

// Adds `certs generate` and `certs check` under `app`; each sets `run` to its action.
void add_certs_commands(CLI::App& app, std::function<int()>& run);

}  // namespace provision
