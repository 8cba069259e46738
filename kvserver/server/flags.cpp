#include "kvserver/server/flags.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include <CLI/CLI.hpp>

namespace kvserver::server {
namespace {

using certs::Error;
using certs::Result;
using certs::Status;

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep))
    out.push_back(item);
  return out;
}

// etcd takes URL lists comma separated in one flag; CLI11 also allows the flag to repeat.
std::vector<std::string> flatten(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    for (auto& item : split(v, ',')) {
      if (!item.empty()) out.push_back(item);
    }
  }
  return out;
}

Result<std::vector<Url>> parse_urls(const std::vector<std::string>& texts,
                                    const std::string& flag) {
  if (texts.empty())
    return Error(flag + " is empty; give at least one URL like https://10.0.0.1:2379");
  std::vector<Url> out;
  for (const auto& t : texts) {
    auto url = parse_url(t, flag);
    if (!url) return url.error();
    out.push_back(std::move(*url));
  }
  return out;
}

Status require_https(const std::vector<Url>& urls, const std::string& flag,
                     const std::string& why) {
  for (const auto& u : urls) {
    if (u.scheme != "https") {
      return Error(flag + " " + u.text + " is not https although " + why + "; use https://" +
                   u.host + ":" + std::to_string(u.port));
    }
  }
  return certs::ok_status();
}

Status require_http(const std::vector<Url>& urls, const std::string& flag,
                    const std::string& cert_flag) {
  for (const auto& u : urls) {
    if (u.scheme == "https") {
      return Error(flag + " " + u.text + " is https but " + cert_flag +
                   " is not given; give the certificate and key flags or use http://");
    }
  }
  return certs::ok_status();
}

// The checks that make a port's URLs and TLS flags agree.
Status check_port_tls(const std::vector<Url>& listen, const std::string& listen_flag,
                      const std::vector<Url>& advertise, const std::string& advertise_flag,
                      const TlsFiles& tls, const std::string& prefix) {
  const std::string cert_flag = "--" + prefix + "cert-file";
  if (tls.enabled()) {
    const std::string why = cert_flag + " is given";
    if (auto s = require_https(listen, listen_flag, why); !s) return s;
    if (auto s = require_https(advertise, advertise_flag, why); !s) return s;
  } else {
    if (auto s = require_http(listen, listen_flag, cert_flag); !s) return s;
    if (auto s = require_http(advertise, advertise_flag, cert_flag); !s) return s;
  }
  auto checked = check_tls_files(tls, prefix);
  if (!checked) return checked.error();
  return certs::ok_status();
}

// A Go duration as etcd's flags take them ("10m", "1s", "1m30s", "500ms", "1.5s"), in whole
// milliseconds; nothing if `text` is not one.
std::optional<std::chrono::milliseconds> parse_go_duration(std::string_view text) {
  static const std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1e-6}, {"us", 1e-3}, {"\u00b5s", 1e-3}, {"ms", 1},
      {"s", 1e3},   {"m", 60e3},  {"h", 3600e3}};
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  while (!text.empty()) {
    std::size_t digits = 0;
    while (digits < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
      ++digits;
    if (digits == 0) return std::nullopt;
    double number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + digits, number);
    if (ec != std::errc() || end != text.data() + digits) return std::nullopt;
    text.remove_prefix(digits);
    std::size_t unit_len = 0;
    double per_unit = 0;
    for (const auto& [unit, ms] : kUnits) {  // longest match: "ms" before "m", "s"
      if (text.substr(0, unit.size()) == unit && unit.size() > unit_len) {
        unit_len = unit.size();
        per_unit = ms;
      }
    }
    if (unit_len == 0) return std::nullopt;
    text.remove_prefix(unit_len);
    total_ms += number * per_unit;
  }
  if (total_ms > 1e15) return std::nullopt;  // past int64 milliseconds' reach, or near it
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

}  // namespace

