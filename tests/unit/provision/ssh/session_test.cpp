// Session against a real sshd on loopback: authentication, host-key policy, commands, sudo.
// Outside judges: ssh-keygen (fingerprints, known_hosts lookups) and the local filesystem.
#include "provision/ssh/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "provision/ssh/host_key.h"
#include "sshd_fixture.h"

namespace {

using provision::ssh::ConnectionSpec;
using provision::ssh::RunOptions;
using provision::ssh::Session;
using provision::ssh::testing::free_port;
using provision::ssh::testing::run_local;
using provision::ssh::testing::SshdFixture;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The fingerprint as OpenSSH's own tool prints it: "256 SHA256:xxxx comment (ED25519)".
std::string openssh_fingerprint(const std::string& public_key_file) {
  auto r = run_local("ssh-keygen -l -E sha256 -f '" + public_key_file + "'");
  REQUIRE(r.exit_code == 0);
  std::istringstream in(r.output);
  std::string bits, fingerprint;
  in >> bits >> fingerprint;
  REQUIRE(fingerprint.rfind("SHA256:", 0) == 0);
  return fingerprint;
}

}  // namespace

TEST_CASE("key authentication logs in and runs a command", "[ssh][session]") {
  SshdFixture sshd;
  auto session = Session::connect(sshd.spec("n1"));
  REQUIRE(session.ok());
  auto r = (*session)->run("id -un; echo hello");
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->stdout_text == "root\nhello\n");
  CHECK(r->stderr_text.empty());
}

TEST_CASE("a key that is not authorized is refused with a clear error", "[ssh][session]") {
  SshdFixture sshd;
  ConnectionSpec spec = sshd.spec("n1");
  spec.identity_file = sshd.stranger_key();
  auto session = Session::connect(spec);
  REQUIRE_FALSE(session.ok());
  const std::string& m = session.error().message;
  INFO(m);
  CHECK(m.rfind("node n1 (127.0.0.1:" + std::to_string(sshd.port()) + "): ", 0) == 0);
  CHECK(m.find("refused to log in user root") != std::string::npos);
  CHECK(m.find(sshd.stranger_key()) != std::string::npos);
  CHECK(m.find("authorized_keys") != std::string::npos);
}

TEST_CASE("a missing identity file is named", "[ssh][session]") {
  SshdFixture sshd;
  ConnectionSpec spec = sshd.spec("n1");
  spec.identity_file = sshd.dir() + "/no-such-key";
  auto session = Session::connect(spec);
  REQUIRE_FALSE(session.ok());
  CHECK(session.error().message.find("no-such-key does not exist") != std::string::npos);
}

TEST_CASE("a passphrase-protected key is refused with advice to use ssh-agent", "[ssh][session]") {
  SshdFixture sshd;
  const std::string key = sshd.dir() + "/locked_key";
  REQUIRE(run_local("ssh-keygen -q -t ed25519 -N 'secret words' -f '" + key + "'").exit_code == 0);
  ConnectionSpec spec = sshd.spec("n1");
  spec.identity_file = key;
  auto session = Session::connect(spec);  // must fail, and must not prompt on the terminal
  REQUIRE_FALSE(session.ok());
  INFO(session.error().message);
  CHECK(session.error().message.find("cannot load private key " + key) != std::string::npos);
  CHECK(session.error().message.find("ssh-add " + key) != std::string::npos);
}

TEST_CASE("an unknown host is refused and nothing is recorded", "[ssh][hostkey]") {
  SshdFixture sshd;
  ConnectionSpec spec = sshd.spec("n1");
  spec.known_hosts = sshd.dir() + "/known_hosts_empty";
  auto session = Session::connect(spec);
  REQUIRE_FALSE(session.ok());
  const std::string& m = session.error().message;
  INFO(m);
  CHECK(m.find("node n1") != std::string::npos);
  CHECK(m.find("host key unknown") != std::string::npos);
  CHECK(m.find(openssh_fingerprint(sshd.host_key() + ".pub")) != std::string::npos);
  CHECK(m.find("accept_new_host_keys") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(spec.known_hosts));
}

