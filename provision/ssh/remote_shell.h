// Helpers for building remote shell command lines and reading what sudo says back.
//
// Every path or value that goes into a remote command passes through shell_quote(), so a file name
// with spaces or quotes is one argument and never code. sudo_wrap() is the one place that decides
// how a privileged command is run for a non-root login: `sudo -n` (never prompt: a prompt would
// hang a non-interactive session), running the whole line under `sh -c` so pipes and `&&` stay
// privileged.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace provision::ssh {

// POSIX sh single-quoting: 'it'"'"'s' style; the result is always exactly one shell word.
std::string shell_quote(std::string_view word);

// `sudo -n -- sh -c '<command>'`.
std::string sudo_wrap(std::string_view command);

// `timeout -k GRACE SECS <command_line>`: coreutils ends the command on the node after
// timeout_ms (TERM, then KILL after kill_grace_ms); exit status 124 or 137 then.
std::string timeout_wrap(std::string_view command_line, int timeout_ms, int kill_grace_ms);

// If stderr shows sudo itself refused (rather than the command failing), a sentence saying why and
// what to do, e.g. that NOPASSWD must be configured for `user`. nullopt when sudo was not the
// cause.
std::optional<std::string> explain_sudo_failure(std::string_view stderr_text,
                                                std::string_view user);

// The last `max_lines` non-empty lines of `text` (at most max_chars), trimmed: enough of a
// command's stderr to say what went wrong without flooding the terminal.
std::string tail_lines(std::string_view text, int max_lines = 5, size_t max_chars = 800);

}  // namespace provision::ssh