std::string Url::host_port() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Url> parse_url(const std::string& text, const std::string& flag) {
  const std::string fix = "; write it as https://HOST:PORT (e.g. https://10.0.0.1:2379)";
  Url url;
  url.text = text;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos) return Error(flag + " " + text + ": no scheme" + fix);
  url.scheme = text.substr(0, scheme_end);
  if (url.scheme != "http" && url.scheme != "https") {
    return Error(flag + " " + text + ": scheme must be http or https" + fix);
  }
  std::string rest = text.substr(scheme_end + 3);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();  // etcd tolerates a trailing slash
  if (rest.find('/') != std::string::npos) return Error(flag + " " + text + ": has a path" + fix);
  std::string port_text;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Error(flag + " " + text + ": bad IPv6 form" + fix);
    }
    url.host = rest.substr(1, close - 1);
    port_text = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos) return Error(flag + " " + text + ": no port" + fix);
    url.host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  }
  if (url.host.empty()) return Error(flag + " " + text + ": no host" + fix);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return Error(flag + " " + text + ": port must be 1-65535" + fix);
  }
  url.port = static_cast<uint16_t>(port);
  return url;
}

Result<std::vector<ClusterMember>> parse_initial_cluster(const std::string& text) {
  std::vector<ClusterMember> out;
  std::set<std::string> urls_seen;
  for (const auto& item : split(text, ',')) {
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error("--initial-cluster entry \"" + item +
                   "\" is not NAME=URL; write it like "
                   "n1=https://10.0.0.1:2380,n2=https://10.0.0.2:2380");
    }
    auto url =
        parse_url(item.substr(eq + 1), "--initial-cluster (member " + item.substr(0, eq) + ")");
    if (!url) return url.error();
    if (!urls_seen.insert(url->text).second) {
      return Error("--initial-cluster lists " + url->text +
                   " twice; every peer URL belongs to one member");
    }
    out.push_back({item.substr(0, eq), std::move(*url)});
  }
  if (out.empty()) return Error("--initial-cluster is empty; list every member as NAME=PEER_URL");
  return out;
}

