// TLS credentials end to end: a real gRPC server on 127.0.0.1 built with make_server_credentials,
// real gRPC clients, and openssl s_client / etcdctl 3.4 as outside judges. Certificates come from
// the openssl CLI (test_pki.h).
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include "kvserver/api/etcdserverpb/rpc.grpc.pb.h"
#include "kvserver/server/tls.h"
#include "tests/unit/kvserver/server/test_pki.h"
#include "tests/unit/kvserver/server/test_status_server.h"

using kvserver::server::TlsFiles;
using kvserver::server::testing::run_command;
using kvserver::server::testing::TestPki;
using Clock = std::chrono::steady_clock;
using kvserver::server::testing::call_status;
using kvserver::server::testing::TestServer;

namespace {

// A fresh channel (own subchannel pool, so never a shared connection) with static PEM credentials.
std::shared_ptr<grpc::Channel> ssl_channel(const TestServer& s, const TestPki& pki,
                                           const std::string& ca, const std::string& leaf) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = pki.read(ca + ".crt");
  if (!leaf.empty()) {
    o.pem_cert_chain = pki.read(leaf + ".crt");
    o.pem_private_key = pki.read(leaf + ".key");
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(s.target(), grpc::SslCredentials(o), args);
}

std::shared_ptr<grpc::Channel> channel_with(
    const TestServer& s, const std::shared_ptr<grpc::ChannelCredentials>& creds) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(s.target(), creds, args);
}

// The serial of the certificate the server presents to a NEW connection, per openssl s_client.
std::string served_serial(const TestServer& s, const TestPki& pki, const std::string& client) {
  auto r = run_command("openssl s_client -connect " + s.target() + " -showcerts -cert " +
                       pki.path(client + ".crt") + " -key " + pki.path(client + ".key") +
                       " | openssl x509 -noout -serial");
  const auto eq = r.output.find("serial=");
  if (eq == std::string::npos) return "";
  std::string serial = r.output.substr(eq + 7);
  return serial.substr(0, serial.find('\n'));
}

// The judge is s_client -brief: it prints "CONNECTION ESTABLISHED" only once SSL_connect succeeded,
// i.e. after the server's Finished (its exit code is useless here: it is 1 even after a good
// handshake, because gRPC hangs up when no HTTP/2 preface follows).
bool handshake_ok(const std::string& s_client_output, const std::string& version = "TLSv1.") {
  return s_client_output.find("CONNECTION ESTABLISHED") != std::string::npos &&
         s_client_output.find("Protocol version: " + version) != std::string::npos;
}

TlsFiles mtls_files(const TestPki& pki, const std::string& leaf, const std::string& ca_file) {
  return TlsFiles{pki.path(leaf + ".crt"), pki.path(leaf + ".key"), pki.path(ca_file), true};
}

}  // namespace

TEST_CASE("mTLS server accepts a client of its CA and refuses the others", "[tls]") {
  TestPki pki;
  pki.make_ca("ca");
  pki.make_ca("foreign");
  pki.make_leaf("ca", "server", "n1");
  pki.make_leaf("ca", "client", "admin", "clientAuth");
  pki.make_leaf("foreign", "stranger", "admin", "clientAuth");
  pki.make_expired_leaf("ca", "expired", "admin");

  auto creds = kvserver::server::make_server_credentials(mtls_files(pki, "server", "ca.crt"), "");
  REQUIRE(creds.ok());
  TestServer server(*creds);

  auto good = call_status(ssl_channel(server, pki, "ca", "client"));
  REQUIRE(good.status.ok());
  CHECK(good.cn == "admin");

  auto anonymous = call_status(ssl_channel(server, pki, "ca", ""));
  CHECK(anonymous.status.error_code() == grpc::StatusCode::UNAVAILABLE);
  auto foreign = call_status(ssl_channel(server, pki, "ca", "stranger"));
  CHECK(foreign.status.error_code() == grpc::StatusCode::UNAVAILABLE);
  auto expired = call_status(ssl_channel(server, pki, "ca", "expired"));
  CHECK(expired.status.error_code() == grpc::StatusCode::UNAVAILABLE);

  // openssl as the outside judge of the handshake: refused at TLS level, not by the RPC layer.
  const std::string s_client =
      "openssl s_client -brief -connect " + server.target() + " -CAfile " + pki.path("ca.crt");
  CHECK(handshake_ok(
      run_command(s_client + " -cert " + pki.path("client.crt") + " -key " + pki.path("client.key"))
          .output));
  // TLS 1.2, because there the server's refusal is part of the handshake (1.3 sends it later).
  const auto no_cert = run_command(s_client + " -tls1_2");
  INFO(no_cert.output);
  CHECK_FALSE(handshake_ok(no_cert.output));
  const auto expired_cert = run_command(s_client + " -tls1_2 -cert " + pki.path("expired.crt") +
                                        " -key " + pki.path("expired.key"));
  CHECK_FALSE(handshake_ok(expired_cert.output));
}

