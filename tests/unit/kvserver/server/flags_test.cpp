// Flag parsing and validation: etcd's names and defaults, and errors that name the flag and the
// fix.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kvserver/server/flags.h"
#include "tests/unit/kvserver/server/test_pki.h"

using kvserver::server::ParsedFlags;
using kvserver::server::ServerConfig;
using kvserver::server::testing::TestPki;

namespace {

// Parses and validates; returns the error message, or "" when both succeed.
std::string error_of(const std::vector<std::string>& args, ServerConfig* out = nullptr) {
  auto parsed = kvserver::server::parse_flags(args);
  if (!parsed) return parsed.error().message;
  auto status = kvserver::server::validate_config(parsed->config);
  if (!status) return status.error().message;
  if (out != nullptr) *out = parsed->config;
  return "";
}

// A PKI with a CA, a server cert and a peer cert; plus the flags of a valid 3-member TLS member.
struct TlsMember {
  TestPki pki;
  TlsMember() {
    pki.make_ca("ca");
    pki.make_leaf("ca", "server", "n1");
    pki.make_leaf("ca", "peer", "n1");
  }
  std::vector<std::string> args() const {
    return {"--name",
            "n1",
            "--data-dir",
            pki.path("data"),
            "--listen-client-urls",
            "https://127.0.0.1:2379,https://[::1]:2379",
            "--advertise-client-urls=https://127.0.0.1:2379",
            "--listen-peer-urls",
            "https://127.0.0.1:2380",
            "--initial-advertise-peer-urls",
            "https://127.0.0.1:2380",
            "--initial-cluster",
            "n1=https://127.0.0.1:2380,n2=https://127.0.0.2:2380,n3=https://127.0.0.3:2380",
            "--initial-cluster-state",
            "new",
            "--initial-cluster-token",
            "tok-1",
            "--cert-file",
            pki.path("server.crt"),
            "--key-file",
            pki.path("server.key"),
            "--trusted-ca-file",
            pki.path("ca.crt"),
            "--client-cert-auth",
            "--peer-cert-file",
            pki.path("peer.crt"),
            "--peer-key-file",
            pki.path("peer.key"),
            "--peer-trusted-ca-file",
            pki.path("ca.crt"),
            "--peer-client-cert-auth"};
  }
};

std::vector<std::string> with(std::vector<std::string> args, const std::string& flag,
                              const std::string& value) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) {
      args[i + 1] = value;
      return args;
    }
  }
  args.push_back(flag);
  args.push_back(value);
  return args;
}

std::vector<std::string> without(std::vector<std::string> args, const std::string& flag) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag) {
      const bool has_value = i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0;
      args.erase(args.begin() + i, args.begin() + i + (has_value ? 2 : 1));
      return args;
    }
  }
  return args;
}

}  // namespace

TEST_CASE("no flags gives etcd's defaults with plain http on localhost", "[flags]") {
  ServerConfig c;
  REQUIRE(error_of({}, &c).empty());
  CHECK(c.name == "default");
  CHECK(c.data_dir == "default.etcd");
  CHECK(c.initial_cluster == "default=http://localhost:2380");
  CHECK(c.max_request_bytes == 1572864);
  CHECK(c.snapshot_count == 10000);
  CHECK(c.heartbeat_interval_ms == 100);
  CHECK(c.election_timeout_ms == 1000);
  CHECK(c.strict_reconfig_check);
  CHECK(c.log_level == "info");
  REQUIRE(c.listen_client.size() == 1);
  CHECK(c.listen_client[0].host_port() == "localhost:2379");
}

TEST_CASE("version and help flags are actions and not errors", "[flags]") {
  auto v = kvserver::server::parse_flags({"--version"});
  REQUIRE(v.ok());
  CHECK(v->action == ParsedFlags::Action::kPrintVersion);
  auto h = kvserver::server::parse_flags({"--help"});
  REQUIRE(h.ok());
  CHECK(h->action == ParsedFlags::Action::kPrintHelp);
  CHECK(h->help_text.find("--initial-cluster-token") != std::string::npos);
  CHECK(h->help_text.find("--max-request-bytes") != std::string::npos);
}

