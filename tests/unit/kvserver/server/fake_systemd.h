// Test helper playing systemd's side of sd_notify: a unix datagram socket bound at a path, with
// NOTIFY_SOCKET pointing at it for the helper's lifetime (child processes inherit it).
//
// Thread-safety: none; one per test case.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include <catch2/catch.hpp>

namespace kvserver::server::testing {

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

}  // namespace kvserver::server::testing
