#include "provision/pki_check.h"

#include "tests/unit/provision/pki_fixture.h"

using namespace provision;
using namespace pki_test;

namespace {
const CheckRow& row(const std::vector<CheckRow>& rows, const std::string& name) {
  for (const auto& r : rows) {
    if (r.certificate == name) return r;
  }
  FAIL("no row " << name);
  return rows.front();
}
}  // namespace

TEST_CASE("check: all ok after generate, and the table has kubeadm's columns", "[check]") {
  Workspace ws;
  Inventory inv = ws.inventory(2);
  // Checked at the issuing instant: a clock second passing between generate and check would
  // leave "9y 364d".
  const certs::TimePoint issued_at = now();
  generate(inv, issued_at);
  auto rows = check_pki(inv, issued_at).value();
  CHECK(rows.size() == 1 + 4 + 2);
  for (const auto& r : rows)
    CHECK(r.ok);
  CHECK(row(rows, "ca").residual == "10y");
  CHECK(row(rows, "h1/server").ca == "demo-ca");
  CHECK(row(rows, "h1/server").residual == "1y");
  std::string table = render_check_table(rows);
  CHECK_THAT(table, Catch::StartsWith("CERTIFICATE           EXPIRES                  RESIDUAL TIME"
                                      "   CA        STATUS\n"));
  CHECK_THAT(render_check_json(rows),
             Catch::Contains("{\"certificate\": \"h2/peer\", \"expires\": "));
}

TEST_CASE("check: renew soon, expired, SAN mismatch, wrong CA, missing", "[check]") {
  Workspace ws;
  Inventory inv = ws.inventory(2);
  generate(inv);
  CHECK(row(check_pki(inv, now() + 24h * 300).value(), "h1/peer").status == "renew soon");
  CHECK(row(check_pki(inv, now() + 24h * 366).value(), "h1/peer").status == "expired");
  CHECK(row(check_pki(inv, now() + 24h * 366).value(), "h1/peer").residual == "expired");

  Inventory changed = ws.inventory(2, "", "[10.7.7.7]");
  auto rows = check_pki(changed, now()).value();
  CHECK(row(rows, "h1/server").status == "SAN mismatch");
  CHECK_THAT(row(rows, "h1/server").detail, Catch::Contains("missing IP:10.7.7.7"));
  CHECK(row(rows, "h2/server").status == "ok");

  Workspace other;
  generate(other.inventory(2));
  for (const char* f : {"h2/peer.crt", "h2/peer.key"}) {
    std::filesystem::copy_file(other.pki(f), ws.pki(f),
                               std::filesystem::copy_options::overwrite_existing);
  }
  std::filesystem::remove(ws.pki("clients/admin.crt"));
  rows = check_pki(inv, now()).value();
  CHECK(row(rows, "h2/peer").status == "wrong CA");
  CHECK(row(rows, "clients/admin").status == "missing");
  CHECK(row(rows, "clients/admin").expires.empty());
  std::string table = render_check_table(rows);
  CHECK_THAT(table, Catch::Contains("h2/peer: not signed by the current CA; `provision certs "
                                    "generate` re-issues it"));
}

TEST_CASE("check before any generate says what to run", "[check]") {
  Workspace ws;
  Inventory inv = ws.inventory(1);
  auto rows = check_pki(inv, now()).value();
  CHECK(row(rows, "ca").status == "missing");
  CHECK(row(rows, "h1/server").status == "missing");
}
