// Session: one authenticated SSH connection to one node (libssh), over which provision runs
// commands and uploads files (upload.h).
//
// connect() does, in order: validate the spec, TCP connect with connect_timeout_ms, check the host
// key against known_hosts (host_key.h: unknown refused unless accept_new_host_keys, changed always
// refused), then authenticate with the key file and/or ssh-agent. Every failure is an Error whose
// message starts with spec.where() ("node h2 (10.213.0.12:22): ..."), says what was attempted and
// what to do; libssh's own text only ever appears in parentheses after that.
//
// ~/.ssh/config is NOT read: the inventory is the one source of truth for host, port, user and key,
// so a stray config entry cannot silently redirect a node.
//
// Commands: exec() returns whatever the command did (exit code, stdout, stderr); run() additionally
// turns a non-zero exit into an Error naming the node, the command and the tail of stderr. Commands
// are POSIX sh (`sh -c`) and run under coreutils `timeout` on the node, so one that outlives
// timeout_ms is really stopped there (TERM, KILL 5 s later) and reported as an Error. With
// RunOptions::privileged and spec.sudo, the command runs as `sudo -n -- sh -c '...'`, and sudo's
// own refusals become a sentence saying to configure NOPASSWD or to use root.
//
// Thread-safety: a Session is used by one thread at a time (libssh sessions are not thread-safe);
// different Sessions are independent, which is what run_on_all() (parallel.h) relies on.
#pragma once

#include <memory>
#include <string>

#include "certs/result.h"
#include "provision/ssh/connection_spec.h"

// libssh's handle types, forward-declared so users of this header do not include libssh.
struct ssh_session_struct;
struct sftp_session_struct;

namespace provision::ssh {

struct CommandResult {
  int exit_code = -1;  // -1: the remote end sent no exit status (killed by a signal)
  std::string stdout_text;
  std::string stderr_text;
};

struct RunOptions {
  bool privileged = false;  // needs root: wrapped in `sudo -n` when the spec says sudo
  int timeout_ms = 120000;
  std::string stdin_data;  // sent to the command's stdin, then EOF (stdin is always closed)
};

class Session {
 public:
  static certs::Result<std::unique_ptr<Session>> connect(const ConnectionSpec& spec);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const ConnectionSpec& spec() const { return spec_; }
  std::string where() const { return spec_.where(); }

  // Runs `command` through the login user's shell; any exit code is a successful Result.
  certs::Result<CommandResult> exec(const std::string& command, const RunOptions& options = {});
  // Like exec(), but a non-zero exit code is an Error (with sudo's refusals explained).
  certs::Result<CommandResult> run(const std::string& command, const RunOptions& options = {});

  // The SFTP subsystem on this connection, opened on first use. The pointer stays valid for the
  // Session's lifetime. Used by upload.cpp.
  certs::Result<sftp_session_struct*> sftp();

 private:
  Session(ConnectionSpec spec, ssh_session_struct* session);
  certs::Status authenticate();

  ConnectionSpec spec_;
  ssh_session_struct* session_;
  sftp_session_struct* sftp_ = nullptr;
};

}  // namespace provision::ssh
