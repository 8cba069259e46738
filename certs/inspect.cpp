#include "certs/inspect.h"

#include <arpa/inet.h>
#include <openssl/bn.h>

namespace certs {
namespace {

std::string name_to_string(X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bio_to_string(bio.get());
}

std::string common_name_of(X509_NAME* name) {
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

TimePoint to_time_point(const ASN1_TIME* t) {
  struct tm tm {};
  ASN1_TIME_to_tm(t, &tm);
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

SubjectAltNames read_sans(X509* cert) {
  SubjectAltNames sans;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return sans;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type == GEN_DNS) {
      const ASN1_IA5STRING* s = gn->d.dNSName;
      sans.dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                            static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = gn->d.iPAddress;
      char out[INET6_ADDRSTRLEN] = {};
      int family = ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6;
      if (inet_ntop(family, ASN1_STRING_get0_data(s), out, sizeof out)) sans.ips.emplace_back(out);
    }
  }
  sans.normalize();
  return sans;
}

std::string fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    if (i) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

std::string serial_hex(X509* cert) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex ? hex : "";
  OPENSSL_free(hex);
  return out;
}

}  // namespace

CertInfo inspect(X509* cert) {
  CertInfo info;
  info.subject = name_to_string(X509_get_subject_name(cert));
  info.common_name = common_name_of(X509_get_subject_name(cert));
  info.issuer = name_to_string(X509_get_issuer_name(cert));
  info.serial_hex = serial_hex(cert);
  info.sans = read_sans(cert);
  info.is_ca = X509_check_ca(cert) != 0;
  // X509_get_extended_key_usage answers "everything" (UINT32_MAX) when there is no EKU extension.
  uint32_t eku = X509_get_extended_key_usage(cert);
  bool has_eku = X509_get_ext_by_NID(cert, NID_ext_key_usage, -1) >= 0;
  info.server_auth = has_eku && (eku & XKU_SSL_SERVER);
  info.client_auth = has_eku && (eku & XKU_SSL_CLIENT);
  info.not_before = to_time_point(X509_get0_notBefore(cert));
  info.not_after = to_time_point(X509_get0_notAfter(cert));
  info.sha256_fingerprint = fingerprint(cert);
  return info;
}

bool signed_by(X509* cert, X509* issuer) {
  if (X509_check_issued(issuer, cert) != X509_V_OK) return false;
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  return key && X509_verify(cert, key) == 1;
}

bool signed_by_any(X509* cert, const std::vector<std::shared_ptr<X509>>& bundle) {
  for (const auto& ca : bundle) {
    if (signed_by(cert, ca.get())) return true;
  }
  return false;
}

bool ekus_match_role(const CertInfo& info, CertRole role) {
  bool want_server = role != CertRole::kClient;
  return info.server_auth == want_server && info.client_auth;
}

}  // namespace certs