TEST_CASE("accept-new records the host, and the next connect works without it", "[ssh][hostkey]") {
  SshdFixture sshd;
  ConnectionSpec spec = sshd.spec("n1");
  spec.known_hosts = sshd.dir() + "/fresh/known_hosts";  // directory does not exist yet either
  spec.accept_new_host_keys = true;
  {
    auto session = Session::connect(spec);
    REQUIRE(session.ok());
  }
  const std::string entry = "[127.0.0.1]:" + std::to_string(sshd.port());
  CHECK(slurp(spec.known_hosts).rfind(entry + " ssh-ed25519 ", 0) == 0);
  // OpenSSH itself finds the recorded key, and it is the server's key.
  auto found = run_local("ssh-keygen -F '" + entry + "' -f '" + spec.known_hosts + "'");
  CHECK(found.exit_code == 0);
  auto pub = slurp(sshd.host_key() + ".pub");
  CHECK(found.output.find(pub.substr(0, pub.find(" provision-test"))) != std::string::npos);

  spec.accept_new_host_keys = false;
  auto again = Session::connect(spec);
  REQUIRE(again.ok());
  CHECK((*again)->run("true").ok());
}

TEST_CASE("a changed host key is refused even with accept-new, naming the fingerprint",
          "[ssh][hostkey]") {
  SshdFixture sshd;
  ConnectionSpec spec = sshd.spec("web-3");
  spec.accept_new_host_keys = true;  // must not matter for a CHANGED key
  REQUIRE(Session::connect(spec).ok());

  sshd.restart(sshd.other_host_key());
  auto session = Session::connect(spec);
  REQUIRE_FALSE(session.ok());
  const std::string& m = session.error().message;
  INFO(m);
  const std::string entry = "[127.0.0.1]:" + std::to_string(sshd.port());
  CHECK(m.find("node web-3 (127.0.0.1:" + std::to_string(sshd.port()) + ")") != std::string::npos);
  CHECK(m.find("HOST KEY CHANGED") != std::string::npos);
  const std::string new_fp = openssh_fingerprint(sshd.other_host_key() + ".pub");
  CHECK(m.find(new_fp) != std::string::npos);
  const std::string fix = "ssh-keygen -R '" + entry + "' -f " + spec.known_hosts;
  CHECK(m.find(fix) != std::string::npos);
  // The known_hosts file still holds the old key: nothing was overwritten.
  CHECK(slurp(spec.known_hosts).find(slurp(sshd.other_host_key() + ".pub").substr(0, 60)) ==
        std::string::npos);

  // Following the advice works: remove the old key, accept the new one.
  REQUIRE(run_local(fix).exit_code == 0);
  CHECK(Session::connect(spec).ok());
}

TEST_CASE("a closed port is reported as connection refused, naming the node", "[ssh][session]") {
  ConnectionSpec spec;
  spec.node = "ghost";
  spec.host = "127.0.0.1";
  spec.port = free_port();  // nothing listens there
  spec.identity_file = "/dev/null";
  spec.connect_timeout_ms = 3000;
  auto session = Session::connect(spec);
  REQUIRE_FALSE(session.ok());
  INFO(session.error().message);
  CHECK(session.error().message.rfind("node ghost (127.0.0.1:" + std::to_string(spec.port) +
                                          "): connection refused - is sshd running and the port "
                                          "right?",
                                      0) == 0);
}

