#include "certs/issue.h"

#include <openssl/rand.h>

#include "certs/key.h"

namespace certs {
namespace {

constexpr int kSerialBytes = 16;  // 128 bits, as CA/B Forum asks for at least 64 bits of entropy

Status set_random_serial(X509* cert) {
  unsigned char bytes[kSerialBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return Error("random serial number: " + drain_openssl_errors());
  }
  bytes[0] &= 0x7f;  // positive as a DER INTEGER
  bytes[0] |= 0x01;  // and never zero, never shorter than it looks
  BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) {
    return Error("setting the serial number: " + drain_openssl_errors());
  }
  return ok_status();
}

Status set_name(X509_NAME* name, const std::string& cn, const std::string& org) {
  auto add = [name](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                      0) == 1;
  };
  if (!org.empty() && !add("O", org))
    return Error("subject O=" + org + ": " + drain_openssl_errors());
  if (!add("CN", cn)) return Error("subject CN=" + cn + ": " + drain_openssl_errors());
  return ok_status();
}

// Adds one extension written in openssl's config syntax ("critical,CA:TRUE,pathlen:0"), with the
// issuer/subject context that SKI/AKI need.
Status add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Error(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value + ": " +
                 drain_openssl_errors());
  }
  return ok_status();
}

Status add_subject_alt_names(X509* cert, const SubjectAltNames& sans) {
  if (sans.dns.empty() && sans.ips.empty()) return ok_status();
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  for (const auto& dns : sans.dns) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    ASN1_STRING_set(s, dns.data(), static_cast<int>(dns.size()));
    GENERAL_NAME_set0_value(gn, GEN_DNS, s);
    sk_GENERAL_NAME_push(names.get(), gn);
  }
  for (const auto& ip : sans.ips) {
    std::vector<unsigned char> bytes = ip_bytes(ip);
    if (bytes.empty()) return Error("SAN IP '" + ip + "' is not an IPv4 or IPv6 address");
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(s, bytes.data(), static_cast<int>(bytes.size()));
    GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
    sk_GENERAL_NAME_push(names.get(), gn);
  }
  // Critical only when the subject is empty (RFC 5280 §4.2.1.6); ours always has a CN.
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return Error("subjectAltName: " + drain_openssl_errors());
  }
  return ok_status();
}

Status set_validity(X509* cert, TimePoint not_before, TimePoint not_after) {
  if (not_after <= not_before) return Error("validity ends before it begins");
  if (!ASN1_TIME_set(X509_getm_notBefore(cert), not_before.time_since_epoch().count()) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert), not_after.time_since_epoch().count())) {
    return Error("setting validity: " + drain_openssl_errors());
  }
  return ok_status();
}

Status sign(X509* cert, EVP_PKEY* signer) {
  // Ed25519 is a "pure" signature scheme: it takes no separate digest.
  const EVP_MD* md = EVP_PKEY_get_base_id(signer) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (X509_sign(cert, signer, md) <= 0) return Error("signing: " + drain_openssl_errors());
  return ok_status();
}

// Everything common to CA and leaf up to (not including) the extensions.
Result<X509Ptr> new_certificate(EVP_PKEY* subject_key, TimePoint not_before, TimePoint not_after) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return Error("allocating a certificate: " + drain_openssl_errors());
  }
  if (auto s = set_random_serial(cert.get()); !s) return s.error();
  if (auto s = set_validity(cert.get(), not_before, not_after); !s) return s.error();
  if (X509_set_pubkey(cert.get(), subject_key) != 1) {
    return Error("setting the public key: " + drain_openssl_errors());
  }
  return cert;
}

}  // namespace

std::string cert_role_name(CertRole role) {
  switch (role) {
    case CertRole::kServer:
      return "server";
    case CertRole::kPeer:
      return "peer";
    case CertRole::kClient:
      return "client";
  }
  return "unknown";
}

Result<X509Ptr> create_ca(const CaSpec& spec, EVP_PKEY* ca_key) {
  auto cert = new_certificate(ca_key, spec.not_before, spec.not_after);
  if (!cert) return cert.error();
  X509* x = cert->get();
  if (auto s = set_name(X509_get_subject_name(x), spec.common_name, ""); !s) return s.error();
  if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1) {
    return Error("CA issuer name: " + drain_openssl_errors());
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (auto s = add_extension(x, &ctx, nid, value); !s) return Error("CA: " + s.error().message);
  }
  if (auto s = sign(x, ca_key); !s) return Error("CA: " + s.error().message);
  return cert;
}

Result<X509Ptr> issue_leaf(const LeafSpec& spec, EVP_PKEY* leaf_key, X509* ca_cert,
                           EVP_PKEY* ca_key) {
  auto cert = new_certificate(leaf_key, spec.not_before, spec.not_after);
  if (!cert) return cert.error();
  X509* x = cert->get();
  if (auto s = set_name(X509_get_subject_name(x), spec.common_name, spec.organization); !s) {
    return s.error();
  }
  if (X509_set_issuer_name(x, X509_get_subject_name(ca_cert)) != 1) {
    return Error("issuer name: " + drain_openssl_errors());
  }
  auto type = key_type_of(leaf_key);
  std::string key_usage = "critical,digitalSignature";
  if (type.ok() && is_rsa(*type)) key_usage += ",keyEncipherment";
  std::string eku = spec.role == CertRole::kClient ? "clientAuth" : "serverAuth,clientAuth";

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                            std::pair{NID_key_usage, key_usage}, std::pair{NID_ext_key_usage, eku},
                            std::pair{NID_subject_key_identifier, std::string("hash")},
                            std::pair{NID_authority_key_identifier, std::string("keyid:always")}}) {
    if (auto s = add_extension(x, &ctx, nid, value); !s) return s.error();
  }
  if (auto s = add_subject_alt_names(x, spec.sans); !s) return s.error();
  if (auto s = sign(x, ca_key); !s) return s.error();
  return cert;
}

}  // namespace certs
