// sd_notify against a real NOTIFY_SOCKET: a unix datagram socket this test binds, playing systemd.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <string>

#include "kvserver/server/sd_notify.h"
#include "tests/unit/kvserver/server/fake_systemd.h"
#include "tests/unit/kvserver/server/test_pki.h"

TEST_CASE("READY and STATUS and STOPPING reach NOTIFY_SOCKET", "[sd_notify]") {
  kvserver::server::testing::TestPki tmp;  // for its temp directory
  kvserver::server::testing::FakeSystemd systemd(tmp.path("notify.sock"));
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
