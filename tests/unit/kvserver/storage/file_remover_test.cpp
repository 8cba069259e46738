#include "kvserver/storage/file_remover.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/unit/kvserver/storage/test_util.h"

using storage::FileRemover;
using storage_test::TempDir;

namespace {
std::string make_file(const TempDir& t, const std::string& name) {
  const std::string path = t.sub(name);
  std::ofstream(path) << name;
  return path;
}
}  // namespace

TEST_CASE("FileRemover deletes what it is handed, and wait_idle returns once it has", "[storage]") {
  TempDir t;
  FileRemover remover;
  std::vector<std::string> first{make_file(t, "a"), make_file(t, "b")};
  const std::string c = make_file(t, "c");
  const std::string kept = make_file(t, "kept");
  remover.remove(first, t.sub(""));
  // A path already gone (deleted by hand, or by a run that crashed after deleting it) is no error.
  remover.remove({c, t.sub("never-existed")}, "");
  remover.wait_idle();
  for (const auto& p : {first[0], first[1], c})
    CHECK_FALSE(std::filesystem::exists(p));
  CHECK(std::filesystem::exists(kept));
  remover.wait_idle();  // nothing pending: returns at once
}

TEST_CASE("FileRemover's destructor finishes the deletes handed over", "[storage]") {
  TempDir t;
  std::vector<std::string> paths;
  for (int i = 0; i < 50; ++i)
    paths.push_back(make_file(t, "f" + std::to_string(i)));
  {
    FileRemover remover;
    for (const auto& p : paths)
      remover.remove({p}, t.sub(""));
  }
  for (const auto& p : paths)
    CHECK_FALSE(std::filesystem::exists(p));
}
