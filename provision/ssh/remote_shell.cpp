#include "provision/ssh/remote_shell.h"

#include <cstdio>
#include <vector>

namespace provision::ssh {

std::string shell_quote(std::string_view word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\"'\"'";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string sudo_wrap(std::string_view command) {
  return "sudo -n -- sh -c " + shell_quote(command);
}

std::string timeout_wrap(std::string_view command_line, int timeout_ms, int kill_grace_ms) {
  char seconds[64];
  std::snprintf(seconds, sizeof seconds, "%d.%03d %d.%03d", kill_grace_ms / 1000,
                kill_grace_ms % 1000, timeout_ms / 1000, timeout_ms % 1000);
  return "timeout -k " + std::string(seconds) + " " + std::string(command_line);
}

std::optional<std::string> explain_sudo_failure(std::string_view stderr_text,
                                                std::string_view user) {
  const std::string u(user);
  // Texts as sudo 1.9 prints them (Debian 12); matched loosely so a prefix like
  // "sudo: unable to resolve host" on an earlier line does not hide them.
  if (stderr_text.find("a password is required") != std::string_view::npos ||
      stderr_text.find("a terminal is required") != std::string_view::npos) {
    return "sudo asked for a password, but provision runs sudo non-interactively (sudo -n) - allow "
           "passwordless sudo for " +
           u + " (e.g. `" + u +
           " ALL=(ALL) NOPASSWD: ALL` in /etc/sudoers.d/provision) or connect "
           "as root";
  }
  if (stderr_text.find("is not in the sudoers file") != std::string_view::npos ||
      stderr_text.find("is not allowed to execute") != std::string_view::npos) {
    return "user " + u +
           " may not use sudo on this node - add a NOPASSWD rule for it in /etc/sudoers.d or "
           "connect as root";
  }
  if (stderr_text.find("sudo: command not found") != std::string_view::npos ||
      stderr_text.find("sudo: not found") != std::string_view::npos) {
    return "sudo is not installed on this node - install it (apt-get install sudo) or connect as "
           "root";
  }
  return std::nullopt;
}

std::string tail_lines(std::string_view text, int max_lines, size_t max_chars) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.remove_suffix(1);
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  std::string out;
  size_t first = lines.size() > static_cast<size_t>(max_lines) ? lines.size() - max_lines : 0;
  for (size_t i = first; i < lines.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += lines[i];
  }
  if (out.size() > max_chars) out = "..." + out.substr(out.size() - max_chars);
  return out;
}

}  // namespace provision::ssh
