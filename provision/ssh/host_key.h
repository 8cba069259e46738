// Host-key verification for a freshly connected libssh session, and the fingerprint format users
// compare by eye.
//
// Policy (never switchable off):
//   - key matches known_hosts            -> OK
//   - host absent from known_hosts       -> refused with the key's fingerprint and how to verify
//                                           and add it; unless accept_new_host_keys, in which case
//                                           the key is appended to known_hosts (trust on first use,
//                                           like OpenSSH's StrictHostKeyChecking=accept-new)
//   - host present with a different key  -> ALWAYS refused (also with accept_new_host_keys): the
//     (or only keys of other types)         message names node, host, the new key's SHA256
//                                           fingerprint and the `ssh-keygen -R` command to run
//                                           after checking the node's real key.
//
// known_hosts format is OpenSSH's, read and written by libssh; entries for non-22 ports are filed
// as "[host]:port".
//
// Thread-safety: operates on one libssh session; same rules as Session.
#pragma once

#include <string>

#include "certs/result.h"
#include "provision/ssh/connection_spec.h"

struct ssh_session_struct;
struct ssh_key_struct;

namespace provision::ssh {

// "SHA256:" + unpadded base64 of the SHA-256 of the public key blob, exactly as `ssh-keygen -l` and
// ssh print it. Empty on failure (only on allocation failure).
std::string sha256_fingerprint(ssh_key_struct* key);

// Checks (and with accept_new_host_keys, records) the server's host key per the policy above.
certs::Status verify_host_key(ssh_session_struct* session, const ConnectionSpec& spec);

}  // namespace provision::ssh
