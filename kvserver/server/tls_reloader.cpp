#include "kvserver/server/tls_reloader.h"

#include <optional>

#include <spdlog/spdlog.h>

namespace kvserver::server {
namespace {

void log_summary(const char* port, const CertSummary& s) {
  spdlog::info("TLS {} port: {} serial {} valid until {}, {} CA(s) trusted", port, s.subject,
               s.serial_hex, s.not_after, s.ca_count);
}

}  // namespace

TlsReloader::TlsReloader(TlsFiles client, TlsFiles peer, PeerDialCredentials* dial)
    : client_(std::move(client)), peer_(std::move(peer)), dial_(dial) {}

certs::Status TlsReloader::reload() {
  std::optional<certs::Error> first_error;
  auto note = [&](const certs::Error& e) {
    spdlog::error("TLS reload: {}; the previous certificate stays in use", e.message);
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
