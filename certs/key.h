// Private keys: the key types we offer, generation, PEM encoding, and comparison with a
// certificate.
//
// Key types follow cfssl/step/kubeadm practice (OPERATIONS-FACTS.md): ECDSA P-256 by default,
// ECDSA P-384, RSA 2048/3072/4096 and Ed25519. PEM is PKCS#8, unencrypted: the files are protected
// by their 0600 mode and by never leaving the machine they belong to (the CA key never leaves the
// workstation).
//
// Thread-safety: free functions over owned values; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "certs/openssl_util.h"
#include "certs/result.h"

namespace certs {

enum class KeyType { kEcdsaP256, kEcdsaP384, kRsa2048, kRsa3072, kRsa4096, kEd25519 };

// The inventory spelling of each type ("ecdsa-p256", ...), in the order above.
const std::vector<std::string>& key_type_names();
std::string key_type_name(KeyType type);
// Parses an inventory spelling; the error lists the accepted names.
Result<KeyType> parse_key_type(std::string_view name);

// The key type of an existing key, or an error for a kind we do not issue (e.g. DSA).
Result<KeyType> key_type_of(EVP_PKEY* key);

// RSA keys are used for key encipherment in TLS 1.2 RSA key exchange; EC and Ed25519 keys only
// sign.
bool is_rsa(KeyType type);

Result<PkeyPtr> generate_key(KeyType type);

std::string private_key_to_pem(EVP_PKEY* key);
// `source` names where the PEM came from (a file path) for the error message.
Result<PkeyPtr> private_key_from_pem(const std::string& pem, const std::string& source);

// True when `key` is the private half of the public key in `cert`.
bool key_matches_cert(EVP_PKEY* key, X509* cert);

}  // namespace certs
