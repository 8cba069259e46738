#include "kvserver/server/tls_peer_identity.h"

#include <chrono>
#include <map>
#include <mutex>

#include <grpcpp/support/status.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include "kvserver/server/x509_text.h"

namespace kvserver::server {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

std::string usage_text(uint32_t xku) {
  std::string out;
  auto add = [&](uint32_t bit, const char* name) {
    if ((xku & bit) != 0) out += (out.empty() ? "" : "+") + std::string(name);
  };
  add(XKU_SSL_SERVER, "serverAuth");
  add(XKU_SSL_CLIENT, "clientAuth");
  add(XKU_CODE_SIGN, "codeSigning");
  add(XKU_SMIME, "emailProtection");
  add(XKU_OCSP_SIGN, "OCSPSigning");
  add(XKU_TIMESTAMP, "timeStamping");
  return out.empty() ? "none we know" : out;
}

// Logs a refusal unless the same certificate was refused less than a minute ago.
void log_refusal(const std::string& reason) {
  using Clock = std::chrono::steady_clock;
  static std::mutex mu;
  static std::map<std::string, Clock::time_point> last_logged;  // guarded by mu
  const auto now = Clock::now();
  {
    std::lock_guard lock(mu);
    auto it = last_logged.find(reason);
    if (it != last_logged.end() && now - it->second < std::chrono::minutes(1)) return;
    if (last_logged.size() > 1000) last_logged.clear();  // bounded, whatever the peers send
    last_logged[reason] = now;
  }
  spdlog::warn("peer port: refused a connection: {}", reason);
}

class PeerIdentityVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    const grpc::string_ref pem = request->peer_cert();
    std::string problem = peer_identity_problem(std::string_view(pem.data(), pem.size()));
    if (problem.empty()) {
      *sync_status = grpc::Status::OK;
    } else {
      log_refusal(problem);
      *sync_status = grpc::Status(grpc::StatusCode::PERMISSION_DENIED, problem);
    }
    return true;  // decided synchronously; the callback is never used
  }

  // Nothing to cancel: Verify never goes asynchronous.
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}
};

}  // namespace

std::string peer_identity_problem(std::string_view peer_cert_pem) {
  if (peer_cert_pem.empty()) {
    return "no client certificate; a peer must present its peer certificate "
           "(--peer-cert-file on the other member)";
  }
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(peer_cert_pem.data(), static_cast<int>(peer_cert_pem.size())));
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return "the client certificate could not be parsed";
  }
  // X509_get_extended_key_usage: all bits set when the certificate has no EKU extension.
  const uint32_t xku = X509_get_extended_key_usage(cert.get());
  if ((xku & XKU_SSL_SERVER) != 0) return "";
  return "certificate " + x509_name_text(X509_get_subject_name(cert.get())) + " (serial " +
         x509_serial_hex(cert.get()) + ", issuer " +
         x509_name_text(X509_get_issuer_name(cert.get())) + ") has extended key usage " +
         usage_text(xku) +
         ", not serverAuth: it is a client certificate, not a member's; a peer must present its "
         "peer certificate (serverAuth+clientAuth)";
}

std::shared_ptr<grpc::experimental::CertificateVerifier> make_peer_identity_verifier() {
  return grpc::experimental::ExternalCertificateVerifier::Create<PeerIdentityVerifier>();
}

}  // namespace kvserver::server