TEST_CASE("TLS below 1.2 is refused while 1.2 and 1.3 work", "[tls]") {
  TestPki pki;
  pki.make_ca("ca");
  pki.make_leaf("ca", "server", "n1");
  auto creds = kvserver::server::make_server_credentials(
      TlsFiles{pki.path("server.crt"), pki.path("server.key"), "", false}, "");
  REQUIRE(creds.ok());
  TestServer server(*creds);
  const std::string base =
      "openssl s_client -brief -connect " + server.target() + " -CAfile " + pki.path("ca.crt");
  CHECK(handshake_ok(run_command(base + " -tls1_2").output, "TLSv1.2"));
  CHECK(handshake_ok(run_command(base + " -tls1_3").output, "TLSv1.3"));
  // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal comes from the server.
  auto v11 = run_command(base + " -tls1_1 -cipher DEFAULT@SECLEVEL=0");
  INFO(v11.output);
  CHECK_FALSE(handshake_ok(v11.output));
}

TEST_CASE("replaced cert and key and CA bundle reach new connections while old ones keep working",
          "[tls]") {
  TestPki pki;
  pki.make_ca("ca1");
  pki.make_ca("ca2");
  pki.make_leaf("ca1", "server_v1", "n1");
  pki.make_leaf("ca2", "server_v2", "n1");
  pki.make_leaf("ca1", "client1", "client-one", "clientAuth");
  pki.make_leaf("ca2", "client2", "client-two", "clientAuth");
  // The files the server is configured with; the test replaces them as an operator would.
  pki.write_atomically("live.crt", pki.read("server_v1.crt"));
  pki.write_atomically("live.key", pki.read("server_v1.key"));
  pki.write_atomically("bundle.crt", pki.read("ca1.crt"));

  auto creds = kvserver::server::make_server_credentials(
      TlsFiles{pki.path("live.crt"), pki.path("live.key"), pki.path("bundle.crt"), true}, "",
      /*refresh_interval_sec=*/1);
  REQUIRE(creds.ok());
  TestServer server(*creds);

  // A client trusting both CAs, so it can follow the server from ca1 to ca2.
  pki.write_atomically("both.crt", pki.read("ca1.crt") + pki.read("ca2.crt"));
  auto old_channel = ssl_channel(server, pki, "both", "client1");
  auto before = call_status(old_channel);
  REQUIRE(before.status.ok());
  CHECK(before.cn == "client-one");
  CHECK(served_serial(server, pki, "client1") == pki.serial_of("server_v1"));
  // ca2's client is not trusted yet.
  CHECK_FALSE(call_status(ssl_channel(server, pki, "both", "client2")).status.ok());

  // Staged CA rotation: trust both CAs, then switch the server to a ca2-issued cert.
  pki.write_atomically("bundle.crt", pki.read("ca1.crt") + pki.read("ca2.crt"));
  pki.write_atomically("live.key", pki.read("server_v2.key"));
  pki.write_atomically("live.crt", pki.read("server_v2.crt"));

  const std::string want = pki.serial_of("server_v2");
  std::string seen;
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < deadline) {
    seen = served_serial(server, pki, "client2");
    if (seen == want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval, not a sync
  }
  CHECK(seen == want);

  // The bundle was re-read too: ca2's client is now accepted on a new connection.
  auto fresh = call_status(ssl_channel(server, pki, "both", "client2"));
  REQUIRE(fresh.status.ok());
  CHECK(fresh.cn == "client-two");
  // The connection opened before the swap is still up, and it is the same TCP connection.
  auto after = call_status(old_channel);
  REQUIRE(after.status.ok());
  CHECK(after.peer == before.peer);
}

