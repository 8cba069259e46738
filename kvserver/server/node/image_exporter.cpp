#include "kvserver/server/node/image_exporter.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <spdlog/spdlog.h>

#include "kvserver/storage/snapshot_file.h"

namespace kvserver::node {
namespace {

constexpr std::string_view kPrefix = "export-";

ApiError export_failed(const std::string& why) {
  return ApiError{ApiCode::kInternal, "kvserver: building the snapshot image failed: " + why};
}

}  // namespace

ImageExporter::ImageExporter(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kPrefix, 0) == 0 && name.find(".image") != std::string::npos) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

bool ImageExporter::start(uint64_t index, uint64_t term, const std::function<std::string()>& build,
                          Done& done, std::string* error) {
  auto writer = std::make_unique<SnapshotWriter>();
  const std::string path = dir_ + "/" + std::string(kPrefix) + std::to_string(++seq_) + ".image";
  // A scratch file: read back within seconds and unlinked, it needs no fsync.
  if (!writer->start(raft::SnapshotMetadata{index, term, {}}, path, build, error, false)) {
    return false;
  }
  pending_.push_back(Pending{std::move(writer), std::move(done)});
  return true;
}

void ImageExporter::export_now(std::string_view image, Done done) {
  const int fd = ::memfd_create("kvserver-image", MFD_CLOEXEC);
  ImageFile file(fd, 0, image.size());
  for (std::size_t at = 0; fd >= 0 && at < image.size();) {
    const ssize_t n = ::write(fd, image.data() + at, image.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      done(export_failed(std::string("memfd write: ") + std::strerror(errno)));
      return;
    }
    at += static_cast<std::size_t>(n);
  }
  if (fd < 0) {
    done(export_failed(std::string("memfd_create: ") + std::strerror(errno)));
    return;
  }
  done(std::move(file));
}

void ImageExporter::poll() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto finished = it->writer->poll();
    if (!finished) {
      ++it;
      continue;
    }
    Done done = std::move(it->done);
    it = pending_.erase(it);
    if (!finished->ok) {
      spdlog::error("snapshot image for a client failed: {}", finished->error);
      done(export_failed(finished->error));
      continue;
    }
    // Opened, then unlinked at once: the stream owns the only reference, and a client that
    // goes away leaves nothing behind.
    const int fd = ::open(finished->path.c_str(), O_RDONLY | O_CLOEXEC);
    const int open_errno = errno;
    ::unlink(finished->path.c_str());
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      if (fd >= 0) ::close(fd);
      done(export_failed("open " + finished->path + ": " + std::strerror(open_errno)));
      continue;
    }
    const uint64_t offset = storage::snapshot_file_data_offset(finished->metadata);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size < offset + storage::kSnapshotFileTrailerBytes) {
      ::close(fd);
      done(export_failed(finished->path + " is shorter than its header"));
      continue;
    }
    const uint64_t image_bytes = size - offset - storage::kSnapshotFileTrailerBytes;
    spdlog::info(
        "snapshot image at index {} for a client: {} bytes, built in {} ms beside the "
        "loop, which fork() paused {:.1f} ms",
        finished->metadata.index, image_bytes, finished->took.count(),
        finished->fork_pause.count() / 1000.0);
    done(ImageFile(fd, offset, image_bytes));
  }
}

void ImageExporter::cancel_all(const ApiError& why) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& p : pending) {
    p.writer->cancel();
    p.done(why);
  }
}

}  // namespace kvserver::node
