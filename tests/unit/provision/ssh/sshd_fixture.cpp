#include "sshd_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace provision::ssh::testing {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

void keygen(const std::string& path) {
  LocalResult r = run_local("ssh-keygen -q -t ed25519 -N '' -C provision-test -f '" + path + "'");
  if (r.exit_code != 0) throw std::runtime_error("ssh-keygen failed: " + r.output);
}

bool port_accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

LocalResult run_local(const std::string& command) {
  LocalResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0)
    result.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("cannot bind a free port on 127.0.0.1");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

SshdFixture::SshdFixture() {
  char tmpl[] = "/tmp/provision-ssh-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  host_key_ = dir_ + "/host_key_a";
  other_host_key_ = dir_ + "/host_key_b";
  client_key_ = dir_ + "/client_key";
  stranger_key_ = dir_ + "/stranger_key";
  for (const std::string& k : {host_key_, other_host_key_, client_key_, stranger_key_})
    keygen(k);
  write_file(dir_ + "/authorized_keys", read_file(client_key_ + ".pub"));
  // sshd's privilege separation directory; absent on machines that never ran the ssh service.
  std::filesystem::create_directories("/run/sshd");
  ::chmod("/run/sshd", 0755);
  port_ = free_port();
  start();
  pinned_known_hosts_ = dir_ + "/known_hosts_pinned";
  write_file(pinned_known_hosts_,
             "[127.0.0.1]:" + std::to_string(port_) + " " + read_file(host_key_ + ".pub"));
}

SshdFixture::~SshdFixture() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string SshdFixture::log() const {
  return read_file(dir_ + "/sshd.log");
}

void SshdFixture::restart(const std::string& host_key) {
  stop();
  host_key_ = host_key;
  start();
}

void SshdFixture::start() {
  const std::string config = dir_ + "/sshd_config";
  std::ostringstream conf;
  conf << "Port " << port_ << "\n"
       << "ListenAddress 127.0.0.1\n"
       << "HostKey " << host_key_ << "\n"
       << "PidFile " << dir_ << "/sshd.pid\n"
       << "AuthorizedKeysFile " << dir_ << "/authorized_keys\n"
       << "PermitRootLogin prohibit-password\n"
       << "PubkeyAuthentication yes\n"
       << "PasswordAuthentication no\n"
       << "KbdInteractiveAuthentication no\n"
       << "UsePAM no\n"
       // The temp dir lives in /tmp (1777), which StrictModes would reject.
       << "StrictModes no\n"
       << "Subsystem sftp internal-sftp\n"
       << "MaxStartups 100:30:200\n"
       << "MaxSessions 50\n"
       << "LogLevel VERBOSE\n"
       // Sessions get an empty home of their own: bash started by sshd reads ~/.bashrc, and the
       // tests must not run whatever the invoking user's rc files do (a `pyenv init` there wrote
       // warnings into the stderr a test compares, when two sessions raced on its shims).
       << "SetEnv HOME=" << dir_ << "/home\n";
  std::filesystem::create_directories(dir_ + "/home");
  write_file(config, conf.str());
  const std::string log_path = dir_ + "/sshd.log";
  std::string sshd = "/usr/sbin/sshd";
  std::vector<char*> argv = {sshd.data(),
                             const_cast<char*>("-D"),
                             const_cast<char*>("-e"),
                             const_cast<char*>("-f"),
                             const_cast<char*>(config.c_str()),
                             nullptr};
  const pid_t parent = ::getpid();
  // fork+exec rather than posix_spawn so the child can ask for PDEATHSIG: if the test process
  // dies without running destructors (abort, SIGPIPE), sshd goes with it instead of lingering.
  // Between fork and exec only async-signal-safe calls.
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("cannot fork for /usr/sbin/sshd");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // parent already gone
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) ::_exit(127);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execv(sshd.c_str(), argv.data());
    ::_exit(127);
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!port_accepts(port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("sshd exited during startup: " + log());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error("sshd did not accept connections within 15 s: " + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval, not a sync
  }
}

void SshdFixture::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

ConnectionSpec SshdFixture::spec(const std::string& node) const {
  ConnectionSpec s;
  s.node = node;
  s.host = "127.0.0.1";
  s.port = port_;
  s.user = "root";
  s.identity_file = client_key_;
  s.known_hosts = pinned_known_hosts_;
  s.connect_timeout_ms = 5000;
  return s;
}

}  // namespace provision::ssh::testing
