// upload(): put bytes at a path on a node so that the target is either the old file or the complete
// new one - never a half-written file - and send nothing when it is already right.
//
// Steps:
//   1. Probe the target with one remote command (`stat` + `sha256sum`, under sudo when privileged):
//      same sha256, mode and owner -> outcome kUnchanged, zero bytes sent. Same content but other
//      mode/owner -> chmod/chown in place, outcome kMetadataFixed.
//   2. Without sudo (root login, or privileged=false): SFTP-write a temp file next to the target,
//      ".NAME.provision-tmp-RAND" (O_EXCL, 0600), fsync it (fsync@openssh.com), chmod (and chown
//      when asked), then rename it over the target with `mv -f -T` (rename(2): atomic replace; see
//      upload.cpp for why not SFTP rename). Any failure removes the temp file.
//   3. With sudo (spec.sudo and privileged): SFTP-write into a private `mktemp -d` directory of the
//      login user, then one `sudo -n sh -c` that installs it (mode/owner) under a temp name next to
//      the target, syncs it and `mv -T`s it over the target (rename(2)); the private dir is
//      removed.
//
// The directory is not fsynced after the rename: a crash can at worst bring back the old file, and
// re-running provision converges.
//
// Thread-safety: uses the Session; same rules (one thread at a time).
#pragma once

#include <string>
#include <string_view>

#include "certs/result.h"
#include "provision/ssh/session.h"

namespace provision::ssh {

enum class UploadOutcome { kWritten, kUnchanged, kMetadataFixed };

struct UploadOptions {
  int mode = 0644;
  std::string owner;        // name or numeric id; empty = leave as created (login user / root)
  std::string group;        // name or numeric id; empty = leave as created
  bool privileged = true;   // target needs root: goes through sudo when spec.sudo
  int timeout_ms = 300000;  // for each remote command and the transfer as a whole
};

struct UploadReport {
  std::string remote_path;
  UploadOutcome outcome = UploadOutcome::kWritten;
  size_t bytes_sent = 0;
  std::string sha256;  // lowercase hex of the uploaded bytes
  // "written 1234 bytes", "unchanged", "mode/owner fixed" - for the step's table.
  std::string describe() const;
};

certs::Result<UploadReport> upload(Session& session, std::string_view bytes,
                                   const std::string& remote_path,
                                   const UploadOptions& options = {});

// Lowercase hex SHA-256, as sha256sum prints it.
std::string sha256_hex(std::string_view bytes);

}  // namespace provision::ssh
