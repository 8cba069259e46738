#include "kvserver/storage/record.h"

#include <catch2/catch.hpp>
#include <string>

#include "kvserver/storage/crc32c.h"

using namespace storage;
using Kind = ParsedRecord::Kind;

TEST_CASE("records round-trip back to back", "[record]") {
  std::string buf;
  append_record(buf, RecordType::kEntry, "hello");
  append_record(buf, RecordType::kHardState, "");
  append_record(buf, RecordType::kSnapshot, std::string(1000, 'z'));
  CHECK(buf.size() == 3 * kRecordHeaderBytes + 5 + 1000);
  // The header layout is the documented one: crc32c over length+type+payload, then length, type.
  CHECK(static_cast<unsigned char>(buf[8]) == static_cast<unsigned>(RecordType::kEntry));
  CHECK(buf[4] == 5);
  const std::uint32_t crc = crc32c::value(buf.data() + 4, 5 + 5);
  CHECK(static_cast<unsigned char>(buf[0]) == (crc & 0xFF));

  ParsedRecord r = parse_record(buf, 0);
  REQUIRE(r.kind == Kind::kOk);
  CHECK(r.type == RecordType::kEntry);
  CHECK(r.payload == "hello");
  r = parse_record(buf, r.end);
  REQUIRE(r.kind == Kind::kOk);
  CHECK(r.type == RecordType::kHardState);
  CHECK(r.payload.empty());
  r = parse_record(buf, r.end);
  REQUIRE(r.kind == Kind::kOk);
  CHECK(r.payload == std::string(1000, 'z'));
  CHECK(parse_record(buf, r.end).kind == Kind::kEnd);
}

TEST_CASE("zeros after the data are the end but a zeroed header before data is damage",
          "[record]") {
  std::string buf;
  append_record(buf, RecordType::kEntry, "abc");
  const std::size_t end = buf.size();
  buf.append(4096, '\0');
  CHECK(parse_record(buf, end).kind == Kind::kEnd);

  std::string holed(kRecordHeaderBytes + 3, '\0');
  holed += buf.substr(0, end);
  const ParsedRecord r = parse_record(holed, 0);
  CHECK(r.kind == Kind::kDamaged);
  CHECK(std::string(r.reason).find("zeroed") != std::string::npos);
}

TEST_CASE("every kind of damage is reported, never read as a record", "[record]") {
  std::string good;
  append_record(good, RecordType::kEntry, "payload bytes");
  for (std::size_t n = 1; n < good.size(); ++n) {
    REQUIRE(parse_record(good.substr(0, n), 0).kind == Kind::kDamaged);  // cut short
  }
  for (std::size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      REQUIRE(parse_record(bad, 0).kind == Kind::kDamaged);
    }
  }
  std::string huge = good;
  huge[7] = 0x7f;  // length > kMaxPayloadBytes
  CHECK(std::string(parse_record(huge, 0).reason) == "impossible record length");
}

TEST_CASE("any_valid_record_from finds a record at any offset, and nothing in garbage",
          "[record]") {
  std::string buf(37, '\x5a');
  append_record(buf, RecordType::kHardState, "x");
  buf.append(100, '\0');
  CHECK(any_valid_record_from(buf, 0));
  CHECK(any_valid_record_from(buf, 37));
  CHECK_FALSE(any_valid_record_from(buf, 38));
  CHECK_FALSE(any_valid_record_from(std::string(5000, '\0'), 0));
}
