#include "provision/ssh/host_key.h"

#include <libssh/libssh.h>

#include <filesystem>
#include <system_error>

namespace provision::ssh {

namespace {

// Frees a libssh key on scope exit; the session owns nothing we hand out.
struct KeyGuard {
  ssh_key key = nullptr;
  ~KeyGuard() {
    if (key != nullptr) ssh_key_free(key);
  }
};

std::string key_type_name(ssh_key key) {
  const char* name = ssh_key_type_to_char(ssh_key_type(key));
  return name != nullptr ? name : "unknown-type";
}

// What a user should run on the node to see its real key, to compare with the fingerprint we show.
std::string how_to_check_on_node(const std::string& type) {
  std::string file = "ssh_host_ed25519_key";
  if (type.rfind("ecdsa", 0) == 0) file = "ssh_host_ecdsa_key";
  if (type == "ssh-rsa") file = "ssh_host_rsa_key";
  return "on the node's console run `ssh-keygen -lf /etc/ssh/" + file + ".pub`";
}

}  // namespace

std::string sha256_fingerprint(ssh_key_struct* key) {
  unsigned char* hash = nullptr;
  size_t hash_len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hash_len) != SSH_OK) return "";
  // libssh formats SHA256 hashes as OpenSSH does: "SHA256:" + base64 without '=' padding.
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hash_len);
  ssh_clean_pubkey_hash(&hash);
  if (text == nullptr) return "";
  std::string out(text);
  ssh_string_free_char(text);
  return out;
}

certs::Status verify_host_key(ssh_session_struct* session, const ConnectionSpec& spec) {
  const std::string where = spec.where();
  const std::string known_hosts = spec.known_hosts_path();
  const std::string entry = known_hosts_name(spec.host, spec.port);

  KeyGuard server_key;
  if (ssh_get_server_publickey(session, &server_key.key) != SSH_OK || server_key.key == nullptr) {
    return certs::Error(where + ": the server sent no usable host key (libssh: " +
                        ssh_get_error(session) + ") - is this an SSH server?");
  }
  const std::string type = key_type_name(server_key.key);
  const std::string fingerprint = sha256_fingerprint(server_key.key);

  switch (ssh_session_is_known_server(session)) {
    case SSH_KNOWN_HOSTS_OK:
      return certs::ok_status();

    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
      // Never trusted, whatever accept_new_host_keys says: this is exactly what a
      // man-in-the-middle looks like. A reinstalled node looks the same; a human decides.
      return certs::Error(
          where + ": HOST KEY CHANGED - the server presented a " + type + " key with fingerprint " +
          fingerprint + ", which is not the key recorded for " + entry + " in " + known_hosts +
          ". This can be a man-in-the-middle attack, or the node was reinstalled. Refusing to "
          "connect. To check, " +
          how_to_check_on_node(type) +
          " and compare; only if it matches, remove the old key with `" + "ssh-keygen -R '" +
          entry + "' -f " + known_hosts +
          "` and connect again with accept_new_host_keys to record the new one.");

    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND: {
      if (!spec.accept_new_host_keys) {
        return certs::Error(where + ": host key unknown - " + entry + " is not in " + known_hosts +
                            "; the server offers a " + type + " key with fingerprint " +
                            fingerprint + ". To trust it, " + how_to_check_on_node(type) +
                            " and compare, then either add it to " + known_hosts +
                            " or set accept_new_host_keys: true to record keys on first connect.");
      }
      // libssh appends to the file but does not create its directory.
      std::error_code ec;
      const auto dir = std::filesystem::path(known_hosts).parent_path();
      if (!dir.empty()) std::filesystem::create_directories(dir, ec);
      if (ssh_session_update_known_hosts(session) != SSH_OK) {
        return certs::Error(where + ": could not record the new host key (" + fingerprint +
                            ") in " + known_hosts + " (libssh: " + ssh_get_error(session) +
                            ") - check that the file and its directory are writable");
      }
      return certs::ok_status();
    }

    case SSH_KNOWN_HOSTS_ERROR:
    default:
      return certs::Error(where + ": could not read known hosts file " + known_hosts +
                          " (libssh: " + ssh_get_error(session) +
                          ") - check that it exists, is readable and is in OpenSSH format");
  }
}

}  // namespace provision::ssh
