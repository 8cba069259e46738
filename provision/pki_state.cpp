#include "provision/pki_state.h"

#include "certs/file_io.h"
#include "certs/key.h"
#include "certs/pem.h"
#include "provision/duration.h"

namespace provision {

using certs::Error;
using certs::Result;

std::string leaf_status_name(LeafStatus status) {
  switch (status) {
    case LeafStatus::kOk:
      return "ok";
    case LeafStatus::kMissing:
      return "missing";
    case LeafStatus::kUnreadable:
      return "unreadable";
    case LeafStatus::kKeyMismatch:
      return "key mismatch";
    case LeafStatus::kWrongCa:
      return "wrong CA";
    case LeafStatus::kSanMismatch:
      return "SAN mismatch";
    case LeafStatus::kProfileMismatch:
      return "profile mismatch";
    case LeafStatus::kExpired:
      return "expired";
    case LeafStatus::kRenewSoon:
      return "renew soon";
  }
  return "unknown";
}

Result<std::optional<LoadedCa>> load_ca(const Inventory& inv) {
  std::string crt_path = ca_cert_path(inv), key_path = ca_key_path(inv);
  bool has_crt = certs::file_exists(crt_path), has_key = certs::file_exists(key_path);
  if (!has_crt && !has_key) return std::optional<LoadedCa>();
  if (!has_key) {
    return Error(key_path + " is missing but " + crt_path +
                 " exists: restore the CA key from your backup (the CA key never leaves this "
                 "workstation), or start a new CA with --new-ca (every certificate is re-issued)");
  }
  if (!has_crt) {
    return Error(crt_path + " is missing but " + key_path +
                 " exists: restore ca.crt from a backup or a node's ca.crt, or start a new CA "
                 "with --new-ca");
  }
  auto crt_pem = certs::read_file(crt_path);
  if (!crt_pem) return crt_pem.error();
  auto bundle = certs::bundle_from_pem(*crt_pem, crt_path);
  if (!bundle) return bundle.error();
  auto key_pem = certs::read_file(key_path);
  if (!key_pem) return key_pem.error();
  auto key = certs::private_key_from_pem(*key_pem, key_path);
  if (!key) return key.error();

  LoadedCa ca;
  ca.bundle = std::move(*bundle);
  for (const auto& cert : ca.bundle) {
    if (certs::key_matches_cert(key->get(), cert.get())) ca.signer = cert;
  }
  if (!ca.signer) {
    return Error(key_path + " does not belong to any certificate in " + crt_path +
                 ": restore the matching pair from your backup, or start a new CA with --new-ca");
  }
  if (!certs::inspect(ca.signer.get()).is_ca) {
    return Error(crt_path + " is not a CA certificate (no CA:TRUE): restore the real CA");
  }
  ca.key = std::move(*key);
  return std::optional<LoadedCa>(std::move(ca));
}

LeafAssessment assess_leaf(const Inventory& inv, const CertTarget& target,
                           const std::optional<LoadedCa>& ca, certs::TimePoint now) {
  LeafAssessment a;
  a.target = &target;
  auto verdict = [&a](LeafStatus s, std::string reason) {
    a.status = s;
    a.reason = std::move(reason);
    return a;
  };
  bool has_crt = certs::file_exists(target.cert_path),
       has_key = certs::file_exists(target.key_path);
  if (!has_crt && !has_key) return verdict(LeafStatus::kMissing, "missing");
  if (!has_crt) return verdict(LeafStatus::kMissing, "certificate missing");

  auto crt_pem = certs::read_file(target.cert_path);
  auto cert = crt_pem ? certs::certificate_from_pem(*crt_pem, target.cert_path)
                      : certs::Result<certs::X509Ptr>(crt_pem.error());
  if (!cert) return verdict(LeafStatus::kUnreadable, cert.error().message);
  a.info = certs::inspect(cert->get());

  if (!has_key) return verdict(LeafStatus::kMissing, "key missing");
  auto key_pem = certs::read_file(target.key_path);
  auto key = key_pem ? certs::private_key_from_pem(*key_pem, target.key_path)
                     : certs::Result<certs::PkeyPtr>(key_pem.error());
  if (!key) return verdict(LeafStatus::kUnreadable, key.error().message);
  if (!certs::key_matches_cert(key->get(), cert->get())) {
    return verdict(LeafStatus::kKeyMismatch, "key does not match certificate");
  }
  if (!ca || !certs::signed_by(cert->get(), ca->signer.get())) {
    return verdict(LeafStatus::kWrongCa, "not signed by the current CA");
  }
  if (a.info->sans != target.sans) {
    return verdict(LeafStatus::kSanMismatch, "SANs differ: " + a.info->sans.diff(target.sans));
  }
  if (!certs::ekus_match_role(*a.info, target.role)) {
    return verdict(LeafStatus::kProfileMismatch,
                   "EKUs differ from a " + certs::cert_role_name(target.role) + " cert");
  }
  std::string want_subject = "CN=" + target.common_name;
  if (!target.organization.empty()) want_subject += ",O=" + target.organization;
  if (a.info->subject != want_subject) {
    return verdict(LeafStatus::kProfileMismatch,
                   "subject is " + a.info->subject + ", want " + want_subject);
  }
  auto type = certs::key_type_of(key->get());
  if (!type || *type != inv.pki.key_type) {
    return verdict(LeafStatus::kProfileMismatch,
                   "key type is not pki.key_type " + certs::key_type_name(inv.pki.key_type));
  }
  auto remaining = std::chrono::duration_cast<seconds>(a.info->not_after - now);
  if (remaining.count() <= 0) return verdict(LeafStatus::kExpired, "expired");
  if (remaining < inv.pki.renew_before) {
    return verdict(LeafStatus::kRenewSoon, "expires in " + format_residual(remaining) +
                                               ", inside renew_before " +
                                               format_duration(inv.pki.renew_before));
  }
  return a;
}

}  // namespace provision
