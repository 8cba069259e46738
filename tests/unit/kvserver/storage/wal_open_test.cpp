// Recovery: what Wal::open keeps, cuts and refuses. Damage is made by editing real segment files.
#include <catch2/catch.hpp>
#include <filesystem>
#include <vector>

#include "kvserver/storage/segment.h"
#include "kvserver/storage/wal.h"
#include "tests/unit/kvserver/storage/test_util.h"

using namespace storage;
using storage_test::entry;
using storage_test::payload_for;
using storage_test::slurp;
using storage_test::spit;
using storage_test::TempDir;

namespace {

// Record sizes from the documented formats (record.h, coding.h, wal_payloads.h), computed here
// independently of the code under test: 9-byte frame header + payload.
constexpr std::size_t kFrame = 9;
// seq, HardState, SnapshotMetadata with an empty ConfState, compacted index/term, prev index/term.
constexpr std::size_t kHeaderRecord = kFrame + 8 + 24 + (8 + 8 + 4 + 4) + 16 + 16;
std::size_t entry_record(std::size_t data) {
  return kFrame + 8 + 8 + 1 + 4 + data;
}
constexpr std::size_t kHardStateRecord = kFrame + 24;

struct Rec {
  std::size_t begin, end;
  raft::Index entry_index;  // 0 for a hard state record
  raft::HardState hs;       // for hard state records
};

// Writes batches k = 1..n, each {entry k (term k), hard state {k, 1, k-1}}, and returns the
// records' extents as the format says they must be laid out.
std::vector<Rec> write_batches(const WalOptions& o, int n) {
  auto w = Wal::open(o);
  REQUIRE(w);
  std::vector<Rec> recs;
  std::size_t pos = kHeaderRecord;
  for (int k = 1; k <= n; ++k) {
    const raft::Entry e = entry(k, k, payload_for(k, 10 + k));
    const raft::HardState hs{static_cast<raft::Term>(k), 1, static_cast<raft::Index>(k - 1)};
    (*w)->save(hs, std::vector<raft::Entry>{e});
    recs.push_back({pos, pos + entry_record(e.data.size()), e.index, {}});
    pos = recs.back().end;
    recs.push_back({pos, pos + kHardStateRecord, 0, hs});
    pos = recs.back().end;
  }
  return recs;
}

std::string seg0(const WalOptions& o) {
  return o.dir + "/" + segment_file_name(0);
}

}  // namespace

TEST_CASE("cutting the log at every byte of its last records keeps exactly the whole ones",
          "[wal][recovery]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 65536, true};
  const int kBatches = 6;
  const std::vector<Rec> recs = write_batches(o, kBatches);
  const std::string original = slurp(seg0(o));
  REQUIRE(original.size() == 65536);
  // The format check: the data ends exactly where the documented sizes say, zeros after.
  REQUIRE(original.substr(recs.back().begin, kFrame) != std::string(kFrame, '\0'));
  REQUIRE(original.find_first_not_of('\0', recs.back().end) == std::string::npos);

  const std::size_t from = recs[recs.size() - 6].begin;  // the last three batches
  for (std::size_t cut = from; cut <= recs.back().end; ++cut) {
    for (bool zero_tail : {false, true}) {
      std::string bytes = original.substr(0, cut);
      if (zero_tail) bytes.resize(original.size(), '\0');  // torn write into preallocated space
      spit(seg0(o), bytes);

      // A record is whole when its bytes survived; with a zero tail a cut that only loses
      // trailing zero bytes of a record leaves it whole, which is right.
      raft::Index want_last = 0;
      raft::HardState want_hs;
      std::size_t durable_end = kHeaderRecord;
      for (const Rec& r : recs) {
        if (bytes.size() < r.end ||
            bytes.compare(r.begin, r.end - r.begin, original, r.begin, r.end - r.begin) != 0) {
          break;
        }
        if (r.entry_index != 0) want_last = r.entry_index;
        if (r.entry_index == 0) want_hs = r.hs;
        durable_end = r.end;
      }
      const bool torn = bytes.find_first_not_of('\0', durable_end) != std::string::npos;
      INFO("cut at byte " << cut << (zero_tail ? " + zeros" : ""));
      auto w = Wal::open(o);
      REQUIRE(w);
      REQUIRE((*w)->last_index() == want_last);
      REQUIRE((*w)->hard_state() == want_hs);
      const auto got = (*w)->entries(1, want_last + 1);
      for (raft::Index i = 1; i <= want_last; ++i) {
        REQUIRE(got[i - 1] == entry(i, i, payload_for(i, 10 + i)));
      }
      REQUIRE((*w)->repaired_tail().empty() == !torn);
      // The next write lands right after the durable log and is found again.
      const raft::Entry next = entry(want_last + 1, 50, "after-recovery");
      (*w)->save({}, std::vector<raft::Entry>{next});
      w = Wal::open(o);
      REQUIRE(w);
      REQUIRE((*w)->last_index() == want_last + 1);
      REQUIRE((*w)->entries(want_last + 1, want_last + 2).front() == next);
    }
  }
}

