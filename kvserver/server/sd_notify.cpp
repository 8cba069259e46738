#include "kvserver/server/sd_notify.h"

#include <cstdlib>
#include <cstring>

#include <systemd/sd-daemon.h>

namespace kvserver::server {

bool notify_socket_present() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return socket != nullptr && socket[0] != '\0';
}

certs::Status sd_notify_state(const std::string& state) {
  const int rc = sd_notify(0, state.c_str());
  if (rc < 0) {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    return certs::Error("sd_notify to NOTIFY_SOCKET=" + std::string(socket ? socket : "") +
                        " failed: " + std::strerror(-rc) + "; systemd will not see \"" + state +
                        "\"");
  }
  return certs::ok_status();  // rc == 0: no socket, nothing to do; rc > 0: sent
}

}  // namespace kvserver::server
