#include "provision/steps/node_facts.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <ctime>

#include "certs/file_io.h"
#include "provision/ssh/upload.h"
#include "tests/support/test_support.h"

using namespace provision::steps;
using test_support::shell_quote;

TEST_CASE("ss lines: port, address and every process name", "[node_facts]") {
  auto l = parse_ss_line(
      "LISTEN 0      4096     10.213.0.11:2380      0.0.0.0:*    "
      "users:((\"etcd\",pid=149,fd=7),(\"etcd\",pid=149,fd=9),(\"helper\",pid=7,fd=3))");
  REQUIRE(l.has_value());
  CHECK(l->port == 2380);
  CHECK(l->address == "10.213.0.11");
  CHECK(l->processes == std::vector<std::string>{"etcd", "helper"});
  auto v6 = parse_ss_line("LISTEN 0 128 [::]:22 [::]:* users:((\"sshd\",pid=1,fd=4))");
  REQUIRE(v6.has_value());
  CHECK(v6->port == 22);
  CHECK(v6->address == "[::]");
  auto anon = parse_ss_line("LISTEN 0 128 0.0.0.0:2379 0.0.0.0:*");
  REQUIRE(anon.has_value());
  CHECK(anon->processes.empty());
  CHECK_FALSE(parse_ss_line("ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000").has_value());
}

TEST_CASE("probe output: every record read, incomplete output refused", "[node_facts]") {
  const std::string out =
      "systemd yes\nnow 1700000000.250000000\nunit active enabled\ndata 1 700\n"
      "file 644 root:root abc123 /etc/etcd/ca.crt\nfile - - - /etc/etcd/peer key\n"
      "ss-begin\nLISTEN 0 4096 10.0.0.1:2379 0.0.0.0:* users:((\"etcd\",pid=1,fd=7))\nss-end\n";
  auto f = parse_node_facts(out);
  REQUIRE(f.ok());
  CHECK(f->systemd);
  CHECK(f->node_time_s == Approx(1700000000.25));
  CHECK(f->unit_active == "active");
  CHECK(f->unit_enabled == "enabled");
  CHECK(f->unit_running());
  CHECK(f->data_dir_has_member);
  CHECK(f->data_dir_mode == "700");
  REQUIRE(f->files.count("/etc/etcd/ca.crt") == 1);
  CHECK(f->files["/etc/etcd/ca.crt"]->sha256 == "abc123");
  REQUIRE(f->files.count("/etc/etcd/peer key") == 1);
  CHECK_FALSE(f->files["/etc/etcd/peer key"].has_value());
  REQUIRE(f->listeners.size() == 1);
  CHECK(f->listeners[0].port == 2379);

  auto cut = parse_node_facts("systemd yes\nnow 1.0\n");
  REQUIRE_FALSE(cut.ok());
  CHECK_THAT(cut.error().message, Catch::Contains("incomplete"));
  CHECK_FALSE(parse_node_facts(out + "garbage line\n").ok());
}

TEST_CASE("probe script: run by this machine's sh, it reports real files, clock and sockets",
          "[node_facts]") {
  test_support::TempDir dir;
  const std::string present = dir / "with space.crt";
  REQUIRE(certs::atomic_write(present, "hello\n", 0640).ok());
  const std::string absent = dir / "missing.key";
  REQUIRE(certs::ensure_dir(dir / "data", 0700).ok());
  REQUIRE(certs::atomic_write(dir / "data/member", "x", 0600).ok());
  // A socket this test listens on must show up with this process's name.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // not inherited by sh and ss
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const int port = ntohs(addr.sin_port);

  const std::string script =
      probe_script("provision-test-none.service", dir / "data", {present, absent});
  REQUIRE(certs::atomic_write(dir / "probe.sh", script, 0644).ok());
  const double before = static_cast<double>(std::time(nullptr));
  auto r = test_support::run("sh " + shell_quote(dir / "probe.sh") + " 2>/dev/null");
  close(fd);
  REQUIRE(r.exit_code == 0);
  auto f = parse_node_facts(r.output);
  REQUIRE(f.ok());
  CHECK(f->node_time_s >= before - 1);
  CHECK(f->node_time_s <= static_cast<double>(std::time(nullptr)) + 1);
  CHECK_FALSE(f->unit_running());
  CHECK(f->data_dir_exists);
  CHECK(f->data_dir_has_member);
  CHECK(f->data_dir_mode == "700");
  REQUIRE(f->files[present].has_value());
  CHECK(f->files[present]->sha256 == provision::ssh::sha256_hex("hello\n"));
  CHECK(f->files[present]->mode == "640");
  CHECK(f->files[present]->owner == "root:root");
  CHECK_FALSE(f->files[absent].has_value());
  bool seen = false;
  for (const auto& l : f->listeners) {
    if (l.port != port) continue;
    seen = true;
    CHECK(l.processes == std::vector<std::string>{"unit_provision_"});  // comm is 15 chars
  }
  CHECK(seen);
}

TEST_CASE("probe script: the binary's sha256 comes from the manifest while size and mtime match",
          "[node_facts]") {
  test_support::TempDir dir;
  const std::string bin = dir / "etcd";
  const std::string manifest = dir / ".binary.sha256";
  REQUIRE(certs::atomic_write(bin, "binary bytes", 0755).ok());
  auto stat_line = test_support::run("stat -c '%s %Y' " + shell_quote(bin));
  REQUIRE(stat_line.exit_code == 0);
  std::string size_mtime = stat_line.output.substr(0, stat_line.output.find('\n'));
  // A recorded hash that is not the file's: seeing it proves the probe did not hash the file.
  REQUIRE(certs::atomic_write(manifest, size_mtime + " recorded-hash\n", 0644).ok());
  auto probe = [&] {
    const std::string script = probe_script("none.service", dir / "data", {bin}, bin, manifest);
    REQUIRE(certs::atomic_write(dir / "probe.sh", script, 0644).ok());
    auto r = test_support::run("sh " + shell_quote(dir / "probe.sh") + " 2>/dev/null");
    REQUIRE(r.exit_code == 0);
    auto f = parse_node_facts(r.output);
    REQUIRE(f.ok());
    REQUIRE(f->files[bin].has_value());
    return f->files[bin]->sha256;
  };
  CHECK(probe() == "recorded-hash");
  // Any change of mtime (or size) and the file is hashed again.
  REQUIRE(test_support::run("touch -d '2001-01-01' " + shell_quote(bin)).exit_code == 0);
  CHECK(probe() == provision::ssh::sha256_hex("binary bytes"));
}
