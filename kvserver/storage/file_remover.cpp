#include "kvserver/storage/file_remover.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

#include "kvserver/storage/file_util.h"

namespace storage {

FileRemover::~FileRemover() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FileRemover::remove(std::vector<std::string> paths, std::string dir_to_sync) {
  if (paths.empty()) return;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Job{std::move(paths), std::move(dir_to_sync)});
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  cv_.notify_all();
}

void FileRemover::wait_idle() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void FileRemover::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything handed over is deleted
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    for (const std::string& path : job.paths) {
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail_stop("delete " + path, errno);
    }
    if (!job.dir_to_sync.empty()) sync_dir(job.dir_to_sync);
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace storage
