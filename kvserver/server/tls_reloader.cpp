#include "kvserver/server/tls_reloader.h"

#include <optional>

#include <spdlog/spdlog.h>

namespace kvserver::server {
namespace {

// "cert reloaded" is the phrase operators (and the e2e test) look for; the listening side is
// gRPC's file watcher, hence "within" its refresh interval (tls.h).
void log_summary(const char* port, const CertSummary& s) {
  spdlog::info(
      "cert reloaded: TLS {} port: {} serial {} valid until {}, {} CA(s) trusted; new "
      "connections use them within {} s",
      port, s.subject, s.serial_hex, s.not_after, s.ca_count, kTlsRefreshIntervalSec);
}

}  // namespace

TlsReloader::TlsReloader(TlsFiles client, TlsFiles peer, PeerDialCredentials* dial)
    : client_(std::move(client)), peer_(std::move(peer)), dial_(dial) {}

certs::Status TlsReloader::reload() {
  std::optional<certs::Error> first_error;
  auto note = [&](const certs::Error& e) {
    // Dialing keeps its previous credentials; gRPC's listening side does not check the files the
    // way we do, so say what an operator must expect there too (tls.h, CAVEAT).
    spdlog::error(
        "TLS reload: {}; new peer connections keep the previous certificate, but a listening "
        "port may refuse new connections until the files are fixed",
        e.message);
    if (!first_error) first_error = e;
  };

  if (client_.enabled()) {
    auto s = check_tls_files(client_, "");
    if (s) {
      log_summary("client", *s);
    } else {
      note(s.error());
    }
  }
  if (peer_.enabled()) {
    // PeerDialCredentials::reload checks the same files, so one check serves both peer roles.
    auto s = dial_ != nullptr ? dial_->reload() : check_tls_files(peer_, "peer-");
    if (s) {
      log_summary("peer", *s);
    } else {
      note(s.error());
    }
  }
  if (first_error) return *first_error;
  return certs::ok_status();
}

}  // namespace kvserver::server
