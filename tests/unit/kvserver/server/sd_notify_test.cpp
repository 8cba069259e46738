// sd_notify against a real NOTIFY_SOCKET: a unix datagram socket this test binds, playing systemd.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "kvserver/server/sd_notify.h"
#include "tests/unit/kvserver/server/test_pki.h"

namespace {

// Binds a datagram socket at `path` and restores NOTIFY_SOCKET on destruction.
struct FakeSystemd {
  int fd = -1;
  explicit FakeSystemd(const std::string& path) {
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::strcpy(addr.sun_path, path.c_str());
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }
  ~FakeSystemd() {
    close(fd);
    unsetenv("NOTIFY_SOCKET");
  }
  // One datagram, or "" if none arrives within 5 s.
  std::string receive() const {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return "";
    char buf[1024];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
};

}  // namespace

TEST_CASE("READY and STATUS and STOPPING reach NOTIFY_SOCKET", "[sd_notify]") {
  kvserver::server::testing::TestPki tmp;  // for its temp directory
  FakeSystemd systemd(tmp.path("notify.sock"));
  CHECK(kvserver::server::notify_socket_present());
  REQUIRE(kvserver::server::notify_ready("serving 3 members").ok());
  CHECK(systemd.receive() == "READY=1\nSTATUS=serving 3 members");
  REQUIRE(kvserver::server::notify_status("applying snapshot").ok());
  CHECK(systemd.receive() == "STATUS=applying snapshot");
  REQUIRE(kvserver::server::notify_stopping().ok());
  CHECK(systemd.receive() == "STOPPING=1");
  // The environment is left in place for later notifications.
  CHECK(std::getenv("NOTIFY_SOCKET") != nullptr);
}

TEST_CASE("without NOTIFY_SOCKET every notification is a successful no-op", "[sd_notify]") {
  unsetenv("NOTIFY_SOCKET");
  CHECK_FALSE(kvserver::server::notify_socket_present());
  CHECK(kvserver::server::notify_ready("x").ok());
  CHECK(kvserver::server::notify_stopping().ok());
}

TEST_CASE("a NOTIFY_SOCKET nobody listens on is an error naming the socket", "[sd_notify]") {
  kvserver::server::testing::TestPki tmp;
  const std::string path = tmp.path("absent.sock");
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  auto s = kvserver::server::notify_ready("x");
  unsetenv("NOTIFY_SOCKET");
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error().message, Catch::Contains(path) && Catch::Contains("READY=1"));
}