Result<ParsedFlags> parse_flags(const std::vector<std::string>& args) {
  ParsedFlags parsed;
  ServerConfig& c = parsed.config;
  CLI::App app{"kvserver: a Raft key-value server speaking the etcd v3 API", "kvserver"};
  app.set_help_flag("-h,--help", "Print this help and exit");
  bool version = false;
  app.add_flag("--version", version, "Print the version and exit");
  app.add_option("--name", c.name, "Human-readable name of this member")->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "Path to the data directory (default: NAME.etcd)");
  app.add_option("--listen-client-urls", c.listen_client_urls, "URLs to listen on for clients")
      ->capture_default_str()
      ->delimiter(',');
  app.add_option("--advertise-client-urls", c.advertise_client_urls,
                 "Client URLs of this member as told to the rest of the cluster")
      ->capture_default_str()
      ->delimiter(',');
  app.add_option("--listen-peer-urls", c.listen_peer_urls, "URLs to listen on for peer traffic")
      ->capture_default_str()
      ->delimiter(',');
  app.add_option("--initial-advertise-peer-urls", c.initial_advertise_peer_urls,
                 "Peer URLs of this member as told to the rest of the cluster")
      ->capture_default_str()
      ->delimiter(',');
  app.add_option(
      "--initial-cluster", c.initial_cluster,
      "Initial cluster configuration: NAME=PEER_URL,... (default: NAME=advertised peer URLs)");
  app.add_option("--initial-cluster-state", c.initial_cluster_state, "new or existing")
      ->capture_default_str();
  app.add_option("--initial-cluster-token", c.initial_cluster_token,
                 "Initial cluster token, unique per cluster")
      ->capture_default_str();
  app.add_option("--cert-file", c.client_tls.cert_file, "Client-port server certificate (PEM)");
  app.add_option("--key-file", c.client_tls.key_file, "Client-port server key (PEM)");
  app.add_option("--trusted-ca-file", c.client_tls.trusted_ca_file,
                 "CA bundle for client certificates");
  app.add_flag("--client-cert-auth", c.client_tls.client_cert_auth, "Require client certificates");
  app.add_option("--peer-cert-file", c.peer_tls.cert_file,
                 "Peer certificate (PEM; serverAuth+clientAuth)");
  app.add_option("--peer-key-file", c.peer_tls.key_file, "Peer key (PEM)");
  app.add_option("--peer-trusted-ca-file", c.peer_tls.trusted_ca_file,
                 "CA bundle for peer certificates");
  app.add_flag("--peer-client-cert-auth", c.peer_tls.client_cert_auth,
               "Require peer client certificates");
  app.add_option("--heartbeat-interval", c.heartbeat_interval_ms, "Heartbeat interval (ms)")
      ->capture_default_str();
  app.add_option("--election-timeout", c.election_timeout_ms, "Election timeout (ms)")
      ->capture_default_str();
  app.add_option(
         "--snapshot-count", c.snapshot_count,
         "Committed entries between snapshots (at least; a snapshot also waits until the log since "
         "the last one is as big as it)")
      ->capture_default_str();
  app.add_option("--max-request-bytes", c.max_request_bytes,
                 "Largest client request accepted (bytes)")
      ->capture_default_str();
  app.add_flag("--strict-reconfig-check", c.strict_reconfig_check,
               "Reject membership changes that might cause quorum loss (default true)");
  app.add_option("--experimental-watch-progress-notify-interval", c.watch_progress_notify_interval,
                 "How often watchers created with progress_notify hear how far they have seen "
                 "(a duration: 10m, 30s, 500ms)")
      ->capture_default_str();
  app.add_flag("--unsafe-no-fsync", c.unsafe_no_fsync,
               "Disable fsync: unsafe, a crash can lose acknowledged writes; for tests and "
               "measurements only");
  app.add_option("--log-level", c.log_level, "debug, info, warn or error")->capture_default_str();
  app.add_option("--restore", c.restore_file,
                 "Seed an empty --data-dir from this kvserver snapshot file");

  // CLI11 wants argv order reversed in its vector form.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    parsed.action = ParsedFlags::Action::kPrintHelp;
    parsed.help_text = app.help();
    return parsed;
  } catch (const CLI::ParseError& e) {
    return Error(std::string(e.what()) + "; run kvserver --help for the flags");
  }
  if (version) parsed.action = ParsedFlags::Action::kPrintVersion;
  return parsed;
}

