#include "provision/ssh/session.h"

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "provision/ssh/host_key.h"
#include "provision/ssh/remote_shell.h"

namespace provision::ssh {

namespace {

using certs::Error;
using certs::Result;
using certs::Status;

void init_libssh_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    // ssh_init sets up libssh's crypto; it must run once before any thread uses libssh.
    if (ssh_init() != SSH_OK) {
      std::fprintf(stderr, "provision: ssh_init() failed - libssh/OpenSSL is unusable\n");
      std::abort();
    }
  });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Turns libssh's connect-phase text into what the user should check.
std::string explain_connect_failure(const ConnectionSpec& spec, const std::string& libssh_text) {
  const std::string t = lower(libssh_text);
  std::string what;
  if (t.find("refused") != std::string::npos) {
    what = "connection refused - is sshd running and the port right?";
  } else if (t.find("timeout") != std::string::npos || t.find("timed out") != std::string::npos) {
    what = "no answer within " + std::to_string(spec.connect_timeout_ms) +
           " ms - is the host up, the address right, and port " + std::to_string(spec.port) +
           " open in its firewall?";
  } else if (t.find("resolve") != std::string::npos) {
    what = "cannot resolve host name '" + spec.host + "' - check the address in the inventory";
  } else if (t.find("unreachable") != std::string::npos ||
             t.find("no route") != std::string::npos) {
    what = "network unreachable - check the address and this machine's routes";
  } else if (t.find("kex") != std::string::npos || t.find("negotiat") != std::string::npos ||
             t.find("algorithm") != std::string::npos) {
    what = "could not agree on SSH algorithms with the server - is sshd very old or restricted?";
  } else if (t.find("disconnect") != std::string::npos || t.find("closed") != std::string::npos ||
             t.find("banner") != std::string::npos) {
    what =
        "the server closed the connection during the SSH handshake - check sshd's log on the "
        "node (MaxStartups, AllowUsers, a firewall dropping the connection?)";
  } else {
    what = "could not open an SSH connection - is sshd running there?";
  }
  return spec.where() + ": " + what + " (libssh: " + libssh_text + ")";
}

// After TERM, `timeout` waits this long before KILL.
constexpr int kKillGraceMs = 5000;
// How much later than that our own clock gives up on a node that stopped answering.
constexpr int kBackstopSlackMs = 5000;

bool set_option(ssh_session s, ssh_options_e option, const void* value) {
  return ssh_options_set(s, option, value) == SSH_OK;
}

}  // namespace

Session::Session(ConnectionSpec spec, ssh_session_struct* session)
    : spec_(std::move(spec)), session_(session) {}

Session::~Session() {
  if (sftp_ != nullptr) sftp_free(sftp_);
  if (ssh_is_connected(session_)) ssh_disconnect(session_);
  ssh_free(session_);
}

