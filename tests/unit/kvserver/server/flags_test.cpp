#include <catch2/catch.hpp>
#include "kvserver/server/flags.h"
TEST_CASE("x") { CHECK(kvserver::server::parse_url("https://a:1", "--f").ok()); }
