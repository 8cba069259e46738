#include "provision/cmd/up_cmd.h"

#include <iostream>
#include <memory>

#include "provision/cmd/common.h"
#include "provision/duration.h"
#include "provision/steps/verbs.h"

namespace provision {
namespace {

struct UpFlags {
  std::string inventory;
  bool accept_new_host_keys = false;
  std::string timeout = "60s";
};

int run_up_cmd(const UpFlags& f) {
  auto inv = load_inventory(f.inventory);
  if (!inv) return report_error(inv.error());
  auto timeout = parse_duration(f.timeout);
  if (!timeout) return report_error(certs::Error("--timeout: " + timeout.error().message));
  steps::VerbOptions o;
  o.accept_new_host_keys = f.accept_new_host_keys;
  o.verify_timeout = *timeout;
  return steps::run_up(*inv, o, std::cout, std::cerr);
}

}  // namespace

void add_up_command(CLI::App& app, std::function<int()>& run) {
  auto f = std::make_shared<UpFlags>();
  CLI::App* cmd = app.add_subcommand(
      "up",
      "Stand up (or converge) the cluster: preflight, certs, render, push, start, verify. "
      "Safe to re-run: restarts only members whose files changed, one at a time");
  add_inventory_option(*cmd, f->inventory);
  cmd->add_flag("--accept-new-host-keys", f->accept_new_host_keys,
                "Record unknown SSH host keys in known_hosts (trust on first use); a changed key "
                "is always refused");
  cmd->add_option("--timeout", f->timeout,
                  "How long to wait for the cluster to become healthy (e.g. 60s, 2m)")
      ->capture_default_str();
  cmd->callback([&run, f] { run = [f] { return run_up_cmd(*f); }; });
}

}  // namespace provision
