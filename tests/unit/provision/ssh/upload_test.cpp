// upload() against a real sshd on loopback. The "remote" filesystem is this machine's, so the tests
// judge results directly with stat(2) and by reading the files.
#include "provision/ssh/upload.h"

#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "sshd_fixture.h"

namespace {

using provision::ssh::ConnectionSpec;
using provision::ssh::Session;
using provision::ssh::sha256_hex;
using provision::ssh::upload;
using provision::ssh::UploadOptions;
using provision::ssh::UploadOutcome;
using provision::ssh::testing::run_local;
using provision::ssh::testing::SshdFixture;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct stat stat_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st;
}

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s)
    c = static_cast<char>(rng() & 0xff);
  return s;
}

// Names in `dir` that look like our temp files.
std::vector<std::string> leftovers(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().find("provision-tmp") != std::string::npos)
      out.push_back(e.path().string());
  }
  return out;
}

std::unique_ptr<Session> connect(const ConnectionSpec& spec) {
  auto s = Session::connect(spec);
  if (!s) FAIL(s.error().message);
  return std::move(*s);
}

}  // namespace

TEST_CASE("upload creates the file with the right mode and content", "[ssh][upload]") {
  SshdFixture sshd;
  auto session = connect(sshd.spec("n1"));
  const std::string target = sshd.dir() + "/etc/ca.crt";
  std::filesystem::create_directories(sshd.dir() + "/etc");
  const std::string bytes = "-----BEGIN CERTIFICATE-----\nnot really\n";
  UploadOptions options;
  options.mode = 0640;
  auto r = upload(*session, bytes, target, options);
  REQUIRE(r.ok());
  CHECK(r->outcome == UploadOutcome::kWritten);
  CHECK(r->bytes_sent == bytes.size());
  CHECK(r->describe() == "written " + std::to_string(bytes.size()) + " bytes");
  CHECK(slurp(target) == bytes);
  CHECK((stat_of(target).st_mode & 07777) == 0640);
  // Our hash agrees with sha256sum's.
  CHECK(run_local("sha256sum '" + target + "'").output.rfind(r->sha256 + " ", 0) == 0);
  CHECK(leftovers(sshd.dir() + "/etc").empty());
}

TEST_CASE("a second upload of the same bytes sends nothing", "[ssh][upload]") {
  SshdFixture sshd;
  auto session = connect(sshd.spec("n1"));
  const std::string target = sshd.dir() + "/unit.service";
  const std::string bytes = "[Service]\nExecStart=/usr/local/bin/kvserver\n";
  REQUIRE(upload(*session, bytes, target).ok());
  const struct stat before = stat_of(target);

  auto again = upload(*session, bytes, target);
  REQUIRE(again.ok());
  CHECK(again->outcome == UploadOutcome::kUnchanged);
  CHECK(again->bytes_sent == 0);
  CHECK(again->describe() == "unchanged");
  // Same inode: the file was not replaced (a write would have renamed a new file over it).
  CHECK(stat_of(target).st_ino == before.st_ino);

  // Same bytes, other mode: fixed in place, still nothing sent.
  UploadOptions tighter;
  tighter.mode = 0600;
  auto fixed = upload(*session, bytes, target, tighter);
  REQUIRE(fixed.ok());
  CHECK(fixed->outcome == UploadOutcome::kMetadataFixed);
  CHECK(fixed->bytes_sent == 0);
  CHECK(stat_of(target).st_ino == before.st_ino);
  CHECK((stat_of(target).st_mode & 07777) == 0600);

  // Different bytes are written, replacing the inode.
  auto changed = upload(*session, bytes + "# v2\n", target, tighter);
  if (!changed) FAIL(changed.error().message);
  CHECK(changed->outcome == UploadOutcome::kWritten);
  CHECK(stat_of(target).st_ino != before.st_ino);
  CHECK(slurp(target) == bytes + "# v2\n");
}

