// Thin wrapper over libsystemd's sd_notify(3): tells systemd (Type=notify units) that kvserver is
// READY, what it is doing (STATUS=...), and that it is STOPPING.
//
// Contract: with no NOTIFY_SOCKET in the environment (run by hand, in tests, under another
// supervisor) every call is a successful no-op, so callers never branch on "am I under systemd".
// A socket that exists but cannot be written is an Error (the unit would hang in "activating").
// The environment is left untouched (unset_environment = 0) so children and later calls still see
// it.
//
// Thread-safety: sd_notify is thread-safe; so is this.
#pragma once

#include <string>

#include "certs/result.h"

namespace kvserver::server {

// Whether NOTIFY_SOCKET is set, i.e. notifications go somewhere.
bool notify_socket_present();

// Sends one notification block, e.g. "READY=1\nSTATUS=serving". Ok and no-op without NOTIFY_SOCKET.
certs::Status sd_notify_state(const std::string& state);

inline certs::Status notify_ready(const std::string& status) {
  return sd_notify_state("READY=1\nSTATUS=" + status);
}
inline certs::Status notify_status(const std::string& status) {
  return sd_notify_state("STATUS=" + status);
}
inline certs::Status notify_stopping() {
  return sd_notify_state("STOPPING=1");
}

}  // namespace kvserver::server
