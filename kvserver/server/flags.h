// kvserver's command line: etcd's flag names and defaults, parsed with CLI11 and validated.
//
// Contract:
//  - parse_flags() turns argv into a ServerConfig (or a --help/--version request). It never exits
//    the process and never throws: CLI11's exceptions become an Error naming the flag.
//  - validate_config() checks everything that can be checked before touching the network: URL
//    shapes, TLS flag combinations, readable cert/key/CA files, --initial-cluster consistency with
//    --name and --initial-advertise-peer-urls, timing bounds. Every Error names the flag and says
//    what to do, because the reader is an operator looking at `journalctl -u kvserver`.
//  - Flag names are etcd's (DESIGN §3) so one systemd unit template serves kvserver and etcd;
//  values
//    that etcd accepts in a form we do not serve are rejected with a clear message, not ignored.
//
// Thread-safety: plain functions over values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "certs/result.h"
#include "kvserver/server/tls.h"

namespace kvserver::server {

// A parsed URL as etcd's flags use them: scheme://host:port with no path.
struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // IP literal (without brackets) or DNS name
  uint16_t port = 0;
  std::string text;  // as given, for messages and for --initial-cluster comparisons

  // "host:port" as gRPC wants it for listening and dialing (IPv6 hosts in brackets).
  std::string host_port() const;
};

// Parses "https://10.0.0.1:2379"; the Error names `flag`.
certs::Result<Url> parse_url(const std::string& text, const std::string& flag);

struct ClusterMember {
  std::string name;
  Url peer_url;
};

// Parses --initial-cluster "n1=https://a:2380,n2=https://b:2380" (a name may repeat, once per URL).
certs::Result<std::vector<ClusterMember>> parse_initial_cluster(const std::string& text);

struct ServerConfig {
  std::string name = "default";
  std::string data_dir;  // empty: "<name>.etcd", as etcd does
  std::vector<std::string> listen_client_urls{"http://localhost:2379"};
  std::vector<std::string> advertise_client_urls{"http://localhost:2379"};
  std::vector<std::string> listen_peer_urls{"http://localhost:2380"};
  std::vector<std::string> initial_advertise_peer_urls{"http://localhost:2380"};
  std::string initial_cluster;  // empty: "<name>=<initial-advertise-peer-urls>", as etcd does
  std::string initial_cluster_state = "new";
  std::string initial_cluster_token = "etcd-cluster";
  TlsFiles client_tls;
  TlsFiles peer_tls;
  int64_t heartbeat_interval_ms = 100;
  int64_t election_timeout_ms = 1000;
  uint64_t snapshot_count = 10000;
  uint64_t max_request_bytes = 1572864;  // 1.5 MiB, etcd's default
  std::string restore_file;              // --restore: seed data-dir from one of our snapshot files
  // Refuse membership changes that could cost quorum (etcd's default, and ours: OPERATIONS-FACTS).
  bool strict_reconfig_check = true;
  // etcd 3.4.11's --experimental-watch-progress-notify-interval, a Go duration.
  std::string watch_progress_notify_interval = "10m";
  // etcd's --unsafe-no-fsync (3.4.10+): no fsync at all; tests and measurements only.
  bool unsafe_no_fsync = false;
  std::string log_level = "info";  // debug, info, warn, error (etcd 3.4's --log-level)

  // Filled by validate_config() from the strings above.
  std::vector<Url> listen_client;
  std::vector<Url> advertise_client;
  std::vector<Url> listen_peer;
  std::vector<Url> advertise_peer;
  std::vector<ClusterMember> cluster;
  std::chrono::milliseconds watch_progress_notify{std::chrono::minutes(10)};
};

struct ParsedFlags {
  enum class Action { kRun, kPrintVersion, kPrintHelp };
  Action action = Action::kRun;
  ServerConfig config;
  std::string help_text;  // for kPrintHelp
};

// args excludes argv[0].
certs::Result<ParsedFlags> parse_flags(const std::vector<std::string>& args);

// Checks and completes `config` (fills the parsed URL lists and the defaults derived from --name).
certs::Status validate_config(ServerConfig& config);

}  // namespace kvserver::server