TEST_CASE("a reader never sees a half-written target", "[ssh][upload]") {
  SshdFixture sshd;
  auto session = connect(sshd.spec("n1"));
  const std::string target = sshd.dir() + "/kvserver.bin";
  const std::string old_bytes = random_bytes(1 << 20, 1);
  const std::string new_bytes = random_bytes(24 << 20, 2);
  REQUIRE(upload(*session, old_bytes, target).ok());
  const std::set<std::string> allowed = {sha256_hex(old_bytes), sha256_hex(new_bytes)};

  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    do {  // at least one read even if the upload wins the race to finish
      if (allowed.count(sha256_hex(slurp(target))) == 0) torn.fetch_add(1);
      reads.fetch_add(1);
    } while (!done.load());
  });
  auto r = upload(*session, new_bytes, target);
  done = true;
  reader.join();
  if (!r) FAIL(r.error().message);
  CHECK(r->bytes_sent == new_bytes.size());
  CHECK(torn.load() == 0);
  CHECK(reads.load() > 0);
  CHECK(slurp(target) == new_bytes);
  CHECK(leftovers(sshd.dir()).empty());
}

TEST_CASE("upload sets owner and group when asked", "[ssh][upload]") {
  SshdFixture sshd;
  auto session = connect(sshd.spec("n1"));
  const std::string target = sshd.dir() + "/owned";
  UploadOptions options;
  options.owner = "nobody";
  options.group = "nogroup";
  REQUIRE(upload(*session, "x", target, options).ok());
  CHECK(stat_of(target).st_uid == 65534);
  CHECK(stat_of(target).st_gid == 65534);
  auto again = upload(*session, "x", target, options);
  REQUIRE(again.ok());
  CHECK(again->outcome == UploadOutcome::kUnchanged);
  // Numeric ids name the same owner: still nothing to do.
  options.owner = "65534";
  options.group = "65534";
  auto numeric = upload(*session, "x", target, options);
  REQUIRE(numeric.ok());
  CHECK(numeric->outcome == UploadOutcome::kUnchanged);
}

TEST_CASE("with sudo the upload is staged privately and installed atomically", "[ssh][upload]") {
  SshdFixture sshd;
  ConnectionSpec spec = sshd.spec("n1");
  spec.sudo = true;
  auto session = connect(spec);
  const std::string target = sshd.dir() + "/peer.key";
  UploadOptions options;
  options.mode = 0600;
  options.owner = "nobody";
  const std::string bytes = random_bytes(300000, 3);
  auto r = upload(*session, bytes, target, options);
  REQUIRE(r.ok());
  CHECK(r->outcome == UploadOutcome::kWritten);
  CHECK(slurp(target) == bytes);
  CHECK((stat_of(target).st_mode & 07777) == 0600);
  CHECK(stat_of(target).st_uid == 65534);
  CHECK(leftovers(sshd.dir()).empty());
  // The private staging directory is gone: no staged copy of this file is left in /tmp.
  for (const auto& e : std::filesystem::directory_iterator("/tmp")) {
    if (e.path().filename().string().rfind("provision-upload.", 0) == 0)
      CHECK_FALSE(std::filesystem::exists(e.path() / "peer.key"));
  }
  auto again = upload(*session, bytes, target, options);
  REQUIRE(again.ok());
  CHECK(again->outcome == UploadOutcome::kUnchanged);
}

TEST_CASE("a failure after writing leaves the old target and no temp file", "[ssh][upload]") {
  SshdFixture sshd;
  for (bool sudo : {false, true}) {
    INFO("sudo=" << sudo);
    ConnectionSpec spec = sshd.spec("n1");
    spec.sudo = sudo;
    auto session = connect(spec);
    const std::string target = sshd.dir() + (sudo ? "/via-sudo.conf" : "/direct.conf");
    REQUIRE(upload(*session, "old\n", target).ok());
    UploadOptions options;
    options.owner = "no-such-user-provision";  // chown/install fails after the bytes are sent
    auto r = upload(*session, "new\n", target, options);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().message.rfind("node n1 (", 0) == 0);
    CHECK(r.error().message.find("no-such-user-provision") != std::string::npos);
    CHECK(slurp(target) == "old\n");
    CHECK(leftovers(sshd.dir()).empty());
  }
}

TEST_CASE("upload errors name the node and the path", "[ssh][upload]") {
  SshdFixture sshd;
  auto session = connect(sshd.spec("n7"));
  const std::string missing_dir = sshd.dir() + "/no/such/dir/file";
  auto r = upload(*session, "x", missing_dir);
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().message.rfind("node n7 (", 0) == 0);
  CHECK(r.error().message.find(sshd.dir() + "/no/such/dir/") != std::string::npos);
  CHECK(r.error().message.find("does the target directory exist?") != std::string::npos);

  auto relative = upload(*session, "x", "etc/x");
  REQUIRE_FALSE(relative.ok());
  CHECK(relative.error().message.find("must be an absolute file path") != std::string::npos);
}
