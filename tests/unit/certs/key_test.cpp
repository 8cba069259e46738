#include "certs/key.h"

#include <catch2/catch.hpp>

#include "certs/file_io.h"
#include "tests/support/test_support.h"

using namespace certs;
using test_support::run;
using test_support::shell_quote;

TEST_CASE("every key type generates, round-trips through PEM and is read back by openssl",
          "[key]") {
  test_support::TempDir dir;
  for (const auto& name : key_type_names()) {
    DYNAMIC_SECTION(name) {
      KeyType type = parse_key_type(name).value();
      auto key = generate_key(type);
      REQUIRE(key.ok());
      CHECK(key_type_of(key->get()).value() == type);

      std::string pem = private_key_to_pem(key->get());
      auto back = private_key_from_pem(pem, "mem");
      REQUIRE(back.ok());
      CHECK(EVP_PKEY_eq(back->get(), key->get()) == 1);

      std::string path = dir / (name + ".key");
      REQUIRE(atomic_write(path, pem, kPrivateKeyMode));
      auto judged = run("openssl pkey -in " + shell_quote(path) + " -noout -text");
      INFO(judged.output);
      CHECK(judged.exit_code == 0);
      if (type == KeyType::kEcdsaP256) CHECK_THAT(judged.output, Catch::Contains("P-256"));
      if (type == KeyType::kEcdsaP384) CHECK_THAT(judged.output, Catch::Contains("P-384"));
      if (type == KeyType::kRsa3072) CHECK_THAT(judged.output, Catch::Contains("3072 bit"));
      if (type == KeyType::kEd25519) CHECK_THAT(judged.output, Catch::Contains("ED25519"));
    }
  }
}

TEST_CASE("unsupported key type names list the accepted ones", "[key]") {
  auto r = parse_key_type("dsa-1024");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("dsa-1024") && Catch::Contains("ecdsa-p256") &&
                                    Catch::Contains("ed25519"));
}

TEST_CASE("corrupt or truncated private key PEM names its source", "[key]") {
  auto key = generate_key(KeyType::kEcdsaP256).value();
  std::string pem = private_key_to_pem(key.get());
  for (std::string bad :
       {std::string(""), pem.substr(0, pem.size() / 2), std::string("garbage\n")}) {
    auto r = private_key_from_pem(bad, "/pki/h1/server.key");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::StartsWith("/pki/h1/server.key: not a readable PEM"));
  }
}
