#include "certs/file_io.h"

#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/support/test_support.h"

using namespace certs;

namespace {
mode_t mode_of(const std::string& path) {
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}
}  // namespace

TEST_CASE("atomic_write replaces content with the asked mode and leaves no temp file",
          "[file_io]") {
  test_support::TempDir dir;
  std::string path = dir / "a.key";
  REQUIRE(atomic_write(path, "one", kPrivateKeyMode));
  REQUIRE(atomic_write(path, "two", kPrivateKeyMode));
  CHECK(read_file(path).value() == "two");
  CHECK(mode_of(path) == 0600);
  REQUIRE(atomic_write(dir / "a.crt", "cert", kCertificateMode));
  CHECK(mode_of(dir / "a.crt") == 0644);
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path()))
    ++entries;
  CHECK(entries == 2);
}

TEST_CASE("ensure_dir creates private parents and refuses what it cannot use", "[file_io]") {
  test_support::TempDir dir;
  std::string nested = dir / "a/b/c";
  REQUIRE(ensure_dir(nested));
  CHECK(mode_of(nested) == 0700);
  CHECK(mode_of(dir / "a") == 0700);

  REQUIRE(atomic_write(dir / "file", "x", 0644));
  auto not_dir = ensure_dir(dir / "file");
  REQUIRE_FALSE(not_dir.ok());
  CHECK_THAT(not_dir.error().message, Catch::Contains("not a directory"));

  auto under_file = ensure_dir(dir / "file/sub");
  REQUIRE_FALSE(under_file.ok());
  CHECK_THAT(under_file.error().message, Catch::Contains("pki.dir"));

  auto bad_write = atomic_write(dir / "missing/x.crt", "x", 0644);
  REQUIRE_FALSE(bad_write.ok());
  CHECK_THAT(bad_write.error().message, Catch::Contains("missing/x.crt"));
}
