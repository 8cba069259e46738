// SshdFixture: a REAL OpenSSH server (/usr/sbin/sshd -D -e -f CONFIG) on 127.0.0.1 and a free high
// port, with its own host key, authorized_keys and pid file in a private temp dir, for the
// provision/ssh tests. Nothing is mocked: libssh talks to the same sshd our users' nodes run.
//
// Lifecycle: the constructor generates keys (ssh-keygen), writes sshd_config and starts sshd; it
// waits for the port to accept connections (polled with a deadline, no fixed sleeps). restart()
// stops sshd and starts it again on the same port with another host key (for the changed-key test).
// The destructor stops sshd by its PID (SIGTERM, waitpid) and removes the temp dir; if the test
// process dies first, sshd gets SIGTERM too (PR_SET_PDEATHSIG: create the fixture on the thread
// that outlives it, as Catch's test cases do).
//
// The tests run as root (sshd needs it for privilege separation; /run/sshd is created if missing).
// Sessions get HOME=<temp dir>/home, empty, so the invoking user's shell rc files do not run in
// them (bash started by sshd reads ~/.bashrc) and cannot add output the tests compare.
//
// Thread-safety: construct/restart/destroy from one thread; read-only accessors are safe anywhere.
#pragma once

#include <sys/types.h>

#include <string>

#include "provision/ssh/connection_spec.h"

namespace provision::ssh::testing {

// Output and exit code of a local shell command (the tests' outside judges: ssh-keygen, sha256sum).
struct LocalResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
LocalResult run_local(const std::string& command);

// A port on 127.0.0.1 that was free a moment ago.
int free_port();

class SshdFixture {
 public:
  SshdFixture();
  ~SshdFixture();
  SshdFixture(const SshdFixture&) = delete;
  SshdFixture& operator=(const SshdFixture&) = delete;

  // Stops sshd and starts it again on the same port serving `host_key` (a private key path).
  void restart(const std::string& host_key);

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  const std::string& host_key() const { return host_key_; }  // current host private key
  const std::string& other_host_key() const { return other_host_key_; }
  const std::string& client_key() const { return client_key_; }      // in authorized_keys
  const std::string& stranger_key() const { return stranger_key_; }  // NOT in authorized_keys
  // known_hosts already holding this server's current key.
  const std::string& pinned_known_hosts() const { return pinned_known_hosts_; }
  std::string log() const;  // sshd's stderr so far, for failure messages

  // A spec for this server as root with client_key() and pinned_known_hosts().
  ConnectionSpec spec(const std::string& node) const;

 private:
  void start();
  void stop();

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string host_key_;
  std::string other_host_key_;
  std::string client_key_;
  std::string stranger_key_;
  std::string pinned_known_hosts_;
};

}  // namespace provision::ssh::testing
