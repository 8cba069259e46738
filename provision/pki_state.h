// What is on disk under pki.dir, judged against what the inventory asks for.
//
// One assessment serves both verbs: `certs generate` re-issues exactly the leaves whose assessment
// is not ok, and `certs check` prints the same verdicts as its STATUS column, so the two can never
// disagree about what is wrong.
// Thread-safety: plain values; load/assess only read files.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "certs/inspect.h"
#include "certs/result.h"
#include "provision/pki_layout.h"

namespace provision {

// The CA as found on disk. `signer` is the certificate in ca.crt that ca.key belongs to; `bundle`
// is everything ca.crt holds (more than one CA while a rotation is under way).
struct LoadedCa {
  std::vector<std::shared_ptr<X509>> bundle;
  std::shared_ptr<X509> signer;
  certs::PkeyPtr key;
};

// Nothing when neither ca.crt nor ca.key exists; the CA when both are readable and belong together;
// an error (naming the file and what to do) otherwise.
certs::Result<std::optional<LoadedCa>> load_ca(const Inventory& inv);

enum class LeafStatus {
  kOk,
  kMissing,          // certificate or key file absent
  kUnreadable,       // corrupt or truncated PEM
  kKeyMismatch,      // the key is not the certificate's
  kWrongCa,          // not signed by the current CA
  kSanMismatch,      // SANs differ from the inventory
  kProfileMismatch,  // EKUs, subject or key type differ from what we issue now
  kExpired,
  kRenewSoon,  // inside pki.renew_before
};
std::string leaf_status_name(LeafStatus status);  // "ok", "renew soon", "SAN mismatch", ...

struct LeafAssessment {
  const CertTarget* target = nullptr;
  LeafStatus status = LeafStatus::kOk;
  std::string reason;                   // human detail: "missing IP:10.0.0.5", "expires in 12d"
  std::optional<certs::CertInfo> info;  // when the certificate could be read
};

LeafAssessment assess_leaf(const Inventory& inv, const CertTarget& target,
                           const std::optional<LoadedCa>& ca, certs::TimePoint now);

}  // namespace provision