TEST_CASE("a server that never answers hits connect_timeout_ms, naming the node",
          "[ssh][session]") {
  // A listening socket nobody accepts from: the kernel completes the TCP handshake, but no SSH
  // banner ever comes - what a hung sshd or a black-holing middlebox looks like.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 8) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);

  ConnectionSpec spec;
  spec.node = "slow";
  spec.host = "127.0.0.1";
  spec.port = ntohs(addr.sin_port);
  spec.identity_file = "/dev/null";
  spec.connect_timeout_ms = 700;
  const auto start = std::chrono::steady_clock::now();
  auto session = Session::connect(spec);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(fd);
  REQUIRE_FALSE(session.ok());
  INFO(session.error().message);
  CHECK(session.error().message.rfind("node slow (127.0.0.1:" + std::to_string(spec.port) + "): ",
                                      0) == 0);
  CHECK(session.error().message.find("within 700 ms") != std::string::npos);
  CHECK(elapsed < std::chrono::seconds(5));
}

TEST_CASE("remote exit code and stderr are surfaced", "[ssh][exec]") {
  SshdFixture sshd;
  auto session = Session::connect(sshd.spec("n2"));
  REQUIRE(session.ok());
  Session& s = **session;

  auto e = s.exec("echo out; echo 'disk on fire' >&2; exit 3");
  REQUIRE(e.ok());
  CHECK(e->exit_code == 3);
  CHECK(e->stdout_text == "out\n");
  CHECK(e->stderr_text == "disk on fire\n");

  auto r = s.run("echo out; echo 'disk on fire' >&2; exit 3");
  REQUIRE_FALSE(r.ok());
  const std::string& m = r.error().message;
  INFO(m);
  CHECK(m.rfind("node n2 (", 0) == 0);
  CHECK(m.find("`echo out; echo 'disk on fire' >&2; exit 3`") != std::string::npos);
  CHECK(m.find("exited with 3") != std::string::npos);
  CHECK(m.find("disk on fire") != std::string::npos);
}

TEST_CASE("stdin is delivered and large stdout/stderr are read without deadlock", "[ssh][exec]") {
  SshdFixture sshd;
  auto session = Session::connect(sshd.spec("n1"));
  REQUIRE(session.ok());
  RunOptions options;
  options.stdin_data = std::string(300000, 'x') + "end";
  auto cat = (*session)->run("cat", options);
  REQUIRE(cat.ok());
  CHECK(cat->stdout_text == options.stdin_data);

  auto big = (*session)->run(
      "head -c 2000000 /dev/zero | tr '\\0' a; head -c 700000 /dev/zero | tr '\\0' b >&2");
  REQUIRE(big.ok());
  CHECK(big->stdout_text == std::string(2000000, 'a'));
  CHECK(big->stderr_text == std::string(700000, 'b'));
}

TEST_CASE("sessions run in the fixture's own empty home, not the invoking user's", "[ssh][exec]") {
  SshdFixture sshd;
  auto session = Session::connect(sshd.spec("n1"));
  REQUIRE(session.ok());
  auto home = (*session)->run("echo \"$HOME\"; ls -A \"$HOME\" | wc -l");
  REQUIRE(home.ok());
  CHECK(home->stdout_text == sshd.dir() + "/home\n0\n");
  CHECK(home->stderr_text.empty());
}

TEST_CASE("a command that outlives its timeout is stopped on the node", "[ssh][exec]") {
  SshdFixture sshd;
  auto session = Session::connect(sshd.spec("n1"));
  REQUIRE(session.ok());
  RunOptions options;
  options.timeout_ms = 300;
  const auto start = std::chrono::steady_clock::now();
  auto r = (*session)->run("echo started; sleep 31.4159", options);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().message.rfind("node n1 (", 0) == 0);
  CHECK(r.error().message.find("did not finish within 300 ms") != std::string::npos);
  CHECK(r.error().message.find("started") != std::string::npos);
  CHECK(elapsed < std::chrono::seconds(10));
  // The remote process is gone, not merely abandoned ([.] keeps pgrep from matching itself).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (run_local("pgrep -f 'sleep 31[.]4159'").exit_code == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval
  }
  CHECK(run_local("pgrep -f 'sleep 31[.]4159'").exit_code == 1);
  // The session is still usable afterwards, and a command exiting 124 quickly is not a timeout.
  auto after = (*session)->exec("echo alive; exit 124");
  REQUIRE(after.ok());
  CHECK(after->stdout_text == "alive\n");
  CHECK(after->exit_code == 124);
}

