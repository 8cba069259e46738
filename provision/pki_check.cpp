#include "provision/pki_check.h"

#include <ctime>

#include "certs/inspect.h"
#include "provision/duration.h"
#include "provision/pki_state.h"
#include "provision/table.h"

namespace provision {
namespace {

std::string format_expiry(certs::TimePoint t) {
  std::time_t tt = t.time_since_epoch().count();
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%b %d, %Y %H:%M UTC", &tm);
  return buf;
}

CheckRow row_for(const std::string& name, const certs::CertInfo& info, certs::TimePoint now) {
  CheckRow row;
  row.certificate = name;
  row.expires = format_expiry(info.not_after);
  row.residual = format_residual(std::chrono::duration_cast<seconds>(info.not_after - now));
  return row;
}

}  // namespace

certs::Result<std::vector<CheckRow>> check_pki(const Inventory& inv, certs::TimePoint now) {
  auto ca = load_ca(inv);
  if (!ca) return ca.error();
  std::vector<CheckRow> rows;
  std::string ca_name = "-";
  if (!*ca) {
    rows.push_back({"ca", "", "", "-", "missing", "run `provision certs generate`", false});
  } else {
    certs::CertInfo info = certs::inspect((*ca)->signer.get());
    ca_name = info.common_name;
    CheckRow row = row_for("ca", info, now);
    row.ca = "-";
    bool expired = info.not_after <= now;
    // The CA has no automatic renewal: say so early, a whole leaf lifetime before it ends.
    bool soon = !expired && info.not_after - now < inv.pki.cert_validity;
    row.status = expired ? "expired" : soon ? "renew soon" : "ok";
    row.detail = expired || soon ? "rotate the CA (provision rotate-certs --ca)" : "";
    row.ok = !expired && !soon;
    rows.push_back(row);
  }
  for (const CertTarget& target : desired_certs(inv)) {
    LeafAssessment a = assess_leaf(inv, target, *ca, now);
    CheckRow row;
    if (a.info) {
      row = row_for(target.id, *a.info, now);
      row.ca = a.status == LeafStatus::kWrongCa ? a.info->issuer : ca_name;
    } else {
      row.certificate = target.id;
      row.ca = ca_name;
    }
    row.status = leaf_status_name(a.status);
    row.ok = a.status == LeafStatus::kOk;
    if (!row.ok) row.detail = a.reason + "; `provision certs generate` re-issues it";
    rows.push_back(row);
  }
  return rows;
}

std::string render_check_table(const std::vector<CheckRow>& rows) {
  std::vector<Row> cells;
  std::string notes;
  for (const auto& r : rows) {
    cells.push_back({r.certificate, r.expires.empty() ? "-" : r.expires,
                     r.residual.empty() ? "-" : r.residual, r.ca, r.status});
    if (!r.ok) notes += r.certificate + ": " + r.detail + "\n";
  }
  std::string out =
      render_table({"CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CA", "STATUS"}, cells);
  return notes.empty() ? out : out + "\n" + notes;
}

std::string render_check_json(const std::vector<CheckRow>& rows) {
  std::string out = "{\"certificates\": [";
  for (size_t i = 0; i < rows.size(); ++i) {
    const CheckRow& r = rows[i];
    out += std::string(i ? "," : "") + "\n  {\"certificate\": " + json_string(r.certificate) +
           ", \"expires\": " + json_string(r.expires) +
           ", \"residual\": " + json_string(r.residual) + ", \"ca\": " + json_string(r.ca) +
           ", \"status\": " + json_string(r.status) + ", \"ok\": " + (r.ok ? "true" : "false") +
           (r.detail.empty() ? "" : ", \"detail\": " + json_string(r.detail)) + "}";
  }
  return out + "\n]}\n";
}

}  // namespace provision
