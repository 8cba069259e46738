// `provision certs check`: the expiry table operators know from `kubeadm certs check-expiration`,
// with a STATUS column that says what `certs generate` would do about each certificate.
//
//   CERTIFICATE    EXPIRES                  RESIDUAL TIME   CA        STATUS
//   ca             Nov 23, 2036 07:54 UTC   9y 363d         -         ok
//   h1/server      Nov 25, 2027 07:54 UTC   364d            local-ca  ok
#pragma once

#include <string>
#include <vector>

#include "certs/issue.h"
#include "certs/result.h"
#include "provision/inventory.h"

namespace provision {

struct CheckRow {
  std::string certificate;
  std::string expires;   // "" when unknown (missing/unreadable)
  std::string residual;  // "" when unknown
  std::string ca;
  std::string status;  // "ok", "renew soon", "expired", "SAN mismatch", "wrong CA", ...
  std::string detail;  // why, when not ok
  bool ok = false;
};

// Errors only for an unusable CA (then the rows cannot be judged at all).
certs::Result<std::vector<CheckRow>> check_pki(const Inventory& inv, certs::TimePoint now);

std::string render_check_table(const std::vector<CheckRow>& rows);
std::string render_check_json(const std::vector<CheckRow>& rows);

}  // namespace provision