Result<std::unique_ptr<Session>> Session::connect(const ConnectionSpec& spec) {
  if (Status valid = spec.validate(); !valid) return valid.error();
  init_libssh_once();

  ssh_session raw = ssh_new();
  if (raw == nullptr) return Error(spec.where() + ": out of memory creating an SSH session");
  // Owned by the Session from here on, so every early return frees it.
  std::unique_ptr<Session> session(new Session(spec, raw));

  const long timeout_us = static_cast<long>(spec.connect_timeout_ms) * 1000L;
  const int no = 0;
  // Without TCP_NODELAY each synchronous SFTP write waits out Nagle + delayed ACK: a 24 MiB
  // upload in 64 KiB chunks took 12 s instead of under 1 s on loopback.
  const int yes = 1;
  const int verbosity = SSH_LOG_NOLOG;
  const std::string known_hosts = spec.known_hosts_path();
  bool options_ok = set_option(raw, SSH_OPTIONS_HOST, spec.host.c_str()) &&
                    set_option(raw, SSH_OPTIONS_PORT, &spec.port) &&
                    set_option(raw, SSH_OPTIONS_USER, spec.user.c_str()) &&
                    set_option(raw, SSH_OPTIONS_KNOWNHOSTS, known_hosts.c_str()) &&
                    set_option(raw, SSH_OPTIONS_TIMEOUT_USEC, &timeout_us) &&
                    set_option(raw, SSH_OPTIONS_PROCESS_CONFIG, &no) &&
                    set_option(raw, SSH_OPTIONS_NODELAY, &yes) &&
                    set_option(raw, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
  if (options_ok && !spec.agent_socket.empty())
    options_ok = set_option(raw, SSH_OPTIONS_IDENTITY_AGENT, spec.agent_socket.c_str());
  if (!options_ok) {
    return Error(spec.where() + ": invalid SSH options (libssh: " + ssh_get_error(raw) +
                 ") - check host, port and user in the inventory");
  }

  if (ssh_connect(raw) != SSH_OK) return Error(explain_connect_failure(spec, ssh_get_error(raw)));
  if (Status known = verify_host_key(raw, spec); !known) return known.error();
  if (Status auth = session->authenticate(); !auth) return auth.error();
  return session;
}

Status Session::authenticate() {
  const std::string where = spec_.where();
  std::string tried;

  if (!spec_.identity_file.empty()) {
    const std::string& path = spec_.identity_file;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      return Error(where + ": identity file " + path +
                   " does not exist - fix identity_file in the inventory");
    }
    ssh_key key = nullptr;
    if (ssh_pki_import_privkey_file(path.c_str(), nullptr, nullptr, nullptr, &key) != SSH_OK) {
      return Error(where + ": cannot load private key " + path +
                   " (unreadable, not a private key, or passphrase-protected) - for a key with a "
                   "passphrase, add it to ssh-agent (`ssh-add " +
                   path + "`) and set use_agent: true");
    }
    const int rc = ssh_userauth_publickey(session_, nullptr, key);
    ssh_key_free(key);
    if (rc == SSH_AUTH_SUCCESS) return certs::ok_status();
    if (rc == SSH_AUTH_ERROR) {
      return Error(where + ": connection failed while authenticating (libssh: " +
                   ssh_get_error(session_) + ") - check sshd's log on the node");
    }
    tried = "key " + path;
  }

  if (spec_.use_agent) {
    const char* env_socket = std::getenv("SSH_AUTH_SOCK");
    if (spec_.agent_socket.empty() && (env_socket == nullptr || *env_socket == '\0')) {
      return Error(where +
                   ": use_agent is set but no ssh-agent is reachable (SSH_AUTH_SOCK is "
                   "unset) - start one (`eval $(ssh-agent)`, `ssh-add KEY`) or set "
                   "identity_file");
    }
    const int rc = ssh_userauth_agent(session_, nullptr);
    if (rc == SSH_AUTH_SUCCESS) return certs::ok_status();
    if (rc == SSH_AUTH_ERROR) {
      return Error(where +
                   ": authentication through ssh-agent failed (libssh: " + ssh_get_error(session_) +
                   ") - is the agent running and does `ssh-add -l` list your key?");
    }
    tried += std::string(tried.empty() ? "" : " and ") + "the keys in ssh-agent";
  }

  return Error(where + ": the server refused to log in user " + spec_.user + " with " + tried +
               " - is the matching public key in ~" + spec_.user +
               "/.ssh/authorized_keys on the node, and is the user right?");
}

