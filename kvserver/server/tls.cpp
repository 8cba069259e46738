#include "kvserver/server/tls.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kvserver/server/tls_peer_identity.h"
#include "kvserver/server/x509_text.h"

namespace kvserver::server {
namespace {

using certs::Error;
using certs::Result;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string flag(const std::string& prefix, const char* name) {
  return "--" + prefix + name;
}

Result<std::string> read_file(const std::string& path, const std::string& flag_name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(flag_name + " " + path + ": cannot read (" + std::strerror(errno) +
                 "); check the path and that kvserver's user may read it");
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

BioPtr memory_bio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string asn1_time_text(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// Counts the certificates of a PEM bundle; 0 means the file holds none.
int count_pem_certs(const std::string& pem) {
  BioPtr bio = memory_bio(pem);
  int n = 0;
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)})
    ++n;
  ERR_clear_error();  // the loop ends on an expected "no start line"
  return n;
}

}  // namespace

Result<CertSummary> check_tls_files(const TlsFiles& files, const std::string& flag_prefix) {
  const std::string cert_flag = flag(flag_prefix, "cert-file");
  const std::string key_flag = flag(flag_prefix, "key-file");
  const std::string ca_flag = flag(flag_prefix, "trusted-ca-file");
  if (files.cert_file.empty() != files.key_file.empty()) {
    return Error(cert_flag + " and " + key_flag + " go together: give both or neither");
  }
  if (files.client_cert_auth && files.trusted_ca_file.empty()) {
    return Error(flag(flag_prefix, "client-cert-auth") + " needs " + ca_flag +
                 " (the CA bundle client certificates are checked against)");
  }
  if (!files.enabled() && !files.trusted_ca_file.empty()) {
    return Error(ca_flag + " was given without " + cert_flag + "/" + key_flag +
                 ": TLS needs the server's own certificate and key too");
  }
  CertSummary summary;
  if (!files.enabled()) return summary;

  auto cert_pem = read_file(files.cert_file, cert_flag);
  if (!cert_pem) return cert_pem.error();
  X509Ptr cert{PEM_read_bio_X509(memory_bio(*cert_pem).get(), nullptr, nullptr, nullptr)};
  if (!cert) {
    ERR_clear_error();
    return Error(cert_flag + " " + files.cert_file +
                 ": no PEM certificate in it; give the node's "
                 "certificate file (-----BEGIN CERTIFICATE-----)");
  }
  auto key_pem = read_file(files.key_file, key_flag);
  if (!key_pem) return key_pem.error();
  PkeyPtr key{PEM_read_bio_PrivateKey(memory_bio(*key_pem).get(), nullptr, nullptr, nullptr)};
  if (!key) {
    ERR_clear_error();
    return Error(key_flag + " " + files.key_file +
                 ": no unencrypted PEM private key in it; give "
                 "the key that belongs to " +
                 cert_flag);
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Error(key_flag + " " + files.key_file + " does not match " + cert_flag + " " +
                 files.cert_file + "; give the key the certificate was issued for");
  }
  summary.subject = x509_name_text(X509_get_subject_name(cert.get()));
  summary.serial_hex = x509_serial_hex(cert.get());
  summary.not_after = asn1_time_text(X509_get0_notAfter(cert.get()));

  if (!files.trusted_ca_file.empty()) {
    auto ca_pem = read_file(files.trusted_ca_file, ca_flag);
    if (!ca_pem) return ca_pem.error();
    summary.ca_count = count_pem_certs(*ca_pem);
    if (summary.ca_count == 0) {
      return Error(ca_flag + " " + files.trusted_ca_file +
                   ": no PEM certificate in it; give the cluster CA bundle (ca.crt)");
    }
  }
  return summary;
}

Result<std::shared_ptr<grpc::ServerCredentials>> make_server_credentials(
    const TlsFiles& files, const std::string& flag_prefix, unsigned refresh_interval_sec) {
  auto checked = check_tls_files(files, flag_prefix);
  if (!checked) return checked.error();
  if (!files.enabled()) return grpc::InsecureServerCredentials();

  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.trusted_ca_file, refresh_interval_sec);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!files.trusted_ca_file.empty()) options.watch_root_certs();
  // etcd semantics: --client-cert-auth makes a client certificate signed by the bundle mandatory;
  // without it the server asks for nothing (a CA file alone does not turn on client auth in etcd).
  options.set_cert_request_type(files.client_cert_auth
                                    ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                    : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  // The peer port also wants a member's identity, not just any certificate of the CA
  // (tls_peer_identity.h): the admin/healthcheck client certs must not speak Raft.
  if (flag_prefix == "peer-" && files.client_cert_auth) {
    options.set_certificate_verifier(make_peer_identity_verifier());
  }
  return grpc::experimental::TlsServerCredentials(options);
}

Result<std::shared_ptr<grpc::ChannelCredentials>> make_channel_credentials(
    const TlsFiles& files, const std::string& flag_prefix, unsigned refresh_interval_sec) {
  auto checked = check_tls_files(files, flag_prefix);
  if (!checked) return checked.error();
  if (!files.enabled()) return grpc::InsecureChannelCredentials();
  if (files.trusted_ca_file.empty()) {
    // Falling back to the system roots would trust every public CA for cluster-internal traffic.
    return Error("dialing with " + flag(flag_prefix, "cert-file") + " needs " +
                 flag(flag_prefix, "trusted-ca-file") + " to check the other side's certificate");
  }
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.trusted_ca_file, refresh_interval_sec);
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  options.watch_identity_key_cert_pairs();
  options.watch_root_certs();
  auto creds = grpc::experimental::TlsCredentials(options);
  if (!creds)
    return Error("gRPC refused the TLS options built from " + flag(flag_prefix, "cert-file"));
  return creds;
}

Result<std::unique_ptr<PeerDialCredentials>> PeerDialCredentials::create(
    const TlsFiles& peer_files, unsigned refresh_interval_sec) {
  auto creds = make_channel_credentials(peer_files, "peer-", refresh_interval_sec);
  if (!creds) return creds.error();
  return std::unique_ptr<PeerDialCredentials>(
      new PeerDialCredentials(peer_files, refresh_interval_sec, std::move(*creds)));
}

PeerDialCredentials::PeerDialCredentials(TlsFiles files, unsigned refresh_interval_sec,
                                         std::shared_ptr<grpc::ChannelCredentials> creds)
    : files_(std::move(files)),
      refresh_interval_sec_(refresh_interval_sec),
      creds_(std::move(creds)) {}

std::shared_ptr<grpc::ChannelCredentials> PeerDialCredentials::current() const {
  std::lock_guard lock(mu_);
  return creds_;
}

Result<CertSummary> PeerDialCredentials::reload() {
  auto summary = check_tls_files(files_, "peer-");
  if (!summary) return summary.error();
  // A new provider reads the files in its constructor, so channels made from now on present the new
  // material at once; channels made earlier keep their provider (and its 1 s timer) until closed.
  auto creds = make_channel_credentials(files_, "peer-", refresh_interval_sec_);
  if (!creds) return creds.error();
  std::lock_guard lock(mu_);
  creds_ = std::move(*creds);
  return summary;
}

}  // namespace kvserver::server
