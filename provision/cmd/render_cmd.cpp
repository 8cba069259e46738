#include "provision/cmd/render_cmd.h"

#include <iostream>
#include <memory>

#include "certs/file_io.h"
#include "provision/cmd/common.h"
#include "provision/pki_generate.h"
#include "provision/render.h"

namespace provision {
namespace {

struct RenderOptions {
  std::string inventory;
  std::string out_dir;
};

int run_render(const RenderOptions& o) {
  auto inv = load_inventory(o.inventory);
  if (!inv) return report_error(inv.error());
  auto token = cluster_token(*inv, nullptr);
  if (!token) return report_error(token.error());
  certs::AtomicWriteBatch batch;
  for (const auto& node : inv->nodes) {
    auto unit = render_unit(*inv, node, *token, ClusterState::kNew);
    if (!unit) return report_error(certs::Error(inv->where(node) + ": " + unit.error().message));
    std::string dir = o.out_dir + "/" + node.name;
    if (auto s = certs::ensure_dir(dir, 0755); !s) return report_error(s.error());
    batch.add(dir + "/" + node.server.unit, *unit, 0644);
    std::cout << "rendered " << dir << "/" << node.server.unit << "\n";
  }
  if (auto s = batch.commit(); !s) return report_error(s.error());
  return 0;
}

}  // namespace

void add_render_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<RenderOptions>();
  CLI::App* cmd = app.add_subcommand(
      "render", "Write every node's systemd unit to --out DIR/NODE/UNIT, touching no node");
  add_inventory_option(*cmd, opts->inventory);
  cmd->add_option("--out", opts->out_dir, "Directory to write the units into")->required();
  cmd->callback([&run, opts] { run = [opts] { return run_render(*opts); }; });
}

}  // namespace provision
