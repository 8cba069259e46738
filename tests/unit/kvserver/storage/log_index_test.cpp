#include "kvserver/storage/log_index.h"

#include <catch2/catch.hpp>

using namespace storage;

namespace {
EntryLocation at_term(raft::Term t) {
  return EntryLocation{t, 0, 0, 0};
}
}  // namespace

TEST_CASE("log index appends, replaces a conflicting suffix and drops a prefix", "[log_index]") {
  LogIndex log;
  log.reset(10, 2);
  CHECK(log.last_index() == 10);
  CHECK(log.term_at(10) == 2);
  for (raft::Index i = 11; i <= 20; ++i)
    REQUIRE(log.append(i, at_term(3)) == nullptr);
  CHECK(log.last_index() == 20);
  REQUIRE(log.append(15, at_term(4)) == nullptr);  // conflict: 15.. replaced
  CHECK(log.last_index() == 15);
  CHECK(log.term_at(14) == 3);
  CHECK(log.term_at(15) == 4);
  CHECK(log.append(17, at_term(4)) != nullptr);  // gap
  CHECK(log.append(16, at_term(3)) != nullptr);  // term goes down
  log.drop_through(12);
  CHECK(log.base_index() == 12);
  CHECK(log.term_at(12) == 3);
  CHECK(log.at(13).term == 3);
}