Result<CommandResult> Session::exec(const std::string& command, const RunOptions& options) {
  const std::string where = spec_.where();
  const std::string inner =
      (options.privileged && spec_.sudo) ? sudo_wrap(command) : "sh -c " + shell_quote(command);
  // The deadline is enforced on the node by coreutils `timeout`: OpenSSH ignores ssh "signal"
  // requests for root logins ("session signalling requires privilege separation"), and closing
  // the channel does not stop a process that does not write. Our own clock is only a backstop.
  const std::string line = timeout_wrap(inner, options.timeout_ms, kKillGraceMs);
  const auto start = std::chrono::steady_clock::now();
  const auto backstop =
      start + std::chrono::milliseconds(options.timeout_ms + kKillGraceMs + kBackstopSlackMs);
  const std::string timed_out = where + ": `" + command + "` did not finish within " +
                                std::to_string(options.timeout_ms) +
                                " ms and was stopped - is it waiting for input or a lock?";

  ssh_channel channel = ssh_channel_new(session_);
  if (channel == nullptr) {
    return Error(where + ": cannot create an SSH channel to run `" + command +
                 "` (libssh: " + ssh_get_error(session_) + ") - is the connection still up?");
  }
  // Frees the channel on every return path.
  std::unique_ptr<ssh_channel_struct, void (*)(ssh_channel)> guard(channel, [](ssh_channel c) {
    if (ssh_channel_is_open(c)) ssh_channel_close(c);
    ssh_channel_free(c);
  });

  if (ssh_channel_open_session(channel) != SSH_OK ||
      ssh_channel_request_exec(channel, line.c_str()) != SSH_OK) {
    return Error(where + ": could not start `" + command + "` (libssh: " + ssh_get_error(session_) +
                 ") - sshd may limit sessions (MaxSessions) or the connection dropped");
  }
  const std::string& in = options.stdin_data;
  for (size_t sent = 0; sent < in.size();) {
    const int n =
        ssh_channel_write(channel, in.data() + sent, static_cast<uint32_t>(in.size() - sent));
    if (n < 0) {
      return Error(where + ": sending input to `" + command +
                   "` failed (libssh: " + ssh_get_error(session_) + ")");
    }
    sent += static_cast<size_t>(n);
  }
  // Always close stdin so a command that reads it cannot wait forever.
  ssh_channel_send_eof(channel);

  CommandResult result;
  char buffer[16384];
  auto drain_stderr = [&]() -> bool {
    for (;;) {
      const int n = ssh_channel_read_nonblocking(channel, buffer, sizeof buffer, 1);
      if (n == SSH_ERROR) return false;
      if (n <= 0) return true;
      result.stderr_text.append(buffer, static_cast<size_t>(n));
    }
  };
  for (;;) {
    if (std::chrono::steady_clock::now() >= backstop) {
      // The node's `timeout` should have ended it long ago: the node or the link is stuck.
      ssh_channel_request_send_signal(channel, "KILL");
      return Error(timed_out + " (no answer from the node since; output so far: " +
                   tail_lines(result.stderr_text + result.stdout_text) + ")");
    }
    // A short read timeout bounds how late we notice the deadline and stderr-only output.
    const int n = ssh_channel_read_timeout(channel, buffer, sizeof buffer, 0, 50);
    if (n > 0) result.stdout_text.append(buffer, static_cast<size_t>(n));  // before drain_stderr()
    if (n == SSH_ERROR || !drain_stderr()) {
      return Error(where + ": lost the connection while running `" + command +
                   "` (libssh: " + ssh_get_error(session_) + ")");
    }
    if (n > 0) continue;
    if (ssh_channel_is_eof(channel) || ssh_channel_is_closed(channel)) break;
  }
  if (!drain_stderr()) {
    return Error(where + ": lost the connection while running `" + command +
                 "` (libssh: " + ssh_get_error(session_) + ")");
  }
  result.exit_code = ssh_channel_get_exit_status(channel);
  // 124: `timeout` sent TERM; 137: it had to send KILL. Elapsed time tells them apart from a
  // command that merely exits with those codes.
  const auto elapsed = std::chrono::steady_clock::now() - start;
  if ((result.exit_code == 124 || result.exit_code == 137) &&
      elapsed >= std::chrono::milliseconds(options.timeout_ms)) {
    const std::string output = tail_lines(result.stderr_text + result.stdout_text);
    return Error(timed_out + (output.empty() ? std::string() : " Output: " + output));
  }
  return result;
}

Result<CommandResult> Session::run(const std::string& command, const RunOptions& options) {
  Result<CommandResult> r = exec(command, options);
  if (!r || r->exit_code == 0) return r;
  const std::string where = spec_.where();
  if (options.privileged && spec_.sudo) {
    if (auto why = explain_sudo_failure(r->stderr_text, spec_.user)) {
      return Error(where + ": `" + command + "` needs root: " + *why);
    }
  }
  const std::string status = r->exit_code < 0 ? std::string("was killed (no exit status)")
                                              : "exited with " + std::to_string(r->exit_code);
  const std::string err = tail_lines(r->stderr_text);
  return Error(where + ": `" + command + "` " + status +
               (err.empty() ? std::string(" and printed nothing on stderr") : ": " + err));
}

Result<sftp_session_struct*> Session::sftp() {
  if (sftp_ != nullptr) return sftp_;
  sftp_session s = sftp_new(session_);
  if (s == nullptr) {
    return Error(spec_.where() + ": cannot open an SFTP channel (libssh: " +
                 ssh_get_error(session_) + ") - is the connection still up?");
  }
  if (sftp_init(s) != SSH_OK) {
    const int code = sftp_get_error(s);
    sftp_free(s);
    return Error(spec_.where() + ": the SFTP subsystem did not start (sftp error " +
                 std::to_string(code) +
                 ") - is `Subsystem sftp` enabled in the node's sshd_config?");
  }
  sftp_ = s;
  return sftp_;
}

}  // namespace provision::ssh
