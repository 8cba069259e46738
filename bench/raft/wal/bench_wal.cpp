// bench_wal: WAL appends/s with fsync, next to the physical limits of the same disk measured in the
// same run: the raw fdatasync rate (one small write + fdatasync, as often as possible) and the raw
// sequential write bandwidth (1 MiB writes into a preallocated file; fdatasync every 64 MiB, and
// again with fdatasync after every 1 MiB, the cadence of a 256 x 4 KiB batch).
//
// Usage: bench_wal [--dir DIR] [--seconds S]   (DIR: where to write, default $TMPDIR or /tmp;
// put it on the disk the data dir will live on). Prints figures; asserts nothing about timing.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "kvserver/storage/wal.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_wal: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

int open_preallocated(const std::string& path, off_t bytes) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) die("open " + path);
  if (::fallocate(fd, 0, 0, bytes) != 0) die("fallocate " + path);
  if (::fsync(fd) != 0) die("fsync " + path);
  return fd;
}

// Small write + fdatasync, repeated: how many durable commits per second the disk allows. The
// blocks are written once beforehand, so each fdatasync flushes data only (no allocation or extent
// conversion to journal): the floor any log pays per commit.
double raw_fdatasync_per_s(const std::string& dir, double secs) {
  const std::string path = dir + "/raw-sync";
  const off_t cap = 16 << 20;
  const int fd = open_preallocated(path, cap);
  std::string block(4096, 'r');
  for (off_t off = 0; off < cap; off += 4096) {
    if (::pwrite(fd, block.data(), block.size(), off) != static_cast<ssize_t>(block.size())) {
      die("pwrite");
    }
  }
  if (::fdatasync(fd) != 0) die("fdatasync");
  off_t off = 0;
  long n = 0;
  const auto t0 = Clock::now();
  while (seconds_since(t0) < secs) {
    if (::pwrite(fd, block.data(), block.size(), off) != static_cast<ssize_t>(block.size())) {
      die("pwrite");
    }
    if (::fdatasync(fd) != 0) die("fdatasync");
    off = (off + 4096) % cap;
    ++n;
  }
  const double rate = n / seconds_since(t0);
  ::close(fd);
  return rate;
}

// Sequential writes of `chunk` bytes, fdatasync every `sync_every` bytes: MB/s (1 MB = 1e6 B).
double raw_write_mb_per_s(const std::string& path, std::size_t chunk_bytes, std::size_t sync_every,
                          double secs) {
  const off_t cap = 512l << 20;
  const int fd = open_preallocated(path, cap);
  std::string chunk(chunk_bytes, 'w');
  off_t off = 0;
  std::size_t since_sync = 0;
  double bytes = 0;
  const auto t0 = Clock::now();
  while (seconds_since(t0) < secs) {
    if (off + static_cast<off_t>(chunk.size()) > cap) off = 0;  // wrap: still written blocks
    if (::pwrite(fd, chunk.data(), chunk.size(), off) != static_cast<ssize_t>(chunk.size())) {
      die("pwrite");
    }
    off += static_cast<off_t>(chunk.size());
    bytes += static_cast<double>(chunk.size());
    since_sync += chunk.size();
    if (since_sync >= sync_every) {
      if (::fdatasync(fd) != 0) die("fdatasync");
      since_sync = 0;
    }
  }
  if (::fdatasync(fd) != 0) die("fdatasync");
  const double mbps = bytes / 1e6 / seconds_since(t0);
  ::close(fd);
  return mbps;
}

struct WalFigures {
  double batches_per_s = 0;
  double entries_per_s = 0;
  double mb_per_s = 0;  // entry data bytes only
};

WalFigures wal_run(const std::string& wal_dir, std::size_t entry_bytes, std::size_t batch,
                   double secs) {
  auto wal = storage::Wal::open({wal_dir, 64u << 20, true});
  if (!wal) {
    std::fprintf(stderr, "bench_wal: %s\n", wal.error().message.c_str());
    std::exit(1);
  }
  std::vector<raft::Entry> entries(batch);
  for (std::size_t i = 0; i < batch; ++i)
    entries[i].data.assign(entry_bytes, static_cast<char>('a' + i % 26));
  raft::Index next = 1;
  long batches = 0;
  const auto t0 = Clock::now();
  while (seconds_since(t0) < secs) {
    for (auto& e : entries) {
      e.index = next++;
      e.term = 1;
    }
    (*wal)->save({1, 1, next - 1}, entries);
    ++batches;
  }
  const double t = seconds_since(t0);
  wal->reset();
  WalFigures f;
  f.batches_per_s = batches / t;
  f.entries_per_s = f.batches_per_s * static_cast<double>(batch);
  f.mb_per_s = f.entries_per_s * static_cast<double>(entry_bytes) / 1e6;
  return f;
}

