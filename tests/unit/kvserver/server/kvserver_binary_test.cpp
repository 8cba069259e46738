// The kvserver binary itself: one file to copy (ldd), --version's layout, and main's exit paths.
#include <signal.h>
#include <sys/wait.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/test_support.h"
#include "tests/unit/kvserver/server/fake_systemd.h"
#include "tests/unit/kvserver/server/test_pki.h"

using kvserver::server::testing::run_command;

namespace {

const std::string kKvserver = std::string(PROJECT_BINARY_DIR) + "/bin/kvserver";

// Library names (e.g. "libc.so.6") that `ldd file` lists, vdso and loader included.
std::set<std::string> ldd_names(const std::string& file) {
  auto r = run_command("ldd " + file);
  REQUIRE(r.exit_code == 0);
  std::set<std::string> names;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string first;
    if (words >> first) names.insert(first.substr(first.rfind('/') + 1));
  }
  return names;
}

bool is_glibc_part(const std::string& name) {
  static const std::regex glibc(
      R"((libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl)\.so\.\d+|ld-linux.*\.so\.\d+|linux-vdso\.so\.1)");
  return std::regex_match(name, glibc);
}

}  // namespace

TEST_CASE("kvserver needs only glibc and libsystemd0 at run time", "[binary]") {
  const auto names = ldd_names(kKvserver);
  REQUIRE(names.count("libsystemd.so.0") == 1);
  // libsystemd0 brings its own dependencies (libcap, libgcrypt, lz4, ...); they come with it on
  // every systemd host, so whatever it needs on this machine is allowed, and nothing else.
  const auto systemd_deps = ldd_names("$(ldconfig -p | awk '/libsystemd.so.0 /{print $NF; exit}')");
  for (const auto& name : names) {
    INFO(name);
    CHECK((is_glibc_part(name) || name == "libsystemd.so.0" || systemd_deps.count(name) == 1));
  }
  for (const char* forbidden : {"libgrpc", "libprotobuf", "libstdc++", "libssl", "libcrypto",
                                "libabsl", "libgcc_s", "libspdlog", "libfmt", "libz.so"}) {
    for (const auto& name : names)
      CHECK(name.find(forbidden) == std::string::npos);
  }
}

TEST_CASE("kvserver --version prints etcdctl's layout", "[binary]") {
  auto r = run_command(kKvserver + " --version");
  CHECK(r.exit_code == 0);
  CHECK(std::regex_match(r.output,
                         std::regex(R"(kvserver Version: \d+\.\d+\.\d+\nAPI Version: 3\.4\n)")));
}

TEST_CASE("kvserver exits 2 naming a bad flag", "[binary]") {
  auto bad = run_command(kKvserver + " --initial-cluster-state maybe");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.output, Catch::Contains("--initial-cluster-state"));

  kvserver::server::testing::TestPki pki;
  pki.make_ca("ca");
  pki.make_leaf("ca", "server", "n1");
  const std::string tls = " --cert-file " + pki.path("server.crt") + " --key-file " +
                          pki.path("server.key") + " --trusted-ca-file " + pki.path("ca.crt") +
                          " --client-cert-auth";
  auto http_url = run_command(kKvserver + tls + " --data-dir " + pki.path("d"));
  CHECK(http_url.exit_code == 2);
  CHECK_THAT(http_url.output,
             Catch::Contains("--listen-client-urls http://localhost:2379 is not https"));
}

TEST_CASE("the static kvserver tells systemd READY=1, then STOPPING=1 and exits 0 on SIGTERM",
          "[binary]") {
  kvserver::server::testing::TestPki tmp;
  kvserver::server::testing::FakeSystemd systemd(tmp.path("notify.sock"));  // sets NOTIFY_SOCKET
  const std::string peer = "http://127.0.0.1:" + std::to_string(test_support::free_tcp_port());
  const std::string client = "http://127.0.0.1:" + std::to_string(test_support::free_tcp_port());
  test_support::BackgroundProcess server(
      {kKvserver, "--name", "n1", "--data-dir", tmp.path("d"), "--initial-cluster", "n1=" + peer,
       "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--listen-client-urls",
       client, "--advertise-client-urls", client},
      tmp.path("kvserver.log"));
  // A single member elects itself; READY=1 arrives once it has a leader and applied its start.
  std::string messages;
  for (int i = 0; i < 20 && messages.find("READY=1") == std::string::npos; ++i) {
    messages += systemd.receive() + "\n";  // receive() waits up to 5 s per datagram
  }
  INFO(messages);
  CHECK_THAT(messages, Catch::Contains("READY=1"));
  REQUIRE(kill(server.pid(), SIGTERM) == 0);
  std::string stopping;
  for (int i = 0; i < 10 && stopping.find("STOPPING=1") == std::string::npos; ++i) {
    stopping += systemd.receive() + "\n";
  }
  CHECK_THAT(stopping, Catch::Contains("STOPPING=1"));
  CHECK(server.wait_for_exit(std::chrono::seconds(20)) == 0);
}