TEST_CASE("etcd's strict-reconfig-check log-level and unsafe-no-fsync are understood", "[flags]") {
  ServerConfig c;
  REQUIRE(error_of({"--strict-reconfig-check=false", "--log-level", "debug"}, &c).empty());
  CHECK_FALSE(c.strict_reconfig_check);
  CHECK(c.log_level == "debug");
  CHECK_FALSE(c.unsafe_no_fsync);
  REQUIRE(error_of({"--unsafe-no-fsync"}, &c).empty());
  CHECK(c.unsafe_no_fsync);
  CHECK_THAT(error_of({"--log-level", "chatty"}), Catch::Contains("--log-level"));
}

TEST_CASE("the watch progress notify interval takes Go durations as etcd does", "[flags]") {
  using std::chrono::milliseconds;
  const std::string flag = "--experimental-watch-progress-notify-interval";
  ServerConfig c;
  REQUIRE(error_of({}, &c).empty());
  CHECK(c.watch_progress_notify == std::chrono::minutes(10));  // etcd's default
  REQUIRE(error_of({flag, "1m30s"}, &c).empty());
  CHECK(c.watch_progress_notify == milliseconds(90000));
  REQUIRE(error_of({flag, "500ms"}, &c).empty());
  CHECK(c.watch_progress_notify == milliseconds(500));
  REQUIRE(error_of({flag + "=1.5s"}, &c).empty());
  CHECK(c.watch_progress_notify == milliseconds(1500));
  REQUIRE(error_of({flag, "1h"}, &c).empty());
  CHECK(c.watch_progress_notify == std::chrono::hours(1));
  for (const char* bad : {"soon", "10", "0s", "5x", "m", "-1s", "1s2", "99999999999999999h"}) {
    INFO(bad);
    CHECK_THAT(error_of({flag, bad}), Catch::Contains(flag) && Catch::Contains("10m"));
  }
}

TEST_CASE("unknown flags and bad numbers name the flag", "[flags]") {
  CHECK_THAT(error_of({"--listen-client-url", "http://localhost:2379"}),
             Catch::Contains("--listen-client-url") && Catch::Contains("--help"));
  CHECK_THAT(error_of({"--heartbeat-interval", "fast"}), Catch::Contains("--heartbeat-interval"));
  CHECK_THAT(error_of({"--snapshot-count", "0"}), Catch::Contains("--snapshot-count"));
  CHECK_THAT(error_of({"--max-request-bytes", "0"}), Catch::Contains("--max-request-bytes"));
}

TEST_CASE("a full TLS member validates and its URL lists and cluster are parsed", "[flags]") {
  TlsMember m;
  ServerConfig c;
  REQUIRE(error_of(m.args(), &c).empty());
  REQUIRE(c.listen_client.size() == 2);
  CHECK(c.listen_client[1].host == "::1");
  CHECK(c.listen_client[1].host_port() == "[::1]:2379");
  REQUIRE(c.cluster.size() == 3);
  CHECK(c.cluster[2].name == "n3");
  CHECK(c.cluster[2].peer_url.port == 2380);
  CHECK(c.client_tls.client_cert_auth);
  CHECK(c.peer_tls.client_cert_auth);
  // etcd also accepts --client-cert-auth=true.
  auto args = without(m.args(), "--client-cert-auth");
  args.push_back("--client-cert-auth=true");
  REQUIRE(error_of(args, &c).empty());
  CHECK(c.client_tls.client_cert_auth);
}

TEST_CASE("cert files with a non-https client URL: the URL flag and the fix", "[flags]") {
  TlsMember m;
  const auto msg = error_of(with(m.args(), "--advertise-client-urls", "http://127.0.0.1:2379"));
  CHECK_THAT(msg, Catch::Contains("--advertise-client-urls") &&
                      Catch::Contains("http://127.0.0.1:2379") &&
                      Catch::Contains("use https://127.0.0.1:2379"));
  const auto peer = error_of(with(m.args(), "--listen-peer-urls", "http://127.0.0.1:2380"));
  CHECK_THAT(peer, Catch::Contains("--listen-peer-urls") && Catch::Contains("--peer-cert-file"));
}

TEST_CASE("https URLs without cert files are refused", "[flags]") {
  CHECK_THAT(error_of({"--listen-client-urls", "https://127.0.0.1:2379"}),
             Catch::Contains("--listen-client-urls") && Catch::Contains("--cert-file"));
}

