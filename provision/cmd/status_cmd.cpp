#include "provision/cmd/status_cmd.h"

#include <iostream>
#include <memory>

#include "provision/cmd/common.h"
#include "provision/steps/verbs.h"

namespace provision {
namespace {

struct StatusFlags {
  std::string inventory;
  bool accept_new_host_keys = false;
  std::string output = "table";
};

int run_status_cmd(const StatusFlags& f) {
  auto inv = load_inventory(f.inventory);
  if (!inv) return report_error(inv.error());
  steps::VerbOptions o;
  o.accept_new_host_keys = f.accept_new_host_keys;
  o.output = f.output;
  return steps::run_status(*inv, o, std::cout, std::cerr);
}

}  // namespace

void add_status_command(CLI::App& app, std::function<int()>& run) {
  auto f = std::make_shared<StatusFlags>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "Health and status of every member over mTLS (exit 0 only when all are healthy with one "
      "leader)");
  add_inventory_option(*cmd, f->inventory);
  cmd->add_flag("--accept-new-host-keys", f->accept_new_host_keys,
                "Record unknown SSH host keys (SSH is used only to diagnose a sick member)");
  cmd->add_option("-o,--output", f->output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([&run, f] { run = [f] { return run_status_cmd(*f); }; });
}

}  // namespace provision
