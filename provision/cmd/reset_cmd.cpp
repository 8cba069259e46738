#include "provision/cmd/reset_cmd.h"

#include <iostream>
#include <memory>

#include "provision/cmd/common.h"
#include "provision/steps/verbs.h"

namespace provision {
namespace {

struct ResetFlags {
  std::string inventory;
  bool yes = false;
};

int run_reset_cmd(const ResetFlags& f) {
  auto inv = load_inventory(f.inventory);
  if (!inv) return report_error(inv.error());
  if (!f.yes) {
    return report_error(certs::Error(
        "reset deletes the data of every member of cluster `" + inv->cluster.name + "` (" +
        std::to_string(inv->nodes.size()) +
        " node(s)) and cannot be undone; run it again with --yes if that is what you want"));
  }
  return steps::run_reset(*inv, steps::VerbOptions{}, std::cout, std::cerr);
}

}  // namespace

void add_reset_command(CLI::App& app, std::function<int()>& run) {
  auto f = std::make_shared<ResetFlags>();
  CLI::App* cmd = app.add_subcommand(
      "reset",
      "Stop and remove the service, certs, binary and data dir from every node (needs --yes); "
      "the workstation's PKI is kept");
  add_inventory_option(*cmd, f->inventory);
  cmd->add_flag("--yes", f->yes, "Confirm: the cluster's data is deleted");
  cmd->callback([&run, f] { run = [f] { return run_reset_cmd(*f); }; });
}

}  // namespace provision
