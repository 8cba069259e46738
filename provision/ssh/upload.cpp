#include "provision/ssh/upload.h"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>

#include "provision/ssh/remote_shell.h"

namespace provision::ssh {

namespace {

using certs::Error;
using certs::Result;
using certs::Status;

// 64 KiB per SFTP write: well under OpenSSH's 256 KiB packet limit, few round trips.
constexpr size_t kChunkBytes = 64 * 1024;

struct RemoteState {
  bool exists = false;
  int mode = 0;
  std::string owner;
  std::string group;
  std::string uid;  // numeric, so an inventory may name owners either way
  std::string gid;
  std::string sha256;
};

std::string octal(int mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

std::string random_suffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.pop_back();
  return s;
}

std::string sftp_error_text(int code) {
  switch (code) {
    case SSH_FX_NO_SUCH_FILE:
      return "no such file or directory - does the target directory exist?";
    case SSH_FX_PERMISSION_DENIED:
      return "permission denied - connect as root or set sudo: true for this node";
    case SSH_FX_FILE_ALREADY_EXISTS:
      return "a file with the temporary name already exists - retry";
    case SSH_FX_CONNECTION_LOST:
    case SSH_FX_NO_CONNECTION:
      return "the connection was lost";
    default:
      // SFTP v3 (OpenSSH) folds ENOSPC, EROFS and friends into SSH_FX_FAILURE.
      return "sftp error " + std::to_string(code) + " - is the disk full or read-only?";
  }
}

// One remote command: does the target exist, with what mode/owner/content hash.
Result<RemoteState> probe(Session& session, const std::string& path, const UploadOptions& options) {
  const std::string p = shell_quote(path);
  const std::string command = "if [ -e " + p + " ]; then stat -L -c '%a %U %G %u %g' -- " + p +
                              " && sha256sum -- " + p + "; else echo absent; fi";
  RunOptions run_options;
  run_options.privileged = options.privileged;
  run_options.timeout_ms = options.timeout_ms;
  Result<CommandResult> r = session.run(command, run_options);
  if (!r) return r.error();
  RemoteState state;
  const std::string& out = r->stdout_text;
  if (out.rfind("absent", 0) == 0) return state;
  char owner[256] = {0};
  char group[256] = {0};
  unsigned mode = 0;
  unsigned uid = 0;
  unsigned gid = 0;
  char hash[65] = {0};
  if (std::sscanf(out.c_str(), "%o %255s %255s %u %u %64s", &mode, owner, group, &uid, &gid,
                  hash) != 6) {
    return Error(session.where() + ": could not read the state of " + path +
                 " (unexpected output of stat/sha256sum: " + tail_lines(out) +
                 ") - is it a regular file?");
  }
  state.exists = true;
  state.mode = static_cast<int>(mode);
  state.owner = owner;
  state.group = group;
  state.uid = std::to_string(uid);
  state.gid = std::to_string(gid);
  state.sha256 = hash;
  return state;
}

// Writes `bytes` to a new remote file (O_EXCL) via SFTP; on failure removes it again.
Status sftp_write_file(Session& session, const std::string& path, std::string_view bytes,
                       bool fsync_it, std::chrono::steady_clock::time_point deadline,
                       int timeout_ms) {
  Result<sftp_session_struct*> s = session.sftp();
  if (!s) return s.error();
  sftp_session sftp = *s;
  const std::string where = session.where();

  sftp_file file = sftp_open(sftp, path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (file == nullptr) {
    return Error(where + ": cannot create " + path + ": " + sftp_error_text(sftp_get_error(sftp)));
  }
  auto fail = [&](const std::string& what) -> Status {
    const std::string why = sftp_error_text(sftp_get_error(sftp));
    sftp_close(file);
    sftp_unlink(sftp, path.c_str());
    return Error(where + ": " + what + " " + path + ": " + why);
  };
  for (size_t off = 0; off < bytes.size();) {
    if (std::chrono::steady_clock::now() >= deadline) {
      sftp_close(file);
      sftp_unlink(sftp, path.c_str());
      return Error(where + ": uploading " + path + " did not finish within " +
                   std::to_string(timeout_ms) + " ms - is the link very slow?");
    }
    const size_t len = std::min(kChunkBytes, bytes.size() - off);
    const ssize_t n = sftp_write(file, bytes.data() + off, len);
    if (n <= 0) return fail("writing");
    off += static_cast<size_t>(n);
  }
  // Without fsync a power loss after the rename could leave an empty target (ext4 delalloc).
  if (fsync_it && sftp_extension_supported(sftp, "fsync@openssh.com", "1") == 1 &&
      sftp_fsync(file) != SSH_OK) {
    return fail("fsync of");
  }
  if (sftp_close(file) != SSH_OK) {
    sftp_unlink(sftp, path.c_str());
    return Error(where + ": closing " + path + " failed: " + sftp_error_text(sftp_get_error(sftp)));
  }
  return certs::ok_status();
}

std::string chown_command(const UploadOptions& options, const std::string& quoted_path) {
  if (!options.owner.empty()) {
    const std::string who = options.owner + (options.group.empty() ? "" : ":" + options.group);
    return "chown -- " + shell_quote(who) + " " + quoted_path;
  }
  if (!options.group.empty()) return "chgrp -- " + shell_quote(options.group) + " " + quoted_path;
  return "";
}

// Root login (or unprivileged target): temp file next to the target, then posix-rename over it.
Status write_direct(Session& session, std::string_view bytes, const std::string& path,
                    const std::string& dir, const std::string& base, const UploadOptions& options,
                    std::chrono::steady_clock::time_point deadline) {
  const std::string where = session.where();
  Result<sftp_session_struct*> s = session.sftp();
  if (!s) return s.error();
  sftp_session sftp = *s;
  const std::string tmp = dir + "/." + base + ".provision-tmp-" + random_suffix();
  if (Status w = sftp_write_file(session, tmp, bytes, true, deadline, options.timeout_ms); !w)
    return w;
  auto fail = [&](const std::string& message) -> Status {
    sftp_unlink(sftp, tmp.c_str());
    return Error(message);
  };
  if (sftp_chmod(sftp, tmp.c_str(), static_cast<mode_t>(options.mode)) != SSH_OK) {
    return fail(where + ": chmod " + octal(options.mode) + " " + tmp +
                " failed: " + sftp_error_text(sftp_get_error(sftp)));
  }
  RunOptions run_options;
  run_options.timeout_ms = options.timeout_ms;
  if (const std::string chown = chown_command(options, shell_quote(tmp)); !chown.empty()) {
    if (Result<CommandResult> r = session.run(chown, run_options); !r)
      return fail(r.error().message);
  }
  // libssh 0.10's sftp_rename() sends plain SSH_FXP_RENAME, which OpenSSH refuses when the target
  // exists (seen in upload_test), and libssh 0.10 has no public call for posix-rename@openssh.com.
  // `mv -T` within one directory is rename(2): the same atomic replace, one more round trip.
  const std::string mv = "mv -f -T -- " + shell_quote(tmp) + " " + shell_quote(path);
  if (Result<CommandResult> r = session.run(mv, run_options); !r) return fail(r.error().message);
  return certs::ok_status();
}

// Non-root login: stage in a private directory, then one sudo command installs it atomically.
Status write_with_sudo(Session& session, std::string_view bytes, const std::string& path,
                       const std::string& dir, const std::string& base,
                       const UploadOptions& options,
                       std::chrono::steady_clock::time_point deadline) {
  RunOptions user_options;
  user_options.timeout_ms = options.timeout_ms;
  // mktemp -d creates the directory 0700: nobody else can swap the staged file before install.
  Result<CommandResult> made =
      session.run("mktemp -d /tmp/provision-upload.XXXXXXXXXX", user_options);
  if (!made) return made.error();
  const std::string staging_dir = trim(made->stdout_text);
  const std::string staged = staging_dir + "/" + base;

  Status result = sftp_write_file(session, staged, bytes, false, deadline, options.timeout_ms);
  if (result) {
    const std::string tmp = shell_quote(dir + "/." + base + ".provision-tmp-" + random_suffix());
    std::string install = "install -m " + octal(options.mode);
    if (!options.owner.empty()) install += " -o " + shell_quote(options.owner);
    if (!options.group.empty()) install += " -g " + shell_quote(options.group);
    // `mv -T` never moves into a directory of that name; within one directory it is rename(2).
    const std::string command = install + " -- " + shell_quote(staged) + " " + tmp +
                                " && sync -- " + tmp + " && mv -f -T -- " + tmp + " " +
                                shell_quote(path) + " || { rc=$?; rm -f -- " + tmp +
                                "; exit $rc; }";
    RunOptions root_options;
    root_options.privileged = true;
    root_options.timeout_ms = options.timeout_ms;
    if (Result<CommandResult> r = session.run(command, root_options); !r) result = r.error();
  }
  // Best effort: a leftover private dir in /tmp is harmless, and the first error is what matters.
  (void)session.exec("rm -rf -- " + shell_quote(staging_dir), user_options);
  return result;
}

}  // namespace

std::string UploadReport::describe() const {
  switch (outcome) {
    case UploadOutcome::kUnchanged:
      return "unchanged";
    case UploadOutcome::kMetadataFixed:
      return "mode/owner fixed";
    case UploadOutcome::kWritten:
      break;
  }
  return "written " + std::to_string(bytes_sent) + " bytes";
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    // Only fails if OpenSSL itself is broken; not an expected condition.
    std::fprintf(stderr, "provision: EVP_Digest(sha256) failed\n");
    std::abort();
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

Result<UploadReport> upload(Session& session, std::string_view bytes,
                            const std::string& remote_path, const UploadOptions& options) {
  const std::string where = session.where();
  if (remote_path.empty() || remote_path[0] != '/' || remote_path.back() == '/') {
    return Error(where + ": upload target '" + remote_path +
                 "' must be an absolute file path (e.g. /etc/kvserver/ca.crt)");
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  const size_t slash = remote_path.rfind('/');
  const std::string dir = slash == 0 ? "/" : remote_path.substr(0, slash);
  const std::string base = remote_path.substr(slash + 1);

  UploadReport report;
  report.remote_path = remote_path;
  report.sha256 = sha256_hex(bytes);

  Result<RemoteState> state = probe(session, remote_path, options);
  if (!state) return state.error();
  if (state->exists && state->sha256 == report.sha256) {
    const bool mode_ok = state->mode == options.mode;
    const bool owner_ok =
        options.owner.empty() || state->owner == options.owner || state->uid == options.owner;
    const bool group_ok =
        options.group.empty() || state->group == options.group || state->gid == options.group;
    if (mode_ok && owner_ok && group_ok) {
      report.outcome = UploadOutcome::kUnchanged;
      return report;
    }
    const std::string p = shell_quote(remote_path);
    std::string fix = "chmod " + octal(options.mode) + " -- " + p;
    if (const std::string chown = chown_command(options, p); !chown.empty()) fix += " && " + chown;
    RunOptions run_options;
    run_options.privileged = options.privileged;
    run_options.timeout_ms = options.timeout_ms;
    if (Result<CommandResult> r = session.run(fix, run_options); !r) return r.error();
    report.outcome = UploadOutcome::kMetadataFixed;
    return report;
  }

  const bool via_sudo = options.privileged && session.spec().sudo;
  Status written = via_sudo
                       ? write_with_sudo(session, bytes, remote_path, dir, base, options, deadline)
                       : write_direct(session, bytes, remote_path, dir, base, options, deadline);
  if (!written) return written.error();
  report.outcome = UploadOutcome::kWritten;
  report.bytes_sent = bytes.size();
  return report;
}

}  // namespace provision::ssh
