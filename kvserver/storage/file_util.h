// The few POSIX file operations the WAL and snapshot files need, with the failure policy in one
// place: a failed write or fsync of durable state is fail-stop (abort with the file named). After a
// failed fsync the kernel may have dropped the dirty pages and cleared the error ("fsyncgate",
// PostgreSQL 2018), so retrying could report success for data that is gone; stopping and recovering
// from what is on disk is the only honest answer.
//
// Reads return values (certs::Result) so open/recovery can report a damaged data dir as an Error.
//
// Thread-safety: free functions; their one shared state is the --unsafe-no-fsync switch below.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "certs/result.h"

namespace storage {

// Prints "storage: <what>: <strerror(errno_value)>" and aborts. Never returns.
[[noreturn]] void fail_stop(const std::string& what, int errno_value);

// Creates `dir` with mode 0700 if it does not exist (parents must exist); an existing dir is left
// as it is. Error if it cannot be created or is not a directory.
certs::Status ensure_dir(const std::string& dir);

// fsync of a directory, so a create/rename/unlink inside it survives a crash. Fail-stop.
void sync_dir(const std::string& dir);

// Writes all of `data` at `offset` (retrying short writes / EINTR). Fail-stop, naming `path`.
void pwrite_all(int fd, std::string_view data, std::uint64_t offset, const std::string& path);

// fdatasync / fsync of a file. Fail-stop, naming `path`.
void datasync(int fd, const std::string& path);
void fullsync(int fd, const std::string& path);

// etcd's --unsafe-no-fsync: while on, datasync(), fullsync() and sync_dir() return at once and
// snapshot files skip their fsyncs, so a crash or power loss can lose acknowledged writes. It is
// for tests and for measuring what the disk costs (bench/kv), never for data anyone keeps.
// Process-wide like the flag: set once at start, before any storage is opened.
void set_unsafe_no_fsync(bool on);
bool unsafe_no_fsync();
// How many datasync(), fullsync() and sync_dir() calls the switch has skipped in this process, so a
// test can tell it took effect.
std::uint64_t skipped_syncs();

// The whole content of a file.
certs::Result<std::string> read_file(const std::string& path);

// Reads exactly `n` bytes at `offset`; Error if the file is shorter or the read fails.
certs::Result<std::string> pread_exact(int fd, std::size_t n, std::uint64_t offset,
                                       const std::string& path);

// Names (not paths) of the regular files in `dir` that end with `suffix`, sorted.
certs::Result<std::vector<std::string>> list_files(const std::string& dir, std::string_view suffix);

}  // namespace storage
