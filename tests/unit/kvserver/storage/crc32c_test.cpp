#include "kvserver/storage/crc32c.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

using storage::crc32c::extend;
using storage::crc32c::extend_portable;
using storage::crc32c::value;

// Published test vectors: the check value of the CRC catalogue and RFC 3720 (iSCSI) appendix B.4.
TEST_CASE("crc32c matches the published vectors", "[crc32c]") {
  CHECK(value(std::string("123456789")) == 0xE3069283u);
  CHECK(value(std::string(32, '\0')) == 0x8A9136AAu);
  CHECK(value(std::string(32, '\xff')) == 0x62A8AB43u);
  std::string up(32, '\0'), down(32, '\0');
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<char>(i);
    down[i] = static_cast<char>(31 - i);
  }
  CHECK(value(up) == 0x46DD794Eu);
  CHECK(value(down) == 0x113FDB5Cu);
  CHECK(value(std::string()) == 0u);
}

TEST_CASE("crc32c table and hardware paths agree at every length and alignment", "[crc32c]") {
  std::mt19937 rng(12345);
  std::string buf(4096 + 16, '\0');
  for (char& c : buf)
    c = static_cast<char>(rng());
  for (std::size_t align = 0; align < 8; ++align) {
    for (std::size_t n = 0; n < 300; ++n) {
      REQUIRE(extend(0, buf.data() + align, n) == extend_portable(0, buf.data() + align, n));
    }
    REQUIRE(extend(0, buf.data() + align, 4096) == extend_portable(0, buf.data() + align, 4096));
  }
  // Only meaningful as information: which path ran on this machine.
  INFO("hardware accelerated: " << storage::crc32c::hardware_accelerated());
  CHECK(extend_portable(0, "123456789", 9) == 0xE3069283u);
}

TEST_CASE("crc32c extend over pieces equals the crc of the whole", "[crc32c]") {
  const std::string s = "The quick brown fox jumps over the lazy dog, twice over, for good measure";
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    const std::uint32_t first = value(s.data(), cut);
    REQUIRE(extend(first, s.data() + cut, s.size() - cut) == value(s));
  }
}
