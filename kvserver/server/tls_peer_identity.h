// Peer identity on the peer port: who may speak Raft to this member.
//
// With --peer-client-cert-auth, gRPC/OpenSSL already require a client certificate that chains to
// --peer-trusted-ca-file. OpenSSL checks it for the "TLS client" purpose only, so the admin and
// healthcheck client certificates (EKU clientAuth, same CA) would pass too - and could then inject
// Raft messages. A peer is a member, and every member's peer certificate is also a server
// certificate (EKU serverAuth+clientAuth, certs/issue.h; etcd's peer certs look the same). So the
// peer port additionally requires serverAuth in the client certificate's extended key usage.
//
// Where: a gRPC ExternalCertificateVerifier (TlsServerCredentialsOptions::set_certificate_verifier)
// that runs right after the TLS handshake, before any HTTP/2 frame is exchanged: a refused peer
// never reaches the peer service. The client sees its connection closed (gRPC: UNAVAILABLE). The
// member logs why, at most once a minute per certificate (a misconfigured client redials with
// backoff; the log stays one line per state change, not one per attempt).
//
// A certificate without an extended key usage extension may be used for any purpose (RFC 5280
// 4.2.1.12), so it passes, as it would in OpenSSL's own purpose checks.
//
// Thread-safety: all functions are thread-safe; gRPC calls the verifier from its threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/security/tls_certificate_verifier.h>

namespace kvserver::server {

// Empty when the PEM certificate may act as a peer; otherwise why not, naming the certificate
// ("certificate CN=admin (serial 0A1B..., issuer CN=lc-ca) has extended key usage clientAuth only;
// a peer must present its peer certificate (serverAuth+clientAuth)").
std::string peer_identity_problem(std::string_view peer_cert_pem);

// The verifier the peer port's server credentials install (tls.h: make_server_credentials with
// flag_prefix "peer-" and client_cert_auth).
std::shared_ptr<grpc::experimental::CertificateVerifier> make_peer_identity_verifier();

}  // namespace kvserver::server