Status validate_config(ServerConfig& c) {
  if (c.name.empty()) return Error("--name is empty; give this member a name, e.g. --name n1");
  if (c.data_dir.empty()) c.data_dir = c.name + ".etcd";

  auto lc = parse_urls(flatten(c.listen_client_urls), "--listen-client-urls");
  if (!lc) return lc.error();
  auto ac = parse_urls(flatten(c.advertise_client_urls), "--advertise-client-urls");
  if (!ac) return ac.error();
  auto lp = parse_urls(flatten(c.listen_peer_urls), "--listen-peer-urls");
  if (!lp) return lp.error();
  auto ap = parse_urls(flatten(c.initial_advertise_peer_urls), "--initial-advertise-peer-urls");
  if (!ap) return ap.error();
  c.listen_client = std::move(*lc);
  c.advertise_client = std::move(*ac);
  c.listen_peer = std::move(*lp);
  c.advertise_peer = std::move(*ap);

  if (auto s = check_port_tls(c.listen_client, "--listen-client-urls", c.advertise_client,
                              "--advertise-client-urls", c.client_tls, "");
      !s) {
    return s;
  }
  if (auto s = check_port_tls(c.listen_peer, "--listen-peer-urls", c.advertise_peer,
                              "--initial-advertise-peer-urls", c.peer_tls, "peer-");
      !s) {
    return s;
  }

  if (c.initial_cluster.empty()) {
    for (const auto& u : c.advertise_peer) {
      c.initial_cluster += (c.initial_cluster.empty() ? "" : ",") + c.name + "=" + u.text;
    }
  }
  auto cluster = parse_initial_cluster(c.initial_cluster);
  if (!cluster) return cluster.error();
  c.cluster = std::move(*cluster);
  std::set<std::string> mine;
  for (const auto& m : c.cluster) {
    if (m.name == c.name) mine.insert(m.peer_url.text);
  }
  if (mine.empty()) {
    return Error("--initial-cluster has no entry for --name " + c.name + "; add " + c.name +
                 "=<its peer URL> or fix --name");
  }
  std::set<std::string> advertised;
  for (const auto& u : c.advertise_peer)
    advertised.insert(u.text);
  if (mine != advertised) {
    return Error("--initial-cluster's URLs for " + c.name +
                 " differ from --initial-advertise-peer-urls; "
                 "they must list the same peer URLs");
  }
  for (const auto& m : c.cluster) {
    const bool tls = c.peer_tls.enabled();
    if ((m.peer_url.scheme == "https") != tls) {
      return Error("--initial-cluster member " + m.name + " uses " + m.peer_url.text +
                   " but peers " +
                   (tls ? "use TLS (--peer-cert-file given); use https://"
                        : "do not use TLS (no --peer-cert-file); use http://"));
    }
  }
  if (c.initial_cluster_state != "new" && c.initial_cluster_state != "existing") {
    return Error("--initial-cluster-state is \"" + c.initial_cluster_state +
                 "\"; it must be new (bootstrap) or existing (join)");
  }
  if (c.initial_cluster_token.empty()) {
    return Error("--initial-cluster-token is empty; give a token unique to this cluster");
  }

  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error") {
    return Error("--log-level is \"" + c.log_level + "\"; use debug, info, warn or error");
  }
  if (c.heartbeat_interval_ms <= 0)
    return Error("--heartbeat-interval must be > 0 ms (default 100)");
  if (c.election_timeout_ms < 5 * c.heartbeat_interval_ms) {
    return Error("--election-timeout (" + std::to_string(c.election_timeout_ms) +
                 " ms) must be at least 5 times --heartbeat-interval (" +
                 std::to_string(c.heartbeat_interval_ms) + " ms)");
  }
  if (c.election_timeout_ms > 50000) return Error("--election-timeout must be at most 50000 ms");
  if (c.snapshot_count == 0) return Error("--snapshot-count must be > 0 (default 10000)");
  auto progress = parse_go_duration(c.watch_progress_notify_interval);
  if (!progress || progress->count() <= 0) {
    return Error("--experimental-watch-progress-notify-interval is \"" +
                 c.watch_progress_notify_interval +
                 "\"; give a positive duration such as 10m, 30s or 500ms (default 10m)");
  }
  c.watch_progress_notify = *progress;
  if (c.max_request_bytes == 0 || c.max_request_bytes > (64u << 20)) {
    return Error("--max-request-bytes must be between 1 and 67108864 (default 1572864)");
  }

  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(c.data_dir, ec) && !fs::is_directory(c.data_dir, ec)) {
    return Error("--data-dir " + c.data_dir +
                 " exists and is not a directory; remove it or choose another path");
  }
  if (!c.restore_file.empty()) {
    if (!fs::is_regular_file(c.restore_file, ec)) {
      return Error("--restore " + c.restore_file +
                   " is not a readable file; give a snapshot saved by kvserver");
    }
    if (fs::exists(c.data_dir, ec) && !fs::is_empty(c.data_dir, ec)) {
      return Error("--restore refuses to overwrite the non-empty --data-dir " + c.data_dir +
                   "; move it away or choose another --data-dir");
    }
  }
  return certs::ok_status();
}

}  // namespace kvserver::server