TEST_CASE("sudo=true wraps privileged commands in sudo -n (as root)", "[ssh][sudo]") {
  SshdFixture sshd;
  ConnectionSpec spec = sshd.spec("n1");
  spec.sudo = true;
  auto session = Session::connect(spec);
  REQUIRE(session.ok());
  RunOptions privileged;
  privileged.privileged = true;
  // SUDO_USER is set by sudo itself: proof the command really went through it.
  auto r = (*session)->run("echo \"$SUDO_USER\"; id -u", privileged);
  REQUIRE(r.ok());
  CHECK(r->stdout_text == "root\n0\n");
  auto plain = (*session)->run("echo \"${SUDO_USER:-none}\"");
  REQUIRE(plain.ok());
  CHECK(plain->stdout_text == "none\n");
}

TEST_CASE("sudo's password prompt becomes advice to configure NOPASSWD", "[ssh][sudo]") {
  SshdFixture sshd;
  ConnectionSpec spec = sshd.spec("n1");
  spec.sudo = true;
  auto session = Session::connect(spec);
  REQUIRE(session.ok());
  RunOptions privileged;
  privileged.privileged = true;
  // Real sudo output: `nobody` has no sudo rights here, so its `sudo -n` asks for a password.
  // (A real non-root login is the e2e suite's job; see the report.)
  auto r = (*session)->run("sudo -n -u nobody sudo -n true", privileged);
  REQUIRE_FALSE(r.ok());
  const std::string& m = r.error().message;
  INFO(m);
  CHECK(m.rfind("node n1 (", 0) == 0);
  CHECK(m.find("NOPASSWD") != std::string::npos);
  CHECK(m.find("connect as root") != std::string::npos);
}

TEST_CASE("ssh-agent authentication", "[ssh][session][agent]") {
  SshdFixture sshd;
  const std::string socket = sshd.dir() + "/agent.sock";
  auto agent = run_local("ssh-agent -a '" + socket + "'");
  REQUIRE(agent.exit_code == 0);
  const auto pid_at = agent.output.find("SSH_AGENT_PID=");
  REQUIRE(pid_at != std::string::npos);
  const int agent_pid = std::stoi(agent.output.substr(pid_at + 14));
  struct StopAgent {
    int pid;
    ~StopAgent() { ::kill(pid, SIGTERM); }
  } stop_agent{agent_pid};

  ConnectionSpec spec = sshd.spec("n1");
  spec.identity_file.clear();
  spec.use_agent = true;
  spec.agent_socket = socket;
  auto empty = Session::connect(spec);  // agent holds no key yet
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().message.find("the keys in ssh-agent") != std::string::npos);

  REQUIRE(
      run_local("SSH_AUTH_SOCK='" + socket + "' ssh-add '" + sshd.client_key() + "'").exit_code ==
      0);
  auto session = Session::connect(spec);
  REQUIRE(session.ok());
  CHECK((*session)->run("true").ok());
}

TEST_CASE("connection specs are validated and name their node", "[ssh][spec]") {
  ConnectionSpec spec;
  spec.node = "n1";
  spec.host = "10.0.0.1";
  CHECK_FALSE(spec.validate().ok());  // no key, no agent
  spec.identity_file = "/k";
  CHECK(spec.validate().ok());
  spec.port = 0;
  CHECK(spec.validate().error().message.find("port 0 is out of range") != std::string::npos);
  spec.port = 2222;
  CHECK(spec.where() == "node n1 (10.0.0.1:2222)");
  spec.host = "fd00::1";
  CHECK(spec.where() == "node n1 ([fd00::1]:2222)");
  CHECK(provision::ssh::known_hosts_name("10.0.0.1", 22) == "10.0.0.1");
  CHECK(provision::ssh::known_hosts_name("10.0.0.1", 2222) == "[10.0.0.1]:2222");
}