TEST_CASE("a flipped bit in the last record is a torn tail but in any other record it stops",
          "[wal][recovery]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 65536, true};
  std::vector<Rec> recs = write_batches(o, 4);
  recs.insert(recs.begin(), Rec{0, kHeaderRecord, 0, {}});  // the segment header is a record too
  const std::string original = slurp(seg0(o));

  for (std::size_t r = 0; r < recs.size(); ++r) {
    const bool last = r + 1 == recs.size();
    for (std::size_t byte = recs[r].begin; byte < recs[r].end; ++byte) {
      std::string bytes = original;
      bytes[byte] = static_cast<char>(bytes[byte] ^ (1 << (byte % 8)));
      spit(seg0(o), bytes);
      INFO("record " << r << ", flipped bit " << byte % 8 << " of byte " << byte);
      auto w = Wal::open(o);
      const std::string at = "byte offset " + std::to_string(recs[r].begin);
      if (last) {
        REQUIRE(w);
        REQUIRE((*w)->last_index() == 4);
        REQUIRE((*w)->hard_state() == raft::HardState{3, 1, 2});
        REQUIRE((*w)->repaired_tail().find(at) != std::string::npos);
      } else {
        REQUIRE_FALSE(w);
        const std::string& msg = w.error().message;
        REQUIRE(msg.find(seg0(o)) != std::string::npos);
        REQUIRE(msg.find(at + ":") != std::string::npos);
        REQUIRE(msg.find("damaged in the middle") != std::string::npos);
      }
    }
  }
  // A refused open changed nothing: restoring the bytes restores the whole log.
  spit(seg0(o), original);
  auto w = Wal::open(o);
  REQUIRE(w);
  CHECK((*w)->last_index() == 4);
}

TEST_CASE("an impossible length or a zeroed header in the middle is named, not skipped",
          "[wal][recovery]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 65536, true};
  const std::vector<Rec> recs = write_batches(o, 3);
  const std::string original = slurp(seg0(o));

  std::string bytes = original;
  bytes[recs[1].begin + 7] = static_cast<char>(0xF0);  // length's top byte: far beyond any record
  spit(seg0(o), bytes);
  auto w = Wal::open(o);
  REQUIRE_FALSE(w);
  CHECK(w.error().message.find("impossible record length") != std::string::npos);
  CHECK(w.error().message.find("byte offset " + std::to_string(recs[1].begin)) !=
        std::string::npos);

  bytes = original;
  for (std::size_t i = recs[2].begin; i < recs[2].begin + kFrame; ++i)
    bytes[i] = 0;
  spit(seg0(o), bytes);
  w = Wal::open(o);
  REQUIRE_FALSE(w);
  CHECK(w.error().message.find("zeroed record header") != std::string::npos);
}

TEST_CASE("damage across segments: mid-log stops, a torn new segment is dropped",
          "[wal][recovery]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 4096, true};
  {
    auto w = Wal::open(o);
    REQUIRE(w);
    for (raft::Index i = 1; i <= 40; ++i) {
      (*w)->save({1, 1, 0}, std::vector<raft::Entry>{entry(i, 1, payload_for(i, 400))});
    }
    REQUIRE((*w)->segment_count() >= 3);
  }
  std::vector<std::string> files;
  for (const auto& f : std::filesystem::directory_iterator(o.dir))
    files.push_back(f.path());
  std::sort(files.begin(), files.end());
  const std::string first = slurp(files[0]);
  const std::string last = slurp(files.back());

  SECTION("a bad record in an earlier segment is fatal, naming that segment") {
    std::string bytes = first;
    bytes[kHeaderRecord + 20] ^= 0x01;
    spit(files[0], bytes);
    auto w = Wal::open(o);
    REQUIRE_FALSE(w);
    CHECK(w.error().message.find(files[0] + " at byte offset " + std::to_string(kHeaderRecord)) !=
          std::string::npos);
  }
  SECTION("a torn header of the newest segment drops that segment and keeps the rest") {
    spit(files.back(), last.substr(0, 40));
    std::size_t entries_before_last = 0;
    {
      // What the earlier segments hold: open a copy without the last segment.
      TempDir t2;
      std::filesystem::create_directory(t2.sub("wal"));
      for (std::size_t i = 0; i + 1 < files.size(); ++i) {
        std::filesystem::copy(files[i], t2.sub("wal"));
      }
      auto w2 = Wal::open({t2.sub("wal"), 4096, true});
      REQUIRE(w2);
      entries_before_last = (*w2)->last_index();
    }
    auto w = Wal::open(o);
    REQUIRE(w);
    CHECK((*w)->segment_count() == files.size() - 1);
    CHECK((*w)->last_index() == entries_before_last);
    CHECK_FALSE(std::filesystem::exists(files.back()));
  }
  SECTION("a missing segment in the middle is fatal") {
    std::filesystem::remove(files[1]);
    auto w = Wal::open(o);
    REQUIRE_FALSE(w);
    CHECK(w.error().message.find("missing") != std::string::npos);
  }
  SECTION("dropping the oldest segment without a snapshot is detected") {
    std::filesystem::remove(files[0]);
    auto w = Wal::open(o);
    REQUIRE_FALSE(w);
    CHECK(w.error().message.find("missing entries 1..") != std::string::npos);
  }
}

TEST_CASE("a WAL whose very first header was torn starts empty", "[wal][recovery]") {
  TempDir t;
  const WalOptions o{t.sub("wal"), 65536, true};
  { REQUIRE(Wal::open(o)); }
  spit(seg0(o), slurp(seg0(o)).substr(0, 30));
  auto w = Wal::open(o);
  REQUIRE(w);
  CHECK((*w)->last_index() == 0);
  (*w)->save({1, 1, 0}, std::vector<raft::Entry>{entry(1, 1, "x")});
  w = Wal::open(o);
  REQUIRE(w);
  CHECK((*w)->last_index() == 1);
}
