// Durable local files: atomic replacement and private directories.
//
// atomic_write() never leaves a half-written file behind: it writes a temp file in the same
// directory, fsyncs it, sets its mode, renames it over the target and fsyncs the directory. A crash
// at any point leaves either the old file or the new one. Modes: keys 0600, certificates 0644,
// directories 0700 (OPERATIONS-FACTS.md).
//
// Thread-safety: free functions; concurrent writers of the same path get last-rename-wins.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "certs/result.h"

namespace certs {

constexpr mode_t kPrivateKeyMode = 0600;
constexpr mode_t kCertificateMode = 0644;
constexpr mode_t kPrivateDirMode = 0700;

Status atomic_write(const std::string& path, const std::string& data, mode_t mode);

// Many atomic writes made durable together. Each file still goes temp -> fsync -> rename -> fsync
// of its directory, but the fsyncs of all files (and then of all directories) run concurrently,
// so the filesystem folds them into one or two journal commits instead of two per file: a PKI of
// 36 files costs about what one file does. Renames happen in the order the files were added, only
// after every temp file is durable; on any error the temp files are removed and nothing is renamed.
class AtomicWriteBatch {
 public:
  void add(std::string path, std::string data, mode_t mode);
  Status commit();
  bool empty() const { return files_.empty(); }

 private:
  struct File {
    std::string path;
    std::string data;
    mode_t mode;
    std::string temp;
  };
  std::vector<File> files_;
};

// Creates `path` and its missing parents with `mode`; checks that it is a writable directory.
Status ensure_dir(const std::string& path, mode_t mode = kPrivateDirMode);

Result<std::string> read_file(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace certs
