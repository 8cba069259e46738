// TlsReloader (the SIGHUP action): logs the new certificates, keeps working credentials when the
// files on disk are broken, and reports what is wrong.
#include <catch2/catch.hpp>

#include "kvserver/server/tls_reloader.h"
#include "tests/unit/kvserver/server/captured_log.h"
#include "tests/unit/kvserver/server/test_pki.h"

using kvserver::server::TlsFiles;
using kvserver::server::testing::CapturedLog;
using kvserver::server::testing::TestPki;

TEST_CASE("SIGHUP reload logs new serials and keeps working credentials on broken files",
          "[tls_reload]") {
  TestPki pki;
  pki.make_ca("ca");
  pki.make_leaf("ca", "server1", "n1");
  pki.make_leaf("ca", "server2", "n1");
  pki.make_leaf("ca", "peer1", "n1");
  for (const char* f : {"s.crt", "s.key", "p.crt", "p.key"}) {
    const std::string src = std::string(f[0] == 's' ? "server1" : "peer1") + (f + 1);
    pki.write_atomically(f, pki.read(src));
  }
  const TlsFiles client{pki.path("s.crt"), pki.path("s.key"), pki.path("ca.crt"), true};
  const TlsFiles peer{pki.path("p.crt"), pki.path("p.key"), pki.path("ca.crt"), true};
  auto dial = kvserver::server::PeerDialCredentials::create(peer, 3600);
  REQUIRE(dial.ok());
  kvserver::server::TlsReloader reloader(client, peer, dial->get());
  CapturedLog log;

  pki.write_atomically("s.key", pki.read("server2.key"));
  pki.write_atomically("s.crt", pki.read("server2.crt"));
  REQUIRE(reloader.reload().ok());
  CHECK_THAT(log.out.str(), Catch::Contains("cert reloaded: TLS client port") &&
                                Catch::Contains(pki.serial_of("server2")) &&
                                Catch::Contains("TLS peer port") &&
                                Catch::Contains(pki.serial_of("peer1")));

  const auto working = (*dial)->current();
  pki.write_atomically("p.key", pki.read("server2.key"));  // not the peer cert's key
  auto s = reloader.reload();
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error().message, Catch::Contains("--peer-key-file"));
  CHECK_THAT(log.out.str(), Catch::Contains("keep the previous certificate"));
  CHECK((*dial)->current() == working);
}
