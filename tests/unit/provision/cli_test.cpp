// The provision binary as a user runs it: exit codes, what goes to stdout/stderr, nothing written
// on bad input.
#include <catch2/catch.hpp>

#include <filesystem>

#include "certs/file_io.h"
#include "tests/support/test_support.h"

using test_support::run;
using test_support::shell_quote;

namespace {

const std::string kProvision = std::string(PROJECT_BINARY_DIR) + "/bin/provision";

test_support::CommandResult provision(const std::string& args) {
  return run(shell_quote(kProvision) + " " + args);
}

void write(const std::string& path, const std::string& text) {
  REQUIRE(certs::atomic_write(path, text, 0644));
}

const char* kInventory =
    "cluster: {name: demo}\nnodes:\n  - {name: h1, address: 10.0.0.1}\n"
    "  - {name: h2, address: 10.0.0.2}\n  - {name: h3, address: 10.0.0.3}\n";

}  // namespace

TEST_CASE("certs generate then check: created, kept, exit 0", "[cli]") {
  test_support::TempDir dir;
  write(dir / "inv.yaml", kInventory);
  auto first = provision("certs generate -i " + shell_quote(dir / "inv.yaml"));
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.output, Catch::Contains("created  " + dir / "pki/ca.key"));
  auto second = provision("certs generate -i " + shell_quote(dir / "inv.yaml"));
  CHECK(second.exit_code == 0);
  CHECK_THAT(second.output, !Catch::Contains("created") && !Catch::Contains("reissued"));
  auto check = provision("certs check -i " + shell_quote(dir / "inv.yaml"));
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.output, Catch::Contains("h3/peer") && Catch::Contains("RESIDUAL TIME"));
  auto json = provision("certs check -o json -i " + shell_quote(dir / "inv.yaml"));
  CHECK(json.exit_code == 0);
  CHECK_THAT(json.output, Catch::StartsWith("{\"certificates\": ["));
}

TEST_CASE("certs check exits 1 when something is not ok and says what to run", "[cli]") {
  test_support::TempDir dir;
  write(dir / "inv.yaml", kInventory);
  REQUIRE(provision("certs generate -i " + shell_quote(dir / "inv.yaml")).exit_code == 0);
  std::filesystem::remove(dir / "pki/h2/peer.crt");
  auto check = provision("certs check -i " + shell_quote(dir / "inv.yaml"));
  CHECK(check.exit_code == 1);
  CHECK_THAT(check.output,
             Catch::Contains("h2/peer: certificate missing; `provision certs generate` "
                             "re-issues it"));
}

TEST_CASE("bad input: one clear line per problem, exit 2, nothing written", "[cli][bad-input]") {
  test_support::TempDir dir;
  write(dir / "inv.yaml", "cluster: {name: demo}\nnodes:\n  - {name: h1, adress: 10.0.0.1}\n");
  auto r = provision("certs generate -i " + shell_quote(dir / "inv.yaml"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("provision: " + dir / "inv.yaml" +
                                       ":3:16: unknown key 'adress' in nodes[0]; did you mean "
                                       "'address'?"));
  CHECK_THAT(r.output, Catch::Contains("node h1: address is required"));
  CHECK_FALSE(std::filesystem::exists(dir / "pki"));
  CHECK_THAT(r.output, !Catch::Contains("terminate") && !Catch::Contains("YAML::"));
}

TEST_CASE("usage errors and help", "[cli]") {
  CHECK(provision("").exit_code == 2);
  CHECK(provision("certs generate").exit_code == 2);  // -i is required
  CHECK(provision("certs check -i x.yaml -o xml").exit_code == 2);
  auto help = provision("certs --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.output, Catch::Contains("generate") && Catch::Contains("check"));
  CHECK_THAT(provision("--version").output, Catch::StartsWith("provision "));
}
