#include "certs/key.h"

#include <openssl/pem.h>

#include <array>

namespace certs {
namespace {

struct KeyTypeInfo {
  KeyType type;
  const char* name;
};

constexpr std::array<KeyTypeInfo, 6> kKeyTypes{{
    {KeyType::kEcdsaP256, "ecdsa-p256"},
    {KeyType::kEcdsaP384, "ecdsa-p384"},
    {KeyType::kRsa2048, "rsa-2048"},
    {KeyType::kRsa3072, "rsa-3072"},
    {KeyType::kRsa4096, "rsa-4096"},
    {KeyType::kEd25519, "ed25519"},
}};

std::string joined_names() {
  std::string out;
  for (const auto& name : key_type_names())
    out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

const std::vector<std::string>& key_type_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& info : kKeyTypes)
      v.emplace_back(info.name);
    return v;
  }();
  return names;
}

std::string key_type_name(KeyType type) {
  for (const auto& info : kKeyTypes) {
    if (info.type == type) return info.name;
  }
  return "unknown";
}

Result<KeyType> parse_key_type(std::string_view name) {
  for (const auto& info : kKeyTypes) {
    if (name == info.name) return info.type;
  }
  return Error("unsupported key type '" + std::string(name) + "': use one of " + joined_names());
}

bool is_rsa(KeyType type) {
  return type == KeyType::kRsa2048 || type == KeyType::kRsa3072 || type == KeyType::kRsa4096;
}

Result<KeyType> key_type_of(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
      return KeyType::kEd25519;
    case EVP_PKEY_RSA:
      switch (EVP_PKEY_get_bits(key)) {
        case 2048:
          return KeyType::kRsa2048;
        case 3072:
          return KeyType::kRsa3072;
        case 4096:
          return KeyType::kRsa4096;
      }
      return Error("RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) +
                   " bits is not one we issue (" + joined_names() + ")");
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      EVP_PKEY_get_group_name(key, group, sizeof group, &len);
      std::string_view g(group, len);
      if (g == "prime256v1" || g == "P-256") return KeyType::kEcdsaP256;
      if (g == "secp384r1" || g == "P-384") return KeyType::kEcdsaP384;
      return Error("EC key on curve " + std::string(g) + " is not one we issue");
    }
  }
  return Error("key algorithm is not one we issue (" + joined_names() + ")");
}

Result<PkeyPtr> generate_key(KeyType type) {
  EVP_PKEY* key = nullptr;
  switch (type) {
    case KeyType::kEcdsaP256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEcdsaP384:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kRsa2048:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case KeyType::kRsa3072:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
      break;
    case KeyType::kRsa4096:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096});
      break;
    case KeyType::kEd25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (!key) {
    return Error("generating a " + key_type_name(type) + " key failed: " + drain_openssl_errors());
  }
  return PkeyPtr(key);
}

std::string private_key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return bio_to_string(bio.get());
}

Result<PkeyPtr> private_key_from_pem(const std::string& pem, const std::string& source) {
  BioPtr bio = memory_bio(pem);
  // A null password callback + empty passphrase makes an encrypted key fail instead of prompting on
  // the terminal, which would hang a non-interactive run.
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(""));
  if (!key) {
    std::string why = drain_openssl_errors();
    return Error(source + ": not a readable PEM private key (" + (why.empty() ? "no data" : why) +
                 "); delete it to have a new one generated, or restore it from a backup");
  }
  return PkeyPtr(key);
}

bool key_matches_cert(EVP_PKEY* key, X509* cert) {
  EVP_PKEY* pub = X509_get0_pubkey(cert);
  return pub && EVP_PKEY_eq(pub, key) == 1;
}

}  // namespace certs
