#include "provision/pki_generate.h"

#include <openssl/rand.h>

#include <cstdio>
#include <filesystem>

#include "certs/file_io.h"
#include "certs/key.h"
#include "certs/pem.h"
#include "provision/pki_state.h"

namespace provision {
namespace {

using certs::Error;
using certs::Result;
using certs::Status;

// Backdating absorbs clock skew between the workstation and the nodes (kubeadm does the same).
constexpr auto kBackdate = std::chrono::minutes(5);

// Queues a key/cert pair. Key first: a crash between the two renames leaves a cert/key mismatch,
// which the next run re-issues; the other order could leave a new cert with an old key.
Status add_pair(certs::AtomicWriteBatch& batch, const std::string& key_path, EVP_PKEY* key,
                const std::string& cert_path, X509* cert) {
  if (auto s = certs::ensure_dir(std::filesystem::path(cert_path).parent_path().string()); !s) {
    return s;
  }
  batch.add(key_path, certs::private_key_to_pem(key), certs::kPrivateKeyMode);
  batch.add(cert_path, certs::certificate_to_pem(cert), certs::kCertificateMode);
  return certs::ok_status();
}

Result<LoadedCa> create_new_ca(const Inventory& inv, certs::TimePoint now) {
  auto key = certs::generate_key(inv.pki.key_type);
  if (!key) return key.error();
  certs::CaSpec spec{ca_common_name(inv), now - kBackdate, now + inv.pki.ca_validity};
  auto cert = certs::create_ca(spec, key->get());
  if (!cert) return Error("creating the CA: " + cert.error().message);
  LoadedCa ca;
  ca.signer = certs::share(std::move(*cert));
  ca.bundle = {ca.signer};
  ca.key = std::move(*key);
  return ca;
}

void add_pair_outcomes(std::vector<FileOutcome>& out, const std::string& key_path,
                       const std::string& cert_path, FileAction action, const std::string& reason) {
  out.push_back({cert_path, action, reason});
  out.push_back({key_path, action, reason});
}

}  // namespace

std::string describe(const FileOutcome& o) {
  switch (o.action) {
    case FileAction::kCreated:
      return "created  " + o.path;
    case FileAction::kKept:
      return "kept     " + o.path;
    case FileAction::kReissued:
      return "reissued " + o.path + " (" + o.reason + ")";
  }
  return o.path;
}

namespace {

// A unique token per cluster keeps two clusters built from copies of one inventory apart.
std::string new_cluster_token(const std::string& cluster_name) {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof bytes);
  static const char* kHex = "0123456789abcdef";
  std::string token = cluster_name + "-";
  for (unsigned char b : bytes)
    token += {kHex[b >> 4], kHex[b & 0xf]};
  return token;
}

// The token kept in pki.dir, or nothing when there is none yet.
Result<std::optional<std::string>> stored_cluster_token(const Inventory& inv) {
  std::string path = cluster_token_path(inv);
  if (!certs::file_exists(path)) return std::optional<std::string>();
  auto text = certs::read_file(path);
  if (!text) return text.error();
  std::string token = text->substr(0, text->find_first_of("\r\n"));
  if (token.empty()) return Error(path + " is empty: delete it to generate a new token");
  return std::optional<std::string>(token);
}

}  // namespace

Result<std::string> cluster_token(const Inventory& inv, std::vector<FileOutcome>* outcomes) {
  if (!inv.cluster.token.empty()) return inv.cluster.token;
  auto stored = stored_cluster_token(inv);
  if (!stored) return stored.error();
  if (*stored) {
    if (outcomes) outcomes->push_back({cluster_token_path(inv), FileAction::kKept, ""});
    return **stored;
  }
  std::string token = new_cluster_token(inv.cluster.name);
  if (auto s = certs::ensure_dir(inv.pki.dir); !s) return s.error();
  if (auto s = certs::atomic_write(cluster_token_path(inv), token + "\n", certs::kPrivateKeyMode);
      !s) {
    return s.error();
  }
  if (outcomes) outcomes->push_back({cluster_token_path(inv), FileAction::kCreated, ""});
  return token;
}

Result<std::vector<FileOutcome>> generate_pki(const Inventory& inv,
                                              const GenerateOptions& options) {
  // Every check that can fail the run happens before the first write.
  if (auto s = certs::ensure_dir(inv.pki.dir); !s) return s.error();
  std::optional<LoadedCa> ca;
  if (!options.new_ca) {
    auto loaded = load_ca(inv);
    if (!loaded) return loaded.error();
    ca = std::move(*loaded);
  }

  std::vector<FileOutcome> out;
  certs::AtomicWriteBatch batch;  // everything becomes durable together, at the end
  if (!ca) {
    // --new-ca keeps the previous pair beside the new one: nodes still trust the old CA until they
    // are rotated, and an operator who ran it by mistake can put the old pair back.
    for (const std::string& path : {ca_cert_path(inv), ca_key_path(inv)}) {
      if (options.new_ca && certs::file_exists(path) &&
          std::rename(path.c_str(), (path + ".previous").c_str()) != 0) {
        return Error(path + ": cannot keep the previous CA as " + path + ".previous");
      }
    }
    auto created = create_new_ca(inv, options.now);
    if (!created) return created.error();
    ca = std::move(*created);
    if (auto s =
            add_pair(batch, ca_key_path(inv), ca->key.get(), ca_cert_path(inv), ca->signer.get());
        !s) {
      return s.error();
    }
    FileAction action = options.new_ca ? FileAction::kReissued : FileAction::kCreated;
    add_pair_outcomes(out, ca_key_path(inv), ca_cert_path(inv), action, "--new-ca");
  } else {
    add_pair_outcomes(out, ca_key_path(inv), ca_cert_path(inv), FileAction::kKept, "");
  }

  for (const CertTarget& target : desired_certs(inv)) {
    LeafAssessment a = assess_leaf(inv, target, ca, options.now);
    if (a.status == LeafStatus::kOk) {
      add_pair_outcomes(out, target.key_path, target.cert_path, FileAction::kKept, "");
      continue;
    }
    auto key = certs::generate_key(inv.pki.key_type);
    if (!key) return key.error();
    certs::LeafSpec spec{
        target.common_name, target.organization,     target.sans,
        target.role,        options.now - kBackdate, options.now + inv.pki.cert_validity};
    auto cert = certs::issue_leaf(spec, key->get(), ca->signer.get(), ca->key.get());
    if (!cert) return Error(target.id + ": " + cert.error().message);
    if (auto s = add_pair(batch, target.key_path, key->get(), target.cert_path, cert->get()); !s) {
      return s.error();
    }
    bool fresh = a.status == LeafStatus::kMissing && a.reason == "missing";
    add_pair_outcomes(out, target.key_path, target.cert_path,
                      fresh ? FileAction::kCreated : FileAction::kReissued, a.reason);
  }
  if (inv.cluster.token.empty()) {
    auto stored = stored_cluster_token(inv);
    if (!stored) return stored.error();
    FileAction action = *stored ? FileAction::kKept : FileAction::kCreated;
    if (!*stored) {
      batch.add(cluster_token_path(inv), new_cluster_token(inv.cluster.name) + "\n",
                certs::kPrivateKeyMode);
    }
    out.push_back({cluster_token_path(inv), action, ""});
  }
  if (auto s = batch.commit(); !s) return s.error();
  return out;
}

}  // namespace provision
