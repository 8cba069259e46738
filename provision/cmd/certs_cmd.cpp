#include "provision/cmd/certs_cmd.h"

#include <chrono>
#include <iostream>
#include <memory>

#include "provision/cmd/common.h"
#include "provision/pki_check.h"
#include "provision/pki_generate.h"

namespace provision {
namespace {

struct CertsOptions {
  std::string inventory;
  bool new_ca = false;
  std::string output = "table";
};

certs::TimePoint now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

int run_generate(const CertsOptions& o) {
  auto inv = load_inventory(o.inventory);
  if (!inv) return report_error(inv.error());
  auto outcomes = generate_pki(*inv, {o.new_ca, now()});
  if (!outcomes) return report_error(outcomes.error());
  for (const auto& outcome : *outcomes)
    std::cout << describe(outcome) << "\n";
  return 0;
}

int run_check(const CertsOptions& o) {
  auto inv = load_inventory(o.inventory);
  if (!inv) return report_error(inv.error());
  auto rows = check_pki(*inv, now());
  if (!rows) return report_error(rows.error());
  std::cout << (o.output == "json" ? render_check_json(*rows) : render_check_table(*rows));
  for (const auto& row : *rows) {
    if (!row.ok) return 1;
  }
  return 0;
}

}  // namespace

void add_certs_commands(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<CertsOptions>();
  CLI::App* certs = app.add_subcommand("certs", "Create and check the cluster's certificates");
  certs->require_subcommand(1);

  CLI::App* generate = certs->add_subcommand(
      "generate",
      "Create the CA and every node and client certificate under pki.dir; keep what is valid, "
      "re-issue only what is missing, wrong or inside renew_before");
  add_inventory_option(*generate, opts->inventory);
  generate->add_flag("--new-ca", opts->new_ca,
                     "Start a new CA (the old pair is kept as *.previous) and re-issue every leaf");
  generate->callback([&run, opts] { run = [opts] { return run_generate(*opts); }; });

  CLI::App* check = certs->add_subcommand(
      "check", "Print every certificate's expiry and status; exit 0 only when all are ok");
  add_inventory_option(*check, opts->inventory);
  check->add_option("-o,--output", opts->output, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  check->callback([&run, opts] { run = [opts] { return run_check(*opts); }; });
}

}  // namespace provision
