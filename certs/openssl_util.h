// RAII owners for OpenSSL objects and the one place that turns OpenSSL's error queue into text.
//
// Every OpenSSL object this project holds is owned by one of these unique_ptr aliases, so no path
// (including early error returns) leaks or double-frees. Thread-safety: OpenSSL 3 objects are not
// shared across threads here; the error queue is per thread.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace certs {

template <auto Free>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX_free>>;

// Shared ownership for values that are copied around (a parsed certificate in a bundle, a key in a
// plan): up-refs instead of deep copies.
std::shared_ptr<X509> share(X509Ptr cert);
std::shared_ptr<EVP_PKEY> share(PkeyPtr key);

// Drains this thread's OpenSSL error queue into one short line ("" if it was empty). Callers put it
// after their own sentence, which says what was being done and to what.
std::string drain_openssl_errors();

// BIO helpers: a memory BIO over `data` (read-only) and the contents of a memory BIO as a string.
BioPtr memory_bio(const std::string& data);
std::string bio_to_string(BIO* bio);

}  // namespace certs
