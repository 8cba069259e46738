// ProposalBatch: held proposals go at once when nothing is in flight, else when what is in flight
// commits, when the oldest has waited kMaxHold, or when kMaxBytes are held.
#include <catch2/catch.hpp>

#include "kvserver/server/node/proposal_batch.h"

using kvserver::node::ProposalBatch;
using namespace std::chrono_literals;

namespace {
const ProposalBatch::Clock::time_point t0{std::chrono::seconds(1000)};
}

TEST_CASE("a proposal that finds nothing in flight goes at once", "[batch]") {
  ProposalBatch b;
  CHECK_FALSE(b.due(t0, false));  // empty: nothing to send
  CHECK_FALSE(b.deadline());
  b.add("a", 1, 7, t0);
  CHECK(b.due(t0, false));
}

TEST_CASE("while entries are in flight proposals wait until they commit or kMaxHold", "[batch]") {
  ProposalBatch b;
  b.add("a", 1, 7, t0);
  b.add("b", 2, 8, t0 + 3ms);
  CHECK_FALSE(b.due(t0 + 3ms, true));
  // The oldest one bounds the wait, not the newest.
  REQUIRE(b.deadline());
  CHECK(*b.deadline() == t0 + ProposalBatch::kMaxHold);
  CHECK_FALSE(b.due(t0 + ProposalBatch::kMaxHold - 1us, true));
  CHECK(b.due(t0 + ProposalBatch::kMaxHold, true));
  CHECK(b.due(t0 + 4ms, false));  // what was in flight committed

  auto [entries, ids] = b.take();
  CHECK(entries == std::vector<std::string>{"a", "b"});
  CHECK(ids == std::vector<std::pair<uint64_t, uint64_t>>{{1, 7}, {2, 8}});
  CHECK(b.empty());
  CHECK_FALSE(b.deadline());
  CHECK_FALSE(b.due(t0 + 10s, false));

  // The next batch's clock starts at its own first proposal.
  b.add("c", 3, 7, t0 + 20ms);
  CHECK_FALSE(b.due(t0 + 21ms, true));
  CHECK(*b.deadline() == t0 + 20ms + ProposalBatch::kMaxHold);
}

TEST_CASE("a batch that reaches kMaxBytes goes without waiting", "[batch]") {
  ProposalBatch b;
  b.add(std::string(ProposalBatch::kMaxBytes - 1, 'x'), 1, 7, t0);
  CHECK_FALSE(b.due(t0, true));
  b.add("y", 2, 7, t0);
  CHECK(b.due(t0, true));
  b.take();
  b.add("z", 3, 7, t0);  // take() reset the byte count
  CHECK_FALSE(b.due(t0, true));
}
