// NodeFacts: everything provision needs to know about one node before changing it, gathered by ONE
// remote command (probe_script) so a whole run costs one round trip per node for the facts: is
// systemd there, the node's clock, the unit's state, whether the data dir holds a member, the
// sha256/mode/owner of every file provision manages, and who listens on which TCP port.
//
// The script prints one record per line ("systemd yes", "now 1700000000.123456789",
// "unit active enabled", "data 1 700", "file 644 root:root SHA256 PATH", then `ss -Hltnp` output
// between "ss-begin"/"ss-end"); parse_node_facts() reads exactly that and rejects anything else,
// so a node that is not what we expect (no coreutils, no ss) fails loudly at preflight.
//
// Thread-safety: pure functions over plain values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "certs/result.h"

namespace provision::steps {

struct RemoteFile {
  std::string mode;   // octal as stat prints it: "644"
  std::string owner;  // "root:root"
  std::string sha256;
};

struct Listener {
  int port = 0;
  std::string address;                 // local address as ss prints it
  std::vector<std::string> processes;  // "etcd", "python3" (empty if ss could not tell)
  std::string raw;                     // the ss line, for messages
};

struct NodeFacts {
  bool systemd = false;
  double node_time_s = 0;    // the node's clock (Unix seconds) when it ran the script
  std::string unit_active;   // systemctl is-active: active, inactive, failed, activating...
  std::string unit_enabled;  // systemctl is-enabled: enabled, disabled, "" (no unit)
  bool data_dir_exists = false;
  bool data_dir_has_member = false;  // the data dir is not empty
  std::string data_dir_mode;
  std::map<std::string, std::optional<RemoteFile>> files;  // path -> nullopt when absent
  std::vector<Listener> listeners;

  bool unit_running() const;  // active, activating, reloading: a process is (being) served
};

// The probe: POSIX sh, run as root (it needs `ss -p`). `paths` are the files to report on.
// `cached` (optional) is one of them - the large binary - whose sha256 is taken from `manifest`
// ("SIZE MTIME SHA256", written by the push step) when its size and mtime still match, instead of
// being hashed on every run; the quick check rsync and make rely on.
std::string probe_script(const std::string& unit, const std::string& data_dir,
                         const std::vector<std::string>& paths, const std::string& cached = "",
                         const std::string& manifest = "");

certs::Result<NodeFacts> parse_node_facts(const std::string& output);

// One `ss -Hltnp` line; nullopt for lines that are not a listening TCP socket.
std::optional<Listener> parse_ss_line(const std::string& line);

}  // namespace provision::steps
