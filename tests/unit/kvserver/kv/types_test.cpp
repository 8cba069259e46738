#include "kvserver/kv/types.h"

#include <catch2/catch.hpp>

#include "kvserver/kv/codec.h"
#include "kvserver/kv/errors.h"

using namespace kv;

TEST_CASE("prefix_end increments the last byte below 0xff, as etcd's GetPrefixRangeEnd") {
  CHECK(prefix_end("foo") == "fop");
  CHECK(prefix_end(std::string("a\xff", 2)) == "b");
  CHECK(prefix_end(std::string("a\xfe\xff", 3)) == std::string("a\xff", 2));
  CHECK(prefix_end(std::string("\xff\xff", 2)) == std::string(1, '\0'));
  CHECK(prefix_end("") == std::string(1, '\0'));
}

TEST_CASE("in_range follows etcd's range_end conventions") {
  const std::string all(1, '\0');
  CHECK(in_range("a", "a", ""));
  CHECK_FALSE(in_range("ab", "a", ""));
  CHECK(in_range("zzz", "b", all));
  CHECK_FALSE(in_range("a", "b", all));
  CHECK(in_range("b", "b", "c"));
  CHECK(in_range("bzz", "b", "c"));
  CHECK_FALSE(in_range("c", "b", "c"));
  CHECK(in_range("foo/x", "foo/", prefix_end("foo/")));
  CHECK_FALSE(in_range("foo0", "foo/", prefix_end("foo/")));
}

TEST_CASE("etcd_error carries etcd's exact texts and gRPC codes") {
  CHECK(etcd_error(ErrorCode::kCompacted).message() ==
        "etcdserver: mvcc: required revision has been compacted");
  CHECK(etcd_error(ErrorCode::kFutureRevision).message() ==
        "etcdserver: mvcc: required revision is a future revision");
  CHECK(etcd_error(ErrorCode::kLeaseNotFound).message() == "etcdserver: requested lease not found");
  CHECK(std::string(grpc_code_name(ErrorCode::kCompacted)) == "OUT_OF_RANGE");
  CHECK(std::string(grpc_code_name(ErrorCode::kLeaseNotFound)) == "NOT_FOUND");
}

TEST_CASE("codec round-trips varints, signed values and bytes, short input is detected") {
  Writer w;
  const int64_t values[] = {0, 1, -1, 127, 128, -300, INT64_MAX, INT64_MIN};
  for (int64_t v : values)
    w.i64(v);
  w.u64(UINT64_MAX);
  w.bytes(std::string("a\0b", 3));
  std::string data = w.out();
  Reader r(data);
  for (int64_t v : values)
    CHECK(r.i64() == v);
  CHECK(r.u64() == UINT64_MAX);
  CHECK(r.bytes() == std::string("a\0b", 3));
  CHECK(r.ok());
  CHECK(r.at_end());

  Reader shortr(std::string_view(data).substr(0, data.size() - 1));
  for (std::size_t i = 0; i < std::size(values); ++i)
    shortr.i64();
  shortr.u64();
  shortr.bytes();
  CHECK_FALSE(shortr.ok());
}
