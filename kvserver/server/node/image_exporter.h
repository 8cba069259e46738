// ImageExporter: the state machine image that Maintenance.Snapshot (`etcdctl snapshot save`)
// streams, built beside the node loop.
//
// Why: serialising the store on the gRPC thread, under the store's lock, held every write for as
// long: 75 ms at 100k keys (Put max latency 6 -> 81 ms during one `snapshot save`), about a second
// at a million. So the image is built like a periodic snapshot (SnapshotWriter: a fork()ed,
// SCHED_IDLE child serialises a copy-on-write view of the process), into a file of its own that is
// handed over instead of adopted:
//   start()   forks the child; the caller holds KvStore::freeze() across it (snapshot_writer.h).
//   poll()    (the loop, every tick) opens each finished file, unlinks it and calls its `done` with
//             an ImageFile: the stream then reads it a chunk at a time, the store is not held.
// Several exports may run at once, each its own child. A failed fork leaves the caller to build
// the image itself and hand it over with export_now() (an unnamed memfd, no disk).
// Files are `export-<n>.image` in the data dir; a crash may leave one, which the next start
// removes.
//
// Thread-safety: none; the node loop's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kvserver/server/node/snapshot_writer.h"
#include "kvserver/server/node_api.h"

namespace kvserver::node {

class ImageExporter {
 public:
  using Done = NodeApi::Done<ImageFile>;

  // Removes the files a previous run of this member left in `dir`.
  explicit ImageExporter(std::string dir);
  ~ImageExporter() { cancel_all(ApiError{ApiCode::kUnavailable, "etcdserver: server stopped"}); }
  ImageExporter(const ImageExporter&) = delete;
  ImageExporter& operator=(const ImageExporter&) = delete;

  // Forks a child that writes build()'s image. True: `done` was taken and runs from a later
  // poll(). False: the fork failed, `error` says why and `done` is left with the caller.
  bool start(uint64_t index, uint64_t term, const std::function<std::string()>& build, Done& done,
             std::string* error);
  // Hands over an image built by the caller, at once.
  static void export_now(std::string_view image, Done done);
  void poll();
  // Kills the children and fails their callers with `why`.
  void cancel_all(const ApiError& why);

 private:
  struct Pending {
    std::unique_ptr<SnapshotWriter> writer;
    Done done;
  };
  const std::string dir_;
  uint64_t seq_ = 0;
  std::vector<Pending> pending_;
};

}  // namespace kvserver::node
