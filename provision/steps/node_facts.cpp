#include "provision/steps/node_facts.h"

#include <algorithm>
#include <sstream>

#include "provision/ssh/remote_shell.h"

namespace provision::steps {

using provision::ssh::shell_quote;

bool NodeFacts::unit_running() const {
  return unit_active == "active" || unit_active == "activating" || unit_active == "reloading";
}

std::string probe_script(const std::string& unit, const std::string& data_dir,
                         const std::vector<std::string>& paths, const std::string& cached,
                         const std::string& manifest) {
  const std::string u = shell_quote(unit);
  const std::string d = shell_quote(data_dir);
  std::string s;
  s += "if [ -d /run/systemd/system ]; then echo 'systemd yes'; else echo 'systemd no'; fi\n";
  s += "echo \"now $(date +%s.%N)\"\n";
  // is-active/is-enabled exit non-zero for inactive or absent units: only their text matters.
  s += "a=$(systemctl is-active " + u + " 2>/dev/null | head -n1)\n";
  s += "e=$(systemctl is-enabled " + u + " 2>/dev/null | head -n1)\n";
  s += "echo \"unit ${a:--} ${e:--}\"\n";
  s += "if [ -d " + d + " ]; then if [ -n \"$(ls -A " + d +
       ")\" ]; then m=1; else m=0; fi; echo \"data $m $(stat -c %a " + d +
       ")\"; else echo 'data - -'; fi\n";
  for (const auto& p : paths) {
    const std::string q = shell_quote(p);
    std::string hash = "$(sha256sum < " + q + " | cut -d' ' -f1)";
    if (p == cached && !manifest.empty()) {
      const std::string m = shell_quote(manifest);
      s += "h=''\nif [ -f " + q + " ] && [ -f " + m + " ]; then read -r ms mm mh < " + m +
           " || true; [ \"$ms $mm\" = \"$(stat -c '%s %Y' -- " + q + ")\" ] && h=$mh; fi\n";
      hash = "${h:-" + hash + "}";
    }
    s += "if [ -f " + q + " ]; then echo \"file $(stat -c '%a %U:%G' -- " + q + ") " + hash +
         " \"" + q + "; else echo 'file - - -' " + q + "; fi\n";
  }
  s += "echo ss-begin\nss -Hltnp\necho ss-end\n";
  return s;
}

std::optional<Listener> parse_ss_line(const std::string& line) {
  std::istringstream in(line);
  std::string state, recvq, sendq, local, peer;
  if (!(in >> state >> recvq >> sendq >> local >> peer) || state != "LISTEN") return std::nullopt;
  const size_t colon = local.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  Listener l;
  l.raw = line;
  l.address = local.substr(0, colon);
  try {
    l.port = std::stoi(local.substr(colon + 1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  // users:(("etcd",pid=123,fd=7),("etcd",pid=123,fd=8)): every ("NAME" after "users:".
  const size_t users = line.find("users:(");
  for (size_t pos = users == std::string::npos ? users : line.find("(\"", users);
       pos != std::string::npos; pos = line.find("(\"", pos)) {
    const size_t start = pos + 2;
    const size_t end = line.find('"', start);
    if (end == std::string::npos) break;
    const std::string name = line.substr(start, end - start);
    if (std::find(l.processes.begin(), l.processes.end(), name) == l.processes.end())
      l.processes.push_back(name);
    pos = end;
  }
  return l;
}

certs::Result<NodeFacts> parse_node_facts(const std::string& output) {
  NodeFacts f;
  std::istringstream in(output);
  bool saw_systemd = false, saw_now = false, saw_unit = false, saw_data = false, in_ss = false,
       saw_ss_end = false;
  for (std::string line; std::getline(in, line);) {
    if (in_ss) {
      if (line == "ss-end") {
        in_ss = false;
        saw_ss_end = true;
      } else if (auto l = parse_ss_line(line)) {
        f.listeners.push_back(std::move(*l));
      }
      continue;
    }
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "systemd") {
      std::string v;
      words >> v;
      f.systemd = v == "yes";
      saw_systemd = true;
    } else if (kind == "now") {
      std::string v;
      words >> v;
      try {
        f.node_time_s = std::stod(v);
        saw_now = true;
      } catch (const std::exception&) {
        return certs::Error("the node's `date +%s.%N` printed `" + v + "`, not a time");
      }
    } else if (kind == "unit") {
      words >> f.unit_active >> f.unit_enabled;
      if (f.unit_active == "-") f.unit_active.clear();
      if (f.unit_enabled == "-") f.unit_enabled.clear();
      saw_unit = true;
    } else if (kind == "data") {
      std::string has, mode;
      words >> has >> mode;
      f.data_dir_exists = has != "-";
      f.data_dir_has_member = has == "1";
      f.data_dir_mode = mode == "-" ? "" : mode;
      saw_data = true;
    } else if (kind == "file") {
      std::string mode, owner, sha;
      words >> mode >> owner >> sha;
      std::string path;
      std::getline(words >> std::ws, path);
      if (path.empty()) return certs::Error("unexpected probe line `" + line + "`");
      if (mode == "-") {
        f.files[path] = std::nullopt;
      } else {
        f.files[path] = RemoteFile{mode, owner, sha};
      }
    } else if (kind == "ss-begin") {
      in_ss = true;
    } else if (!line.empty()) {
      return certs::Error("unexpected probe line `" + line + "`");
    }
  }
  if (!saw_systemd || !saw_now || !saw_unit || !saw_data || !saw_ss_end) {
    return certs::Error(
        "the node's probe output is incomplete (needs sh, coreutils, systemctl and ss from "
        "iproute2): " +
        provision::ssh::tail_lines(output));
  }
  return f;
}

}  // namespace provision::steps
