#include "provision/steps/node_scripts.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>

#include "certs/file_io.h"
#include "test_inputs.h"
#include "tests/support/test_support.h"

using namespace provision;
using namespace provision::steps;
using steps_test::file;
using test_support::shell_quote;

namespace {

// Runs `script` with /bin/sh (what the nodes run it with) as this user (root, like the nodes),
// feeding `input` on stdin.
int run_sh(const test_support::TempDir& dir, const std::string& script, const std::string& input) {
  REQUIRE(certs::atomic_write(dir / "script.sh", script, 0644).ok());
  REQUIRE(certs::atomic_write(dir / "stdin", input, 0600).ok());
  auto r = test_support::run("sh " + shell_quote(dir / "script.sh") + " < " +
                             shell_quote(dir / "stdin"));
  UNSCOPED_INFO(r.output);
  return r.exit_code;
}

int mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

size_t temp_files_in(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    n += e.path().filename().string().find("provision-tmp") != std::string::npos ? 1 : 0;
  return n;
}

Inventory local_inventory(const test_support::TempDir& dir) {
  return steps_test::inventory(
      "  - name: h1\n    address: 10.0.0.1\n    server: {bin_dir: " + dir / "bin" +
      ", config_dir: " + dir / "etc" + ", data_dir: " + dir / "data" + "}\n");
}

}  // namespace

TEST_CASE("push script: every file arrives with its mode, the data dir is 0700", "[scripts]") {
  test_support::TempDir dir;
  Inventory inv = local_inventory(dir);
  const NodeSpec& node = inv.nodes[0];
  NodePlan plan;
  plan.fix_data_dir = true;
  plan.writes.push_back(
      {file("binary", dir / "bin/etcd", std::string(300000, 'b'), 0755), Change::kCreate});
  plan.writes.push_back(
      {file("server.key", dir / "etc/server.key", "secret", 0600), Change::kCreate});
  plan.writes.push_back({file("ca.crt", dir / "etc/ca.crt", "ca", 0644), Change::kUpdate});
  REQUIRE(certs::ensure_dir(dir / "etc", 0755).ok());
  REQUIRE(certs::atomic_write(dir / "etc/ca.crt", "old ca", 0644).ok());
  PushCommand cmd = push_script(node, plan);
  CHECK(cmd.stdin_data.size() == 300000 + 6 + 2);
  REQUIRE(run_sh(dir, cmd.script, cmd.stdin_data) == 0);
  CHECK(certs::read_file(dir / "bin/etcd").value() == std::string(300000, 'b'));
  CHECK(mode_of(dir / "bin/etcd") == 0755);
  CHECK(certs::read_file(dir / "etc/server.key").value() == "secret");
  CHECK(mode_of(dir / "etc/server.key") == 0600);
  CHECK(certs::read_file(dir / "etc/ca.crt").value() == "ca");
  CHECK(mode_of(dir / "data") == 0700);
  // The manifest the next probe reads instead of hashing the binary: "SIZE MTIME SHA256".
  const std::string manifest = certs::read_file(dir / "etc/.binary.sha256").value();
  CHECK(manifest.rfind("300000 ", 0) == 0);
  CHECK_THAT(manifest, Catch::EndsWith(" " + plan.writes[0].file.sha256 + "\n"));
  CHECK(temp_files_in(dir / "etc") == 0);
  CHECK(temp_files_in(dir / "bin") == 0);
}

TEST_CASE("push script: bytes that arrive damaged change no target and leave no temp file",
          "[scripts]") {
  test_support::TempDir dir;
  Inventory inv = local_inventory(dir);
  NodePlan plan;
  plan.writes.push_back({file("ca.crt", dir / "etc/ca.crt", "new ca", 0644), Change::kUpdate});
  plan.writes.push_back({file("peer.key", dir / "etc/peer.key", "new key", 0600), Change::kUpdate});
  REQUIRE(certs::ensure_dir(dir / "etc", 0755).ok());
  REQUIRE(certs::atomic_write(dir / "etc/ca.crt", "old ca", 0644).ok());
  REQUIRE(certs::atomic_write(dir / "etc/peer.key", "old key", 0600).ok());
  PushCommand cmd = push_script(inv.nodes[0], plan);
  std::string damaged = cmd.stdin_data;
  damaged.back() = 'X';  // the second file is corrupted after the first arrived intact
  CHECK(run_sh(dir, cmd.script, damaged) != 0);
  CHECK(certs::read_file(dir / "etc/ca.crt").value() == "old ca");
  CHECK(certs::read_file(dir / "etc/peer.key").value() == "old key");
  CHECK(temp_files_in(dir / "etc") == 0);
  // Truncated input (a dropped connection) is refused the same way.
  CHECK(run_sh(dir, cmd.script, cmd.stdin_data.substr(0, 3)) != 0);
  CHECK(certs::read_file(dir / "etc/ca.crt").value() == "old ca");
  CHECK(temp_files_in(dir / "etc") == 0);
}

TEST_CASE("push script: a metadata fix sends no bytes", "[scripts]") {
  test_support::TempDir dir;
  Inventory inv = local_inventory(dir);
  REQUIRE(certs::ensure_dir(dir / "etc", 0755).ok());
  REQUIRE(certs::atomic_write(dir / "etc/server.key", "k", 0644).ok());
  NodePlan plan;
  plan.writes.push_back(
      {file("server.key", dir / "etc/server.key", "k", 0600), Change::kFixMetadata});
  PushCommand cmd = push_script(inv.nodes[0], plan);
  CHECK(cmd.stdin_data.empty());
  REQUIRE(run_sh(dir, cmd.script, "") == 0);
  CHECK(mode_of(dir / "etc/server.key") == 0600);
}

TEST_CASE("start/restart/reset scripts: only the systemctl calls the plan needs", "[scripts]") {
  Inventory inv = steps_test::inventory("  - {name: h1, address: 10.0.0.1}\n");
  NodePlan plan;
  plan.enable = true;
  plan.unit_changed = true;
  const std::string start = start_script(inv.nodes[0], plan);
  CHECK_THAT(start, !Catch::Contains("daemon-reload"));  // enable reloads by itself
  CHECK_THAT(start, Catch::Contains("systemctl enable -q --now --no-block 'etcd.service'"));
  NodePlan enabled;
  enabled.unit_changed = true;
  CHECK_THAT(start_script(inv.nodes[0], enabled), Catch::Contains("systemctl daemon-reload"));
  enabled.unit_changed = false;
  CHECK_THAT(start_script(inv.nodes[0], enabled),
             Catch::Contains("systemctl start --no-block 'etcd.service'"));
  CHECK_THAT(start_script(inv.nodes[0], enabled), !Catch::Contains("daemon-reload"));
  NodePlan quiet;  // files changed but unit and enablement did not
  const std::string restart = restart_script(inv.nodes[0], quiet);
  CHECK_THAT(restart, !Catch::Contains("daemon-reload"));
  CHECK_THAT(restart, Catch::Contains("systemctl restart 'etcd.service'"));
  const std::string reset = reset_script(inv.nodes[0]);
  for (const char* want :
       {"disable --now", "'/etc/systemd/system/etcd.service'", "'/usr/local/bin/etcd'",
        "'/etc/etcd/server.key'", "rm -rf '/var/lib/etcd'", "'/etc/etcd'/.*.provision-tmp-*"})
    CHECK_THAT(reset, Catch::Contains(want));
}
