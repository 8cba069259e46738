// provision: stand up and run a secure Raft key-value cluster from one inventory.
// This file only assembles the verbs; each lives in its own *_cmd.cpp.
#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>

#include "provision/cmd/certs_cmd.h"
#include "provision/cmd/common.h"
#include "provision/cmd/plan_cmd.h"
#include "provision/cmd/render_cmd.h"
#include "provision/cmd/reset_cmd.h"
#include "provision/cmd/status_cmd.h"
#include "provision/cmd/up_cmd.h"

namespace {
constexpr const char* kVersion = "0.1.0";
}

int main(int argc, char** argv) {
  CLI::App app{
      "provision: stand up and run a secure Raft key-value cluster (etcd API) from one "
      "inventory"};
  app.set_version_flag("--version", std::string("provision ") + kVersion);
  app.require_subcommand(1);
  std::function<int()> run;
  provision::add_certs_commands(app, run);
  provision::add_render_command(app, run);
  provision::add_up_command(app, run);
  provision::add_status_command(app, run);
  provision::add_plan_command(app, run);
  provision::add_reset_command(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return provision::kExitUsage;
  }
  try {
    return run ? run() : provision::kExitUsage;
  } catch (const std::exception& e) {
    // Library exceptions are caught at the edge; reaching here is a bug, but never a crash.
    std::cerr << "provision: internal error: " << e.what() << "\n";
    return 70;
  }
}
