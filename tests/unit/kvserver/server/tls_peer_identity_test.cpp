// The peer port's identity check: peer_identity_problem on certificates made by the openssl CLI,
// and the verifier inside real peer-port credentials (make_server_credentials with "peer-") with
// real gRPC clients: a member's cert gets through, a client-only cert of the same CA does not, and
// the member logs why.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "kvserver/server/tls.h"
#include "kvserver/server/tls_peer_identity.h"
#include "tests/unit/kvserver/server/captured_log.h"
#include "tests/unit/kvserver/server/test_pki.h"
#include "tests/unit/kvserver/server/test_status_server.h"

using kvserver::server::peer_identity_problem;
using kvserver::server::TlsFiles;
using kvserver::server::testing::call_status;
using kvserver::server::testing::CapturedLog;
using kvserver::server::testing::TestPki;
using kvserver::server::testing::TestServer;

namespace {

// A fresh connection (own subchannel pool) presenting `leaf`, trusting `ca`.
std::shared_ptr<grpc::Channel> channel_as(const TestServer& s, const TestPki& pki,
                                          const std::string& leaf) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = pki.read("ca.crt");
  o.pem_cert_chain = pki.read(leaf + ".crt");
  o.pem_private_key = pki.read(leaf + ".key");
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(s.target(), grpc::SslCredentials(o), args);
}

}  // namespace

TEST_CASE("peer_identity_problem wants serverAuth in the client certificate", "[tls][peer]") {
  TestPki pki;
  pki.make_ca("ca");
  pki.make_leaf("ca", "peer", "n2", "serverAuth,clientAuth");
  pki.make_leaf("ca", "admin", "admin", "clientAuth");
  pki.make_leaf("ca", "server_only", "n3", "serverAuth");

  CHECK(peer_identity_problem(pki.read("peer.crt")).empty());
  CHECK(peer_identity_problem(pki.read("server_only.crt")).empty());
  const std::string why = peer_identity_problem(pki.read("admin.crt"));
  CHECK_THAT(why, Catch::Contains("/CN=admin") && Catch::Contains(pki.serial_of("admin")) &&
                      Catch::Contains("issuer /CN=ca") &&
                      Catch::Contains("extended key usage clientAuth, not serverAuth"));
  CHECK_THAT(peer_identity_problem(""), Catch::Contains("no client certificate"));
  CHECK_THAT(peer_identity_problem("garbage"), Catch::Contains("could not be parsed"));
}

TEST_CASE("the peer port refuses a client-only certificate of its own CA at the handshake",
          "[tls][peer]") {
  TestPki pki;
  pki.make_ca("ca");
  pki.make_leaf("ca", "server", "n1");
  pki.make_leaf("ca", "peer", "n2", "serverAuth,clientAuth");
  pki.make_leaf("ca", "admin", "admin", "clientAuth");
  const TlsFiles files{pki.path("server.crt"), pki.path("server.key"), pki.path("ca.crt"), true};
  CapturedLog log;

  auto peer_creds = kvserver::server::make_server_credentials(files, "peer-");
  REQUIRE(peer_creds.ok());
  TestServer peer_port(*peer_creds);
  auto member = call_status(channel_as(peer_port, pki, "peer"));
  CHECK(member.status.ok());
  CHECK(member.cn == "n2");
  auto admin = call_status(channel_as(peer_port, pki, "admin"));
  // Refused before HTTP/2: the client only sees its connection fail.
  CHECK(admin.status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK_THAT(log.out.str(),
             Catch::Contains("peer port: refused a connection: certificate /CN=admin"));

  // The client port (flag prefix "") has no such rule: the admin cert is what clients use.
  auto client_creds = kvserver::server::make_server_credentials(files, "");
  REQUIRE(client_creds.ok());
  TestServer client_port(*client_creds);
  auto admin_as_client = call_status(channel_as(client_port, pki, "admin"));
  CHECK(admin_as_client.status.ok());
  CHECK(admin_as_client.cn == "admin");
}
