// ConnectionSpec: everything needed to open one SSH session to one node, as the inventory says it.
//
// It is a plain description: no I/O happens until Session::connect() uses it. `validate()` reports
// the mistakes that would otherwise surface as confusing libssh errors (empty host, port 0, no way
// to authenticate). Error messages elsewhere name the node as `where()` prints it, e.g. "node h2
// (10.213.0.12:22)", so a user with twenty nodes knows which one failed.
//
// Host-key policy is deliberately not switchable off: an unknown host is refused unless
// accept_new_host_keys (trust on first use, recorded in known_hosts), and a changed key is always
// refused. See host_key.h.
//
// Thread-safety: plain value.
#pragma once

#include <string>

#include "certs/result.h"

namespace provision::ssh {

struct ConnectionSpec {
  std::string node;  // inventory name, used in every message ("h2")
  std::string host;  // address or DNS name
  int port = 22;
  std::string user = "root";
  std::string identity_file;  // private key path; empty = do not use a key file
  bool use_agent = false;     // also try keys held by ssh-agent
  std::string agent_socket;   // ssh-agent socket; empty = $SSH_AUTH_SOCK
  std::string known_hosts;    // empty = ~/.ssh/known_hosts
  bool sudo = false;          // wrap privileged commands in `sudo -n` (non-root users)
  int connect_timeout_ms = 10000;
  bool accept_new_host_keys = false;  // record unknown hosts in known_hosts instead of refusing

  // "node h2 (10.213.0.12:22)"; IPv6 literals are bracketed like OpenSSH does: "[::1]:22".
  std::string where() const;
  // The known_hosts file actually used: known_hosts, or $HOME/.ssh/known_hosts when empty.
  std::string known_hosts_path() const;
  // Reports the first thing that makes this spec unusable, naming the node and the field.
  certs::Status validate() const;
};

// The name OpenSSH files a host under in known_hosts: "host" for port 22, "[host]:port" otherwise.
std::string known_hosts_name(const std::string& host, int port);

}  // namespace provision::ssh