// Writes `total_mb` MB of 4 KiB entries, closes the WAL, and times Wal::open (the recovery scan
// a restarting server does): returns {entries recovered, seconds}.
std::pair<raft::Index, double> recovery_run(const std::string& dir, std::size_t total_mb) {
  const std::string wal_dir = dir + "/wal-recovery";
  {
    auto wal = storage::Wal::open({wal_dir, 64u << 20, true});
    if (!wal) std::exit(1);
    std::vector<raft::Entry> entries(1024);
    raft::Index next = 1;
    for (std::size_t written = 0; written < total_mb * 1000000; written += 1024 * 4096) {
      for (auto& e : entries) {
        e.index = next++;
        e.term = 1;
        e.data.assign(4096, 'r');
      }
      (*wal)->save({1, 1, next - 1}, entries);
    }
  }
  const auto t0 = Clock::now();
  auto wal = storage::Wal::open({wal_dir, 64u << 20, true});
  const double t = seconds_since(t0);
  if (!wal) std::exit(1);
  const raft::Index n = (*wal)->last_index();
  return {n, t};
}

}  // namespace

int main(int argc, char** argv) {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp != nullptr ? tmp : "/tmp";
  double secs = 2.0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) {
      base = argv[++i];
    } else if (a == "--seconds" && i + 1 < argc) {
      secs = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: bench_wal [--dir DIR] [--seconds S]\n");
      return 2;
    }
  }
  std::string dir = base + "/bench-wal-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) die("mkdtemp in " + base);

  std::printf("bench_wal in %s, %.1f s per figure\n\n", dir.c_str(), secs);
  const double sync_rate = raw_fdatasync_per_s(dir, secs);
  const double seq_before = raw_write_mb_per_s(dir + "/raw-seq-first", 1 << 20, 64u << 20, secs);

  // Each row also measures the raw disk writing the same bytes per fdatasync just before the WAL
  // run ("raw same"), so a machine whose load changes during the run still gets a fair ratio.
  struct Row {
    std::size_t entry_bytes, batch;
    double raw_same;
    WalFigures wal;
  };
  std::vector<Row> rows;
  for (std::size_t entry_bytes : {256, 4096}) {
    for (std::size_t batch : {1, 16, 256})
      rows.push_back(Row{entry_bytes, batch, 0, {}});
  }
  rows.push_back(Row{4096, 1024, 0, {}});
  rows.push_back(Row{4096, 4096, 0, {}});
  // Nothing is deleted until the end: on a filesystem mounted with `discard`, freeing blocks
  // slows down whatever runs next, which would skew the row after it.
  for (Row& row : rows) {
    const std::size_t batch_bytes = row.entry_bytes * row.batch;
    const std::string name = std::to_string(row.entry_bytes) + "x" + std::to_string(row.batch);
    row.raw_same = raw_write_mb_per_s(dir + "/raw-" + name, batch_bytes, batch_bytes, secs);
    row.wal = wal_run(dir + "/wal-" + name, row.entry_bytes, row.batch, secs);
  }
  const auto [recovered, recovery_s] = recovery_run(dir, 256);
  const double seq_after = raw_write_mb_per_s(dir + "/raw-seq-last", 1 << 20, 64u << 20, secs);
  // The bandwidth the WAL is judged against: the better of the two raw measurements.
  const double seq_mbps = std::max(seq_before, seq_after);

  std::printf("physical limits (same disk, same run)\n");
  std::printf("  raw fdatasync rate (4 KiB overwrite + fdatasync)          %8.0f /s\n", sync_rate);
  std::printf(
      "  raw sequential write (1 MiB writes, fdatasync / 64 MiB)   %8.1f MB/s"
      " (first %.1f, last %.1f)\n\n",
      seq_mbps, seq_before, seq_after);
  std::printf("%-6s %5s %10s %11s %8s %9s %9s %9s %9s\n", "entry", "batch", "batches/s",
              "entries/s", "MB/s", "raw same", "vs same", "vs fsync", "vs seq");
  for (const Row& row : rows) {
    const WalFigures& f = row.wal;
    std::printf("%-6zu %5zu %10.0f %11.0f %8.2f %9.2f %8.0f%% %8.0f%% %8.0f%%\n", row.entry_bytes,
                row.batch, f.batches_per_s, f.entries_per_s, f.mb_per_s, row.raw_same,
                100.0 * f.mb_per_s / row.raw_same, 100.0 * f.batches_per_s / sync_rate,
                100.0 * f.mb_per_s / seq_mbps);
  }
  std::printf(
      "\nrecovery: Wal::open of %llu entries of 4 KiB (%.0f MB) took %.2f s (%.0f MB/s, page cache "
      "warm: the parse + CRC cost)\n",
      static_cast<unsigned long long>(recovered), recovered * 4096 / 1e6, recovery_s,
      recovered * 4096 / 1e6 / recovery_s);
  std::printf(
      "MB/s counts entry data only. 'raw same': raw writes of batch-sized chunks, one fdatasync\n"
      "each, measured just before the row. 'vs fsync': WAL batches/s over raw fdatasyncs/s (the\n"
      "per-commit overhead). 'vs seq': over raw sequential bandwidth (target >= 80%% for large\n"
      "batches). A shared or virtual disk drifts: compare rows run at the same time.\n");
  std::filesystem::remove_all(dir);
  return 0;
}
