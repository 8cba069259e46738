// run_on_all(): several "nodes" (sessions to the same real sshd) run at once; a bad node fails
// alone.
#include "provision/ssh/parallel.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "sshd_fixture.h"

namespace {

using provision::ssh::ConnectionSpec;
using provision::ssh::run_on_all;
using provision::ssh::Session;
using provision::ssh::testing::free_port;
using provision::ssh::testing::SshdFixture;

}  // namespace

TEST_CASE("run_on_all runs every node concurrently and one bad node fails alone",
          "[ssh][parallel]") {
  SshdFixture sshd;
  std::vector<ConnectionSpec> nodes = {sshd.spec("h1"), sshd.spec("h2"), sshd.spec("h3"),
                                       sshd.spec("h4")};
  nodes[2].port = free_port();  // h3: nothing listens there

  // Each good node waits until all good nodes have arrived: this only finishes if they really run
  // at the same time (sequential execution would hit the deadline).
  std::atomic<int> arrived{0};
  auto results = run_on_all(nodes, [&](Session& s) -> certs::Result<std::string> {
    arrived.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (arrived.load() < 3) {
      if (std::chrono::steady_clock::now() > deadline)
        return certs::Error(s.where() + ": peers never arrived");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll interval
    }
    auto r = s.run("echo " + s.spec().node);
    if (!r) return r.error();
    return r->stdout_text;
  });

  REQUIRE(results.size() == 4);
  CHECK(results[0].node == "h1");
  CHECK(results[3].node == "h4");
  for (int i : {0, 1, 3}) {
    INFO(results[i].node);
    REQUIRE(results[i].result.ok());
    CHECK(*results[i].result == results[i].node + "\n");
  }
  REQUIRE_FALSE(results[2].result.ok());
  INFO(results[2].result.error().message);
  CHECK(results[2].result.error().message.rfind("node h3 (127.0.0.1:", 0) == 0);
  CHECK(results[2].result.error().message.find("connection refused") != std::string::npos);
}

TEST_CASE("an exception in one node's function becomes that node's error", "[ssh][parallel]") {
  SshdFixture sshd;
  std::vector<ConnectionSpec> nodes = {sshd.spec("a"), sshd.spec("b")};
  auto results = run_on_all(nodes, [](Session& s) -> certs::Status {
    if (s.spec().node == "b") throw std::runtime_error("template missing");
    if (auto r = s.run("true"); !r) return r.error();
    return certs::ok_status();
  });
  REQUIRE(results.size() == 2);
  CHECK(results[0].result.ok());
  REQUIRE_FALSE(results[1].result.ok());
  CHECK(results[1].result.error().message.rfind("node b (", 0) == 0);
  CHECK(results[1].result.error().message.find("template missing") != std::string::npos);
}
