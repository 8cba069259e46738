#include "provision/yaml_reader.h"

#include <catch2/catch.hpp>

using namespace provision;

TEST_CASE("nearest_word suggests close typos only", "[yaml]") {
  std::vector<std::string> known{"address", "name", "dns", "extra_sans", "ssh", "server"};
  CHECK(nearest_word("adress", known) == "address");
  CHECK(nearest_word("extra_san", known) == "extra_sans");
  CHECK(nearest_word("nmae", known) == "name");
  CHECK(nearest_word("completely_else", known).empty());
}

TEST_CASE("the reader reports file:line:column and keeps going", "[yaml]") {
  YAML::Node doc = YAML::Load("a: 1\nport: seventy\nflag: maybe\nlist: x\n");
  YamlReader r("inv.yaml");
  CHECK(r.check_map(doc, "", {"port", "flag", "list"}));
  CHECK_FALSE(r.integer(doc, "port", "ssh", 1, 65535).has_value());
  CHECK_FALSE(r.boolean(doc, "flag", "ssh").has_value());
  CHECK_FALSE(r.strings(doc, "list", "node").has_value());
  CHECK_FALSE(r.string(doc, "absent", "ssh").has_value());
  REQUIRE(r.errors().size() == 4);
  CHECK(r.errors()[0] ==
        "inv.yaml:1:1: unknown key 'a' at the top level; see inventory.example.yaml "
        "for the fields");
  CHECK(r.errors()[1] ==
        "inv.yaml:2:7: ssh.port is 'seventy'; it must be a whole number from 1 to 65535");
  CHECK(r.errors()[2] == "inv.yaml:3:7: ssh.flag is 'maybe'; write true or false");
  CHECK(r.errors()[3] == "inv.yaml:4:7: node.list must be a list, e.g. [a, b]");
}
