#include "certs/openssl_util.h"

#include <openssl/err.h>

namespace certs {

std::shared_ptr<X509> share(X509Ptr cert) {
  return std::shared_ptr<X509>(cert.release(), X509_free);
}

std::shared_ptr<EVP_PKEY> share(PkeyPtr key) {
  return std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
}

std::string drain_openssl_errors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    // The reason string alone ("unsupported", "bad decrypt") reads better than the full
    // "error:1E08010C:DECODER routines::unsupported" line; the library name adds context.
    const char* reason = ERR_reason_error_string(code);
    const char* lib = ERR_lib_error_string(code);
    std::string item = reason ? reason : "error " + std::to_string(code);
    if (lib) item = std::string(lib) + ": " + item;
    if (out.find(item) == std::string::npos) out += (out.empty() ? "" : "; ") + item;
  }
  return out;
}

BioPtr memory_bio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace certs
