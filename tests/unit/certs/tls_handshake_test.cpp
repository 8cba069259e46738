// A real mutual-TLS handshake between `openssl s_server` and `openssl s_client` on loopback, with
// certificates from libcerts. Success is judged by an HTTP answer coming through the tunnel (with
// TLS 1.3 a client-certificate rejection only shows after the client thinks the handshake is done,
// so the exit code of s_client alone would not tell).
#include "tests/unit/certs/pki_fixture.h"

using namespace certs;
using namespace certs_test;
using test_support::run;
using test_support::shell_quote;

namespace {

struct Files {
  test_support::TempDir dir;
  TestCa ca;
  TestCa foreign{KeyType::kEcdsaP256, "foreign-ca"};

  Files() {
    write_pair(dir.path(), "ca", ca.cert.get(), nullptr);
    SubjectAltNames sans{{"h1", "localhost"}, {"127.0.0.1", "::1"}};
    sans.normalize();
    put("server", issue(ca, CertRole::kServer, sans));
    put("client", issue(ca, CertRole::kClient, {}, "admin"));
    put("foreign-client", issue(foreign, CertRole::kClient, {}, "admin"));
    put("expired-client", issue(ca, CertRole::kClient, {}, "admin", now() - 24h * 10, now() - 24h));
    put("expired-server", issue(ca, CertRole::kServer, sans, "h1", now() - 24h * 10, now() - 24h));
    put("client-as-server", issue(ca, CertRole::kClient, sans, "h1"));
    SubjectAltNames other{{"h9"}, {"10.9.9.9"}};
    put("wrong-san-server", issue(ca, CertRole::kServer, other, "h9"));
  }
  void put(const std::string& name, const TestLeaf& leaf) {
    write_pair(dir.path(), name, leaf.cert.get(), leaf.key.get());
  }
  std::string crt(const std::string& name) const { return shell_quote(dir / (name + ".crt")); }
  std::string key(const std::string& name) const { return shell_quote(dir / (name + ".key")); }
};

// An s_server that demands and verifies a client certificate (mTLS) and answers HTTP (-www).
struct Server {
  int port = test_support::free_tcp_port();
  test_support::BackgroundProcess process;
  Server(const Files& f, const std::string& cert)
      : process({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
                 f.dir / (cert + ".crt"), "-key", f.dir / (cert + ".key"), "-CAfile",
                 f.dir / "ca.crt", "-Verify", "1", "-verify_return_error", "-www", "-quiet"},
                f.dir / "s_server.log") {
    REQUIRE(test_support::wait_for_tcp_port("127.0.0.1", port, std::chrono::seconds(10)));
  }
};

// Connects as `client` and asks for a page; true when the page came back over verified mTLS.
bool mtls_request(const Files& f, int port, const std::string& client,
                  const std::string& verify = "-verify_ip 127.0.0.1") {
  std::string cmd =
      "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 10 openssl s_client -quiet "
      "-connect 127.0.0.1:" +
      std::to_string(port) + " -CAfile " + f.crt("ca") + " -verify_return_error " + verify;
  if (!client.empty()) cmd += " -cert " + f.crt(client) + " -key " + f.key(client);
  auto r = run(cmd);
  UNSCOPED_INFO("s_client as '" << client << "': " << r.output);
  return r.exit_code == 0 && r.output.find("HTTP/1.0 200 ok") != std::string::npos;
}

}  // namespace

TEST_CASE("mTLS with our server and client certs succeeds", "[tls]") {
  Files f;
  Server server(f, "server");
  CHECK(mtls_request(f, server.port, "client"));
  CHECK(mtls_request(f, server.port, "client", "-verify_hostname localhost"));
}

TEST_CASE("mTLS refuses a client cert from a foreign CA, an expired one, or none", "[tls]") {
  Files f;
  Server server(f, "server");
  CHECK_FALSE(mtls_request(f, server.port, "foreign-client"));
  CHECK_FALSE(mtls_request(f, server.port, "expired-client"));
  CHECK_FALSE(mtls_request(f, server.port, ""));
  CHECK(mtls_request(f, server.port, "client"));  // the server is still fine after refusing
}

TEST_CASE("clients refuse an expired server cert and a client-only cert used to serve", "[tls]") {
  Files f;
  {
    Server server(f, "expired-server");
    CHECK_FALSE(mtls_request(f, server.port, "client"));
  }
  {
    Server server(f, "client-as-server");
    CHECK_FALSE(mtls_request(f, server.port, "client"));
  }
}

TEST_CASE("clients refuse a server whose SANs do not hold the address or name dialled", "[tls]") {
  Files f;
  {
    Server server(f, "server");
    CHECK_FALSE(mtls_request(f, server.port, "client", "-verify_ip 127.0.0.2"));
    CHECK_FALSE(mtls_request(f, server.port, "client", "-verify_hostname h9"));
  }
  {
    Server server(f, "wrong-san-server");
    CHECK_FALSE(mtls_request(f, server.port, "client"));
  }
}
