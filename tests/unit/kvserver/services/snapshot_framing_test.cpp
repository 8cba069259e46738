// frame_snapshot / unframe_snapshot: etcdctl's size rule for every image length around the 512-byte
// boundaries, exact round trips, and refusal of damaged files.
#include <catch2/catch.hpp>

#include "kvserver/server/services/services.h"

using kvserver::services::frame_snapshot;
using kvserver::services::unframe_snapshot;

TEST_CASE("Snapshot framing: size % 512 == 32 and an exact round trip for any image length") {
  for (std::size_t n : {0, 1, 100, 503, 504, 505, 511, 512, 513, 1016, 1017, 4096, 100000}) {
    std::string image;
    for (std::size_t i = 0; i < n; ++i)
      image.push_back(static_cast<char>((i * 31 + n) & 0xff));
    std::string file = frame_snapshot(image);
    INFO("image bytes " << n);
    CHECK(file.size() % 512 == 32);
    CHECK(file.size() < n + 8 + 512 + 32);
    auto back = unframe_snapshot(file);
    REQUIRE(back.ok());
    CHECK(back.value() == image);
  }
}

TEST_CASE("Snapshot framing: a damaged or truncated file is refused with the reason") {
  std::string file = frame_snapshot(std::string(3000, 'k'));
  std::string flipped = file;
  flipped[10] ^= 1;
  auto bad_sha = unframe_snapshot(flipped);
  REQUIRE_FALSE(bad_sha.ok());
  CHECK(bad_sha.error().message().find("sha256") != std::string::npos);
  auto truncated = unframe_snapshot(std::string_view(file).substr(0, file.size() - 1));
  REQUIRE_FALSE(truncated.ok());
  CHECK(truncated.error().message().find("512") != std::string::npos);
}
