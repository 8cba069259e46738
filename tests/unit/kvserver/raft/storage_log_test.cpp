// memory_storage.h, log.h, progress.h: the pieces under the paper tests.
#include <catch2/catch.hpp>

#include "kvserver/raft/log.h"
#include "kvserver/raft/memory_storage.h"
#include "kvserver/raft/progress.h"

using namespace raft;

namespace {

std::vector<Entry> ents(Index first, std::vector<Term> terms) {
  std::vector<Entry> out;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    out.push_back(Entry{terms[i], first + i, EntryType::kNormal, "d" + std::to_string(first + i)});
  }
  return out;
}

}  // namespace

TEST_CASE("MemoryStorage: append truncates, compact keeps the snapshot's term, bounds are errors",
          "[raft][storage]") {
  MemoryStorage s;
  s.append(ents(1, {1, 1, 2, 2}));
  s.append(ents(3, {3}));  // replaces 3 and 4
  CHECK(s.last_index() == 3);
  CHECK(s.term(3).value == 3);
  s.create_snapshot(2, ConfState{{1}, {}}, "img");
  s.compact(2);
  CHECK(s.first_index() == 3);
  CHECK(s.term(2).value == 1);  // the term just before the first entry stays readable
  CHECK(s.term(1).status == Status::kCompacted);
  CHECK(s.entries(2, 4, UINT64_MAX).status == Status::kCompacted);
  CHECK(s.entries(3, 5, UINT64_MAX).status == Status::kUnavailable);
  CHECK(s.snapshot().value.metadata.index == 2);
  CHECK(s.initial_state().conf_state.voters == std::vector<NodeId>{1});
}

TEST_CASE("MemoryStorage: entries() honours max_bytes but returns at least one entry",
          "[raft][storage]") {
  MemoryStorage s;
  s.append(ents(1, {1, 1, 1, 1}));
  CHECK(s.entries(1, 5, 0).value.size() == 1);
  CHECK(s.entries(1, 5, 2 * entry_size(ents(1, {1})[0])).value.size() == 2);
  CHECK(s.entries(1, 5, UINT64_MAX).value.size() == 4);
}

TEST_CASE("RaftLog: unstable entries overlay the storage until reported stable", "[raft][log]") {
  MemoryStorage s;
  s.append(ents(1, {1, 1, 1}));
  RaftLog log(&s);
  log.append(ents(3, {2, 2}));  // replaces stored index 3 logically
  CHECK(log.last_index() == 4);
  CHECK(log.term(3).value == 2);
  CHECK(log.unstable_entries().size() == 2);
  auto got = log.slice(1, 5, UINT64_MAX);
  REQUIRE(got.ok());
  CHECK(got.value.size() == 4);
  CHECK(got.value[2].term == 2);
  s.append(log.unstable_entries());
  log.stable_to(4, 2);
  CHECK(log.unstable_entries().empty());
  CHECK(log.stable_last_index() == 4);
  // A stale report (term no longer matches) is ignored.
  log.append(ents(5, {3}));
  log.stable_to(5, 2);
  CHECK(log.unstable_entries().size() == 1);
}

TEST_CASE("RaftLog: find_conflict_by_term walks back over higher terms", "[raft][log]") {
  MemoryStorage s;
  s.append(ents(1, {1, 2, 2, 5, 5, 5}));
  RaftLog log(&s);
  CHECK(log.find_conflict_by_term(6, 4) == 3);
  CHECK(log.find_conflict_by_term(6, 5) == 6);
  CHECK(log.find_conflict_by_term(6, 1) == 1);
  CHECK(log.find_conflict_by_term(6, 0) == 0);
}

TEST_CASE("Progress: the in-flight cap pauses replication until acks free it", "[raft][progress]") {
  Progress p(2);
  p.maybe_update(5);
  p.become_replicate();
  p.sent_entries(7, true);
  p.sent_entries(9, true);
  CHECK(p.is_paused());
  CHECK(p.next == 10);
  p.inflights.free_le(7);
  CHECK_FALSE(p.is_paused());
  // A stale reject (for an index already matched) changes nothing.
  p.maybe_update(7);
  CHECK_FALSE(p.maybe_decrease_to(6, 0));
  CHECK(p.maybe_decrease_to(9, 8));
  CHECK(p.next == 8);
}

TEST_CASE("ProgressTracker: the commit index is the majority's match", "[raft][progress]") {
  ProgressTracker t(8);
  t.reset(ConfState{{1, 2, 3, 4, 5}, {6}}, 1);
  Index matches[] = {9, 3, 7, 1, 8};
  for (NodeId id = 1; id <= 5; ++id)
    t.progress(id)->match = matches[id - 1];
  t.progress(6)->match = 100;  // learners do not count
  CHECK(t.committed_index() == 7);
  CHECK(t.quorum() == 3);
}
