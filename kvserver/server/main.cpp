// kvserver entry point: parse and validate etcd-style flags, build the TLS credentials of both
// ports, then hand over to the Raft node loop. The loop is not written yet, so after everything
// that can be checked has been checked, main says so and exits non-zero - it never pretends to
// serve.
#include <cstdio>
#include <string>
#include <vector>

#include "kvserver/server/flags.h"
#include "kvserver/server/log.h"
#include "kvserver/server/sd_notify.h"
#include "kvserver/server/tls.h"

#ifndef KVSERVER_VERSION
#error "KVSERVER_VERSION must be defined by the build"
#endif

namespace {

constexpr const char* kEtcdApiVersion = "3.4";
// Exit codes: 2 = the operator must fix a flag or file; 3 = valid, but serving is not implemented.
constexpr int kExitBadConfig = 2;
constexpr int kExitNotImplemented = 3;

int run(const std::vector<std::string>& args) {
  using kvserver::server::ParsedFlags;
  auto parsed = kvserver::server::parse_flags(args);
  if (!parsed) {
    std::fprintf(stderr, "kvserver: %s\n", parsed.error().message.c_str());
    return kExitBadConfig;
  }
  if (parsed->action == ParsedFlags::Action::kPrintHelp) {
    std::fputs(parsed->help_text.c_str(), stdout);
    return 0;
  }
  if (parsed->action == ParsedFlags::Action::kPrintVersion) {
    // etcdctl's layout, so scripts that parse `etcd --version`-like output keep working.
    std::printf("kvserver Version: %s\nAPI Version: %s\n", KVSERVER_VERSION, kEtcdApiVersion);
    return 0;
  }

  kvserver::server::ServerConfig& config = parsed->config;
  if (auto s = kvserver::server::validate_config(config); !s) {
    std::fprintf(stderr, "kvserver: %s\n", s.error().message.c_str());
    return kExitBadConfig;
  }
  kvserver::server::init_logging(config.log_level);
  spdlog::info(
      "member {} validated: data-dir {}, {} client URL(s), {} peer URL(s), {} member(s) in "
      "--initial-cluster ({})",
      config.name, config.data_dir, config.listen_client.size(), config.listen_peer.size(),
      config.cluster.size(), config.initial_cluster_state);

  auto client_creds = kvserver::server::make_server_credentials(config.client_tls, "");
  if (!client_creds) {
    spdlog::error("{}", client_creds.error().message);
    return kExitBadConfig;
  }
  auto peer_creds = kvserver::server::make_server_credentials(config.peer_tls, "peer-");
  if (!peer_creds) {
    spdlog::error("{}", peer_creds.error().message);
    return kExitBadConfig;
  }
  auto dial = kvserver::server::PeerDialCredentials::create(config.peer_tls);
  if (!dial) {
    spdlog::error("{}", dial.error().message);
    return kExitBadConfig;
  }
  spdlog::info("TLS: client port {}, peer port {}", config.client_tls.enabled() ? "on" : "off",
               config.peer_tls.enabled() ? "on" : "off");

  if (auto s = kvserver::server::notify_status("configuration valid; raft loop not implemented");
      !s) {
    spdlog::warn("{}", s.error().message);
  }
  std::fprintf(
      stderr,
      "kvserver: flags and TLS files are valid, but the Raft server loop is not implemented "
      "yet; not serving\n");
  return kExitNotImplemented;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return run(args);
}