TEST_CASE("PeerDialCredentials::reload presents the new peer cert at once", "[tls]") {
  TestPki pki;
  pki.make_ca("ca");
  pki.make_leaf("ca", "server", "n1");
  pki.make_leaf("ca", "peer_old", "peer-old");
  pki.make_leaf("ca", "peer_new", "peer-new");
  auto creds =
      kvserver::server::make_server_credentials(mtls_files(pki, "server", "ca.crt"), "peer-");
  REQUIRE(creds.ok());
  TestServer server(*creds);

  pki.write_atomically("p.crt", pki.read("peer_old.crt"));
  pki.write_atomically("p.key", pki.read("peer_old.key"));
  // A long refresh interval, so only reload() can explain a change seen right away.
  auto dial = kvserver::server::PeerDialCredentials::create(
      TlsFiles{pki.path("p.crt"), pki.path("p.key"), pki.path("ca.crt"), true}, 3600);
  REQUIRE(dial.ok());
  auto old_channel = channel_with(server, (*dial)->current());
  auto before = call_status(old_channel);
  REQUIRE(before.status.ok());
  CHECK(before.cn == "peer-old");

  pki.write_atomically("p.key", pki.read("peer_new.key"));
  pki.write_atomically("p.crt", pki.read("peer_new.crt"));
  auto summary = (*dial)->reload();
  REQUIRE(summary.ok());
  CHECK_THAT(summary->subject, Catch::Contains("peer-new"));
  auto now = call_status(channel_with(server, (*dial)->current()));
  REQUIRE(now.status.ok());
  CHECK(now.cn == "peer-new");
  auto old_again = call_status(old_channel);
  REQUIRE(old_again.status.ok());
  CHECK(old_again.cn == "peer-old");

  // A broken file is reported and the working credentials stay.
  pki.write_atomically("p.key", pki.read("peer_old.key"));
  auto bad = (*dial)->reload();
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message,
             Catch::Contains("--peer-key-file") && Catch::Contains("does not match"));
  CHECK(call_status(channel_with(server, (*dial)->current())).cn == "peer-new");
}

TEST_CASE("etcdctl 3.4 reads endpoint status over mTLS from our credentials", "[tls][etcdctl]") {
  if (run_command("command -v etcdctl").exit_code != 0)
    FAIL("etcdctl (etcd-client) is not installed");
  TestPki pki;
  pki.make_ca("ca");
  pki.make_leaf("ca", "server", "n1");
  pki.make_leaf("ca", "client", "admin", "clientAuth");
  auto creds = kvserver::server::make_server_credentials(mtls_files(pki, "server", "ca.crt"), "");
  REQUIRE(creds.ok());
  TestServer server(*creds);
  auto r = run_command("ETCDCTL_API=3 etcdctl --endpoints=https://" + server.target() +
                       " --cacert " + pki.path("ca.crt") + " --cert " + pki.path("client.crt") +
                       " --key " + pki.path("client.key") + " endpoint status -w fields");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("\"MemberID\" : 8738"));  // 0x2222
  CHECK_THAT(r.output, Catch::Contains("\"Leader\" : 8738"));
  CHECK_THAT(r.output, Catch::Contains("\"RaftIndex\" : 42"));
  CHECK_THAT(r.output, Catch::Contains("\"RaftAppliedIndex\" : 41"));
  CHECK_THAT(r.output, Catch::Contains("\"Version\" : \"admin|"));
  // Without a client certificate etcdctl cannot get through.
  auto anon = run_command(
      "ETCDCTL_API=3 etcdctl --dial-timeout=2s --command-timeout=3s "
      "--endpoints=https://" +
      server.target() + " --cacert " + pki.path("ca.crt") + " endpoint status");
  CHECK(anon.exit_code != 0);
}
