// How kvserver's log lines name a certificate: its subject/issuer as OpenSSL's one-line form and
// its serial in hex. Shared by the reload summary (tls.cpp) and the peer-port refusal message
// (tls_peer_identity.cpp), so both name a certificate the same way.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include <openssl/x509.h>

namespace kvserver::server {

// "/CN=admin/O=..." ; "?" never happens for a parsed certificate's names.
std::string x509_name_text(const X509_NAME* name);

// Upper-case hex without leading zeros, as `openssl x509 -serial` prints it; "?" if unreadable.
std::string x509_serial_hex(const X509* cert);

}  // namespace kvserver::server
