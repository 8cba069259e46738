// What every verb shares: the -i/--inventory option and how errors reach the user.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "certs/result.h"

namespace provision {

// Exit codes: 0 success, 1 the operation ran and something is not right, 2 bad usage or input.
constexpr int kExitNotOk = 1;
constexpr int kExitUsage = 2;

void add_inventory_option(CLI::App& cmd, std::string& path);

// Prints "provision: <message>" (one line per line of the message) to stderr; returns kExitUsage.
int report_error(const certs::Error& error);

}  // namespace provision
