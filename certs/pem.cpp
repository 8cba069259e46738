#include "certs/pem.h"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace certs {
namespace {

// True when the only thing left in the error queue is "no more PEM blocks": the normal end of a
// bundle rather than a broken block.
bool clean_end_of_pem() {
  unsigned long err = ERR_peek_last_error();
  bool clean =
      err == 0 || (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE);
  if (clean) ERR_clear_error();
  return clean;
}

bool only_whitespace(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

std::string certificate_to_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bio_to_string(bio.get());
}

Result<X509Ptr> certificate_from_pem(const std::string& pem, const std::string& source) {
  auto bundle = bundle_from_pem(pem, source);
  if (!bundle) return bundle.error();
  if (bundle->size() != 1) {
    return Error(source + ": holds " + std::to_string(bundle->size()) +
                 " certificates where one was expected");
  }
  X509_up_ref(bundle->front().get());
  return X509Ptr(bundle->front().get());
}

Result<std::vector<std::shared_ptr<X509>>> bundle_from_pem(const std::string& pem,
                                                           const std::string& source) {
  std::vector<std::shared_ptr<X509>> out;
  BioPtr bio = memory_bio(pem);
  ERR_clear_error();
  while (true) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!cert) break;
    out.push_back(share(X509Ptr(cert)));
  }
  const std::string fix = "; regenerate it or restore it from a backup";
  if (!clean_end_of_pem()) {
    return Error(source + ": certificate " + std::to_string(out.size() + 1) +
                 " is corrupt or truncated (" + drain_openssl_errors() + ")" + fix);
  }
  if (out.empty()) return Error(source + ": no PEM certificate in it" + fix);
  // PEM_read skips text between blocks but a half block at the end is "no start line" too: look
  // for a BEGIN without its END.
  std::string rest = bio_to_string(bio.get());
  if (!only_whitespace(rest) && rest.find("-----BEGIN") != std::string::npos) {
    return Error(source + ": ends with a truncated certificate" + fix);
  }
  return out;
}

std::string bundle_to_pem(const std::vector<std::shared_ptr<X509>>& certs) {
  std::string out;
  for (const auto& c : certs)
    out += certificate_to_pem(c.get());
  return out;
}

}  // namespace certs
