#include "provision/steps/fleet.h"

#include <chrono>

#include "provision/ssh/remote_shell.h"
#include "provision/steps/desired.h"

namespace provision::steps {

using Clock = std::chrono::steady_clock;

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

ssh::ConnectionSpec connection_spec(const NodeSpec& node, bool accept_new_host_keys) {
  ssh::ConnectionSpec spec;
  spec.node = node.name;
  spec.host = node.address;
  spec.port = node.ssh.port;
  spec.user = node.ssh.user;
  spec.identity_file = node.ssh.identity_file;
  spec.use_agent = node.ssh.use_agent;
  spec.known_hosts = node.ssh.known_hosts;
  spec.sudo = node.ssh.sudo;
  spec.connect_timeout_ms = static_cast<int>(node.ssh.connect_timeout.count());
  spec.accept_new_host_keys = accept_new_host_keys;
  return spec;
}

void Fleet::for_each(const std::vector<size_t>& which,
                     const std::function<void(size_t, ssh::Session&)>& fn) {
  std::vector<std::jthread> threads;
  for (size_t i : which) {
    if (!sessions_[i]) continue;
    threads.emplace_back([this, i, &fn] { fn(i, *sessions_[i]); });
  }
}

std::vector<std::string> Fleet::connect(bool accept_new_host_keys) {
  std::vector<std::string> errors(inv_.nodes.size());
  std::vector<std::jthread> threads;
  for (size_t i = 0; i < inv_.nodes.size(); ++i) {
    threads.emplace_back([this, i, accept_new_host_keys, &errors] {
      auto s = ssh::Session::connect(connection_spec(inv_.nodes[i], accept_new_host_keys));
      if (s) {
        sessions_[i] = std::move(*s);
      } else {
        errors[i] = s.error().message;
      }
    });
  }
  return errors;
}

certs::Result<ssh::CommandResult> Fleet::run_script(size_t i, const std::string& what,
                                                    const std::string& script,
                                                    const std::string& stdin_data, int timeout_ms) {
  ssh::Session* s = sessions_[i].get();
  if (s == nullptr) return certs::Error("node " + inv_.nodes[i].name + ": not connected");
  ssh::RunOptions opts;
  opts.privileged = true;
  opts.timeout_ms = timeout_ms;
  opts.stdin_data = stdin_data;
  auto r = s->exec(script, opts);
  if (!r) {
    // exec's message quotes the whole script; say what the step was instead.
    return certs::Error(s->where() + ": " + what + " could not run (" +
                        ssh::tail_lines(r.error().message, 2, 300) + ")");
  }
  if (r->exit_code != 0) {
    std::string why = ssh::tail_lines(r->stderr_text + r->stdout_text, 6);
    if (s->spec().sudo) {
      if (auto sudo = ssh::explain_sudo_failure(r->stderr_text, s->spec().user)) {
        why = *sudo;
      } else if (r->exit_code == 127 &&
                 r->stderr_text.find("'sudo': No such file") != std::string::npos) {
        // coreutils `timeout` (which wraps every remote command) words a missing sudo this way.
        why =
            "sudo is not installed on this node - install it (apt-get install sudo) or connect "
            "as root";
      }
    }
    return certs::Error(s->where() + ": " + what + " failed (exit " + std::to_string(r->exit_code) +
                        "): " + (why.empty() ? "no output" : why));
  }
  return r;
}

std::vector<ProbedNode> Fleet::connect_and_probe(bool accept_new_host_keys) {
  std::vector<ProbedNode> out(inv_.nodes.size());
  std::vector<std::jthread> threads;
  for (size_t i = 0; i < inv_.nodes.size(); ++i) {
    threads.emplace_back([this, i, accept_new_host_keys, &out] {
      const NodeSpec& node = inv_.nodes[i];
      ProbedNode& p = out[i];
      const auto start = Clock::now();
      auto s = ssh::Session::connect(connection_spec(node, accept_new_host_keys));
      if (!s) {
        p.error = s.error().message;
        p.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
        return;
      }
      sessions_[i] = std::move(*s);
      const std::string script =
          probe_script(node.server.unit, node.server.data_dir, managed_paths(node),
                       remote_binary_path(node), binary_manifest_path(node));
      const double before = unix_now_s();
      auto r = run_script(i, "the preflight probe", script, "", 30000);
      const double after = unix_now_s();
      p.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
      if (!r) {
        p.error = r.error().message;
        return;
      }
      auto facts = parse_node_facts(r->stdout_text);
      if (!facts) {
        p.error = sessions_[i]->where() + ": preflight: " + facts.error().message;
        return;
      }
      p.facts = std::move(*facts);
      p.workstation_time_s = (before + after) / 2;
      p.rtt_s = after - before;
    });
  }
  return out;
}

}  // namespace provision::steps