TEST_CASE("initial-cluster must name this member with its advertised peer URLs", "[flags]") {
  TlsMember m;
  CHECK_THAT(error_of(with(m.args(), "--name", "n9")),
             Catch::Contains("--initial-cluster has no entry for --name n9"));
  CHECK_THAT(error_of(with(m.args(), "--initial-advertise-peer-urls", "https://127.0.0.9:2380")),
             Catch::Contains("--initial-advertise-peer-urls"));
  CHECK_THAT(error_of(with(m.args(), "--initial-cluster", "n1=https://127.0.0.1:2380,oops")),
             Catch::Contains("\"oops\" is not NAME=URL"));
  CHECK_THAT(error_of(with(m.args(), "--initial-cluster",
                           "n1=https://127.0.0.1:2380,n2=https://127.0.0.1:2380")),
             Catch::Contains("twice"));
  CHECK_THAT(error_of(with(m.args(), "--initial-cluster",
                           "n1=https://127.0.0.1:2380,n2=http://127.0.0.2:2380")),
             Catch::Contains("member n2") && Catch::Contains("use https://"));
  CHECK_THAT(error_of(with(m.args(), "--initial-cluster-state", "join")),
             Catch::Contains("--initial-cluster-state") && Catch::Contains("existing"));
}

TEST_CASE("unreadable or mismatched TLS files name the flag and the path", "[flags]") {
  TlsMember m;
  const std::string missing = m.pki.path("nope.crt");
  CHECK_THAT(error_of(with(m.args(), "--cert-file", missing)),
             Catch::Contains("--cert-file " + missing) && Catch::Contains("cannot read"));
  CHECK_THAT(error_of(with(m.args(), "--peer-trusted-ca-file", missing)),
             Catch::Contains("--peer-trusted-ca-file " + missing));
  // The peer key does not belong to the server cert.
  CHECK_THAT(error_of(with(m.args(), "--key-file", m.pki.path("peer.key"))),
             Catch::Contains("--key-file") && Catch::Contains("does not match --cert-file"));
  // A key where the certificate should be.
  CHECK_THAT(error_of(with(m.args(), "--cert-file", m.pki.path("server.key"))),
             Catch::Contains("no PEM certificate"));
  CHECK_THAT(error_of(without(m.args(), "--key-file")),
             Catch::Contains("--cert-file and --key-file go together"));
  CHECK_THAT(error_of(without(m.args(), "--trusted-ca-file")),
             Catch::Contains("--client-cert-auth needs --trusted-ca-file"));
}

TEST_CASE("timing bounds follow etcd's", "[flags]") {
  CHECK_THAT(error_of({"--heartbeat-interval", "100", "--election-timeout", "300"}),
             Catch::Contains("at least 5 times --heartbeat-interval"));
  CHECK_THAT(error_of({"--election-timeout", "60000"}), Catch::Contains("at most 50000"));
  CHECK(error_of({"--heartbeat-interval", "50", "--election-timeout", "250"}).empty());
}

TEST_CASE("restore needs a file and an empty data dir", "[flags]") {
  TestPki tmp;  // only for its temp directory
  const std::string snap = tmp.path("snap.db");
  CHECK_THAT(error_of({"--restore", snap, "--data-dir", tmp.path("d")}),
             Catch::Contains("--restore " + snap));
  std::ofstream(snap) << "snapshot";
  CHECK(error_of({"--restore", snap, "--data-dir", tmp.path("d")}).empty());
  std::filesystem::create_directories(tmp.path("d"));
  std::ofstream(tmp.path("d/wal")) << "x";
  CHECK_THAT(error_of({"--restore", snap, "--data-dir", tmp.path("d")}),
             Catch::Contains("non-empty --data-dir"));
  CHECK_THAT(error_of({"--data-dir", snap}), Catch::Contains("not a directory"));
}

TEST_CASE("parse_url accepts etcd's URL forms and explains the rest", "[flags]") {
  using kvserver::server::parse_url;
  auto v6 = parse_url("https://[fe80::1]:2380/", "--f");
  REQUIRE(v6.ok());
  CHECK(v6->host == "fe80::1");
  CHECK(v6->port == 2380);
  CHECK_THAT(parse_url("10.0.0.1:2379", "--f").error().message, Catch::Contains("no scheme"));
  CHECK_THAT(parse_url("unix://x:1", "--f").error().message, Catch::Contains("http or https"));
  CHECK_THAT(parse_url("https://10.0.0.1", "--f").error().message, Catch::Contains("no port"));
  CHECK_THAT(parse_url("https://10.0.0.1:70000", "--f").error().message,
             Catch::Contains("1-65535"));
  CHECK_THAT(parse_url("https://10.0.0.1:2379/v3", "--f").error().message, Catch::Contains("path"));
}
