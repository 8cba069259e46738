#include "provision/steps/node_scripts.h"

#include "provision/ssh/remote_shell.h"
#include "provision/steps/desired.h"

namespace provision::steps {

using provision::ssh::shell_quote;

PushCommand push_script(const NodeSpec& node, const NodePlan& plan) {
  PushCommand cmd;
  std::string& s = cmd.script;
  s += "set -e\numask 077\n";
  s += "install -d -m 0755 " + shell_quote(node.server.bin_dir) + " " +
       shell_quote(node.server.config_dir) + "\n";
  if (plan.fix_data_dir) s += "install -d -m 0700 " + shell_quote(node.server.data_dir) + "\n";
  // Temp files to remove if anything fails before the renames.
  s += "tmps=''\ntrap 'rm -f $tmps' EXIT\ntrap 'exit 1' HUP INT TERM\n";
  std::string renames;
  int i = 0;
  for (const auto& w : plan.writes) {
    const std::string target = shell_quote(w.file.remote_path);
    const std::string mode = mode_text(w.file.mode);
    if (w.change == Change::kFixMetadata) {
      renames += "chmod " + mode + " " + target + "\nchown root:root " + target + "\n";
      continue;
    }
    const std::string tmp = "t" + std::to_string(i++);
    const std::string dir_part = w.file.remote_path.substr(0, w.file.remote_path.rfind('/') + 1);
    s += tmp + "=" + shell_quote(dir_part) + "." +
         shell_quote(w.file.remote_path.substr(dir_part.size())) + ".provision-tmp-$$\n";
    s += "tmps=\"$tmps $" + tmp + "\"\n";
    s += "head -c " + std::to_string(w.file.bytes->size()) + " > \"$" + tmp + "\"\n";
    s += "[ \"$(sha256sum < \"$" + tmp + "\" | cut -d' ' -f1)\" = " + w.file.sha256 +
         " ] || { echo \"" + w.file.remote_path +
         ": the bytes did not arrive intact (sha256 differs)\" >&2; exit 1; }\n";
    s += "chmod " + mode + " \"$" + tmp + "\"\nchown root:root \"$" + tmp + "\"\n";
    renames += "mv -f -T \"$" + tmp + "\" " + target + "\n";
    cmd.stdin_data += *w.file.bytes;
  }
  // fsync just the new files before they replace the old ones (a bare `sync` would flush every
  // dirty page of the whole machine).
  if (i > 0) s += "sync -- $tmps\n";
  s += renames + "trap - EXIT\n";
  for (const auto& w : plan.writes) {
    if (w.file.label != "binary" || w.change == Change::kFixMetadata) continue;
    // Lets the next probe skip hashing the binary while its size and mtime are unchanged.
    const std::string m = shell_quote(binary_manifest_path(node));
    s += "echo \"$(stat -c '%s %Y' -- " + shell_quote(w.file.remote_path) + ") " + w.file.sha256 +
         "\" > " + m + ".tmp && mv -f " + m + ".tmp " + m + "\n";
  }
  return cmd;
}

std::string start_script(const NodeSpec& node, const NodePlan& plan) {
  const std::string u = shell_quote(node.server.unit);
  std::string s = "set -e\n";
  // `systemctl enable` reloads systemd's configuration itself (unless --no-reload), and each
  // reload costs ~0.25 s on a busy node: reload explicitly only when nothing else will.
  if (plan.unit_changed && !plan.enable) s += "systemctl daemon-reload\n";
  // One systemctl call for enable and start. No reset-failed: with RestartSec=5 the unit never
  // reaches systemd's start rate limit.
  s += std::string("systemctl ") + (plan.enable ? "enable -q --now" : "start") + " --no-block " +
       u + "\n";
  return s;
}

std::string restart_script(const NodeSpec& node, const NodePlan& plan) {
  const std::string u = shell_quote(node.server.unit);
  std::string s = "set -e\n";
  if (plan.unit_changed && !plan.enable) s += "systemctl daemon-reload\n";
  if (plan.enable) s += "systemctl enable -q " + u + "\n";  // reloads, as above
  s += "systemctl restart " + u + "\n";
  return s;
}

std::string reset_script(const NodeSpec& node) {
  const std::string u = shell_quote(node.server.unit);
  const std::string cfg = node.server.config_dir;
  std::string s;
  s += "systemctl disable --now -q " + u + " 2>/dev/null || systemctl stop " + u +
       " 2>/dev/null || true\n";
  s += "rm -f " + shell_quote(unit_path(node)) + "\n";
  s += "systemctl daemon-reload\nsystemctl reset-failed " + u + " 2>/dev/null || true\n";
  s += "rm -f " + shell_quote(remote_binary_path(node));
  for (const char* f : {"ca.crt", "server.crt", "server.key", "peer.crt", "peer.key"})
    s += " " + shell_quote(cfg + "/" + f);
  s += " " + shell_quote(binary_manifest_path(node));
  // Temp files of a push that was killed before it could clean up (push_script's naming).
  s += " " + shell_quote(cfg) + "/.*.provision-tmp-* " + shell_quote(node.server.bin_dir) + "/." +
       shell_quote(binary_name(node.server.flavor)) + ".provision-tmp-* /etc/systemd/system/." +
       shell_quote(node.server.unit) + ".provision-tmp-*";
  s += "\n";
  // Only our files were in config_dir; leave it if someone put others there.
  s += "rmdir " + shell_quote(cfg) + " 2>/dev/null || true\n";
  s += "rm -rf " + shell_quote(node.server.data_dir) + "\n";
  // What is left, so the caller can prove nothing is.
  s += "for p in " + shell_quote(unit_path(node)) + " " + shell_quote(remote_binary_path(node)) +
       " " + shell_quote(cfg) + " " + shell_quote(node.server.data_dir) +
       "; do [ -e \"$p\" ] && echo \"left: $p\"; done; true\n";
  return s;
}

std::string diagnose_script(const NodeSpec& node) {
  const std::string u = shell_quote(node.server.unit);
  return "systemctl status --no-pager -l -n 0 " + u + " 2>&1 | head -n 12; journalctl -u " + u +
         " -n 15 --no-pager -o cat 2>&1; true";
}

}  // namespace provision::steps
