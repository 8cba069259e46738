// Leases: the table on its own and through KvStore (attach, revoke deleting keys, TTL queries).
#include "kvserver/kv/lease_table.h"

#include <catch2/catch.hpp>

#include "kvserver/kv/kv_store.h"
#include "tests/unit/kvserver/kv/kv_test_util.h"

using namespace kv;
using namespace kv::test;

TEST_CASE("grant picks free ids deterministically, refuses a taken id and a huge TTL") {
  LeaseTable t;
  CHECK(t.grant(0, 10, 0).value() == 1);
  CHECK(t.grant(2, 10, 0).value() == 2);
  CHECK(t.grant(0, 10, 0).value() == 3);  // skips 2, which is taken
  CHECK(t.grant(2, 10, 0).error().code() == ErrorCode::kLeaseExists);
  CHECK(t.grant(0, kMaxLeaseTtlS + 1, 0).error().code() == ErrorCode::kLeaseTtlTooLarge);
  CHECK(t.ids() == std::vector<int64_t>{1, 2, 3});
}

TEST_CASE("expiry follows the injected clock, keep-alive and promote restart the TTL") {
  LeaseTable t;
  REQUIRE(t.grant(1, 10, 1000).ok());  // expires at 11000
  REQUIRE(t.grant(2, 5, 1000).ok());   // expires at 6000
  CHECK(t.expired(5999, 10).empty());
  CHECK(t.expired(6000, 10) == std::vector<int64_t>{2});
  CHECK(t.expired(11000, 10) == std::vector<int64_t>{1, 2});
  CHECK(t.expired(11000, 1).size() == 1);
  CHECK(t.remaining_s(1, 2500).value() == 8);
  CHECK(t.remaining_s(1, 20000).value() == 0);
  CHECK(t.keep_alive(2, 5000).value() == 5);  // now expires at 10000
  CHECK(t.expired(9999, 10).empty());
  t.promote(50000);
  CHECK(t.expired(54999, 10).empty());
  CHECK(t.expired(55000, 10) == std::vector<int64_t>{2});
  CHECK(t.keep_alive(9, 0).error().message() == "etcdserver: requested lease not found");
}

TEST_CASE("revoking a lease deletes every attached key at one revision") {
  KvStore s;
  int64_t lease = s.lease_grant(0, 30, 0).value().id;
  put(s, "a", "1", lease);  // 2
  put(s, "b", "1", lease);  // 3
  put(s, "c", "1");         // 4
  put(s, "d", "1", lease);  // 5
  put(s, "d", "2");         // 6: d leaves the lease
  auto ttl = s.lease_time_to_live(lease, true, 0).value();
  CHECK(ttl.keys == std::vector<std::string>{"a", "b"});
  CHECK(ttl.granted_ttl == 30);
  CHECK(ttl.ttl == 30);

  auto rev = s.lease_revoke(lease).value();
  CHECK(rev == 7);
  CHECK(keys_of(get(s, std::string(1, '\0'), std::string(1, '\0'))) ==
        std::vector<std::string>{"c", "d"});
  CHECK(get(s, "a", "", 6).kvs.size() == 1);  // both were alive just before
  CHECK(get(s, "b", "", 6).kvs.size() == 1);
  CHECK(s.lease_ids().empty());
  auto again = s.lease_revoke(lease);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code() == ErrorCode::kLeaseNotFound);
  CHECK(s.lease_time_to_live(lease, false, 0).error().code() == ErrorCode::kLeaseNotFound);
}

TEST_CASE("revoking a lease without keys writes no revision, deleting a key detaches it") {
  KvStore s;
  int64_t lease = s.lease_grant(5, 30, 0).value().id;
  put(s, "a", "1", lease);
  del(s, "a");
  CHECK(s.lease_time_to_live(lease, true, 0).value().keys.empty());
  int64_t before = s.revision();
  CHECK(s.lease_revoke(lease).value() == before);
}

TEST_CASE("time_to_live counts down with the injected clock and keep-alive refreshes it") {
  KvStore s;
  int64_t lease = s.lease_grant(0, 10, 0).value().id;
  CHECK(s.lease_time_to_live(lease, false, 4000).value().ttl == 6);
  CHECK(s.expired_leases(10000, 100) == std::vector<int64_t>{lease});
  CHECK(s.lease_keep_alive(lease, 9000).value() == 10);
  CHECK(s.lease_time_to_live(lease, false, 9000).value().ttl == 10);
  CHECK(s.expired_leases(10000, 100).empty());
}

TEST_CASE("grants below the configured minimum TTL get the minimum, as etcd's lessor does") {
  KvStore::Options opts;
  opts.min_lease_ttl_s = 2;
  KvStore s(opts);
  auto g = s.lease_grant(0, 1, 0).value();
  CHECK(g.ttl == 2);
  CHECK(s.lease_time_to_live(g.id, false, 0).value().granted_ttl == 2);
  CHECK(s.lease_grant(0, 30, 0).value().ttl == 30);
}
