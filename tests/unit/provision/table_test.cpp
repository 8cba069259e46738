#include "provision/table.h"

#include <catch2/catch.hpp>

using namespace provision;

TEST_CASE("tables pad columns to the widest cell and trim line ends", "[table]") {
  std::string t = render_table({"NAME", "STATUS"}, {{"h1/server", "ok"}, {"ca", "renew soon"}});
  CHECK(t ==
        "NAME        STATUS\n"
        "h1/server   ok\n"
        "ca          renew soon\n");
}

TEST_CASE("json strings are escaped", "[table]") {
  CHECK(json_string("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\u0001\"");
}
