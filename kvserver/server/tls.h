// TLS for kvserver's two ports: server credentials for the client port (--cert-file, --key-file,
// --trusted-ca-file, --client-cert-auth) and the peer port (--peer-*), and the client credentials a
// member uses to dial its peers (the peer cert, which carries clientAuth).
//
// Contract:
//  - Files are checked up front (check_tls_files): readable, PEM, key matches cert, CA bundle holds
//    at least one certificate. Errors name the flag, the path and the fix.
//  - Credentials use gRPC's TlsServerCredentials/TlsCredentials with a
//  FileWatcherCertificateProvider
//    (DESIGN §3): certificate, key AND the CA bundle (several CAs in one file, for staged CA
//    rotation) are re-read by gRPC every refresh interval without a restart. Replace each file
//    atomically (write temp + rename), as `provision` does: a half-written file is never read.
//    CAVEAT (seen with gRPC 1.51): the listening side does NOT skip an inconsistent pair. If a
//    refresh reads a key that does not match the certificate (the instant between renaming the
//    new key and the new cert), gRPC logs "Handshaker factory creation failed" and that port
//    refuses NEW connections until a refresh reads a matching pair (<= 1 s later); live
//    connections are untouched. Keeping the key (re-signing it) avoids the window; the two
//    renames right after each other make it microseconds. check_tls_files, the reloader and
//    PeerDialCredentials do refuse such pairs.
//  - TLS >= 1.2: gRPC's TLS credentials negotiate only TLS 1.2 and 1.3 (the C core defaults the
//    minimum to TLS1_2); 1.51's C++ API has no knob to lower it, so nothing here can weaken it.
//  - Reload on demand (SIGHUP): gRPC 1.51 offers no public way to make a file watcher re-read now,
//    nor to swap the provider of a port that is already listening. So:
//      * dialing side: PeerDialCredentials::reload() builds a fresh provider (which reads the files
//        in its constructor) and hands it to every channel created afterwards - immediate;
//      * listening side: the provider's own timer is the mechanism; we run it every
//        kTlsRefreshIntervalSec (1 s: three small file reads per second per port is noise), so
//        after a SIGHUP (TlsReloader, tls_reloader.h) the listening ports converge within a second.
//    Rebuilding the gRPC server to force it would drop every live watch stream; not worth 1 s.
//  - Connections already established keep the material they were handshaken with.
//
// Thread-safety: free functions are thread-safe. PeerDialCredentials: all methods thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "certs/result.h"

namespace kvserver::server {

// How often gRPC's file watcher re-reads cert, key and CA files; see the contract above.
constexpr unsigned kTlsRefreshIntervalSec = 1;

// One port's TLS files, as given by the flags.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
  bool client_cert_auth = false;

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// What the log line after a (re)load says about a certificate.
struct CertSummary {
  std::string subject;
  std::string serial_hex;
  std::string not_after;  // "2027-11-25 08:00:00 UTC"
  int ca_count = 0;       // number of certificates in the CA bundle, 0 if none given
};

// Checks the files behind one port's TLS flags. `flag_prefix` is "" or "peer-" and only shapes the
// messages ("--peer-key-file ... does not match --peer-cert-file ...").
certs::Result<CertSummary> check_tls_files(const TlsFiles& files, const std::string& flag_prefix);

// Server credentials for one listening port: TLS from `files` (mTLS when client_cert_auth), or
// insecure when files.enabled() is false. Files are checked first. flag_prefix "peer-" means the
// peer port: with client_cert_auth a client must also present a member's identity, i.e. a
// certificate with serverAuth (tls_peer_identity.h), not just any certificate of the CA.
certs::Result<std::shared_ptr<grpc::ServerCredentials>> make_server_credentials(
    const TlsFiles& files, const std::string& flag_prefix,
    unsigned refresh_interval_sec = kTlsRefreshIntervalSec);

// Channel credentials presenting `files`' cert and trusting its CA bundle; server hostname/IP is
// checked against the peer's certificate SANs. Insecure when files.enabled() is false.
certs::Result<std::shared_ptr<grpc::ChannelCredentials>> make_channel_credentials(
    const TlsFiles& files, const std::string& flag_prefix,
    unsigned refresh_interval_sec = kTlsRefreshIntervalSec);

// The credentials a member dials its peers with; reload() swaps them for channels created later.
class PeerDialCredentials {
 public:
  static certs::Result<std::unique_ptr<PeerDialCredentials>> create(
      const TlsFiles& peer_files, unsigned refresh_interval_sec = kTlsRefreshIntervalSec);

  // The credentials to use for a channel created now.
  std::shared_ptr<grpc::ChannelCredentials> current() const;

  // Re-checks the files and, if they are good, builds fresh credentials. On error the previous
  // credentials stay in use and the Error says why.
  certs::Result<CertSummary> reload();

 private:
  PeerDialCredentials(TlsFiles files, unsigned refresh_interval_sec,
                      std::shared_ptr<grpc::ChannelCredentials> creds);

  const TlsFiles files_;
  const unsigned refresh_interval_sec_;
  mutable std::mutex mu_;
  std::shared_ptr<grpc::ChannelCredentials> creds_;  // guarded by mu_
};

}  // namespace kvserver::server
