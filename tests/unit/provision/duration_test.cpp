#include "provision/duration.h"

#include <catch2/catch.hpp>

using namespace provision;
using namespace std::chrono_literals;

TEST_CASE("durations in the units operators write", "[duration]") {
  CHECK(parse_duration("90d").value() == 90 * 24h);
  CHECK(parse_duration("8760h").value() == 8760h);
  CHECK(parse_duration("10y").value() == 10 * 365 * 24h);
  CHECK(parse_duration("30m").value() == 30min);
  CHECK(parse_duration("5s").value() == 5s);
  CHECK(parse_duration("1500ms").value() == 1500ms);
}

TEST_CASE("bad durations say how to write one", "[duration]") {
  for (const char* bad : {"", "90", "d", "1.5d", "-3d", "0d", "3 d", "3w", "99999999999999y"}) {
    auto r = parse_duration(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains(bad));
  }
  CHECK_THAT(parse_duration("3w").error().message, Catch::Contains("90d, 8760h, 10y"));
}

TEST_CASE("residual time and duration spelling", "[duration]") {
  CHECK(format_residual(0s) == "expired");
  CHECK(format_residual(-5s) == "expired");
  CHECK(format_residual(59min) == "59m");
  CHECK(format_residual(23h) == "23h");
  CHECK(format_residual(364 * 24h + 3h) == "364d");
  CHECK(format_residual(3 * 365 * 24h + 12 * 24h) == "3y 12d");
  CHECK(format_duration(365 * 24h) == "1y");
  CHECK(format_duration(90 * 24h) == "90d");
  CHECK(format_duration(61s) == "61s");
}
