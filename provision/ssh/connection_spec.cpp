#include "provision/ssh/connection_spec.h"

#include <cstdlib>

namespace provision::ssh {

namespace {

std::string host_port(const std::string& host, int port) {
  // A bare IPv6 literal needs brackets or "::1:22" would be ambiguous.
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace

std::string ConnectionSpec::where() const {
  return "node " + (node.empty() ? std::string("?") : node) + " (" + host_port(host, port) + ")";
}

std::string ConnectionSpec::known_hosts_path() const {
  if (!known_hosts.empty()) return known_hosts;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "") + "/.ssh/known_hosts";
}

certs::Status ConnectionSpec::validate() const {
  if (node.empty()) return certs::Error("ssh connection to " + host + ": the node has no name");
  if (host.empty())
    return certs::Error(where() + ": no host address - set `host` in the inventory");
  if (port <= 0 || port > 65535)
    return certs::Error(where() + ": port " + std::to_string(port) +
                        " is out of range - use 1..65535 (sshd listens on 22 by default)");
  if (user.empty()) return certs::Error(where() + ": no ssh user - set `user` (e.g. root)");
  if (identity_file.empty() && !use_agent)
    return certs::Error(where() +
                        ": no way to authenticate - set `identity_file` to a private key or "
                        "`use_agent: true` to use the keys in ssh-agent");
  if (connect_timeout_ms <= 0)
    return certs::Error(where() + ": connect_timeout_ms must be positive, got " +
                        std::to_string(connect_timeout_ms));
  return certs::ok_status();
}

std::string known_hosts_name(const std::string& host, int port) {
  if (port == 22) return host;
  return "[" + host + "]:" + std::to_string(port);
}

}  // namespace provision::ssh
