#include "provision/cmd/plan_cmd.h"

#include <iostream>
#include <memory>

#include "provision/cmd/common.h"
#include "provision/steps/verbs.h"

namespace provision {
namespace {

struct PlanFlags {
  std::string inventory;
  bool accept_new_host_keys = false;
};

int run_plan_cmd(const PlanFlags& f) {
  auto inv = load_inventory(f.inventory);
  if (!inv) return report_error(inv.error());
  steps::VerbOptions o;
  o.accept_new_host_keys = f.accept_new_host_keys;
  return steps::run_plan(*inv, o, std::cout, std::cerr);
}

}  // namespace

void add_plan_command(CLI::App& app, std::function<int()>& run) {
  auto f = std::make_shared<PlanFlags>();
  CLI::App* cmd = app.add_subcommand(
      "plan", "Show what `up` would change on each node (files, restarts), touching nothing");
  add_inventory_option(*cmd, f->inventory);
  cmd->add_flag("--accept-new-host-keys", f->accept_new_host_keys,
                "Record unknown SSH host keys in known_hosts (trust on first use)");
  cmd->callback([&run, f] { run = [f] { return run_plan_cmd(*f); }; });
}

}  // namespace provision
