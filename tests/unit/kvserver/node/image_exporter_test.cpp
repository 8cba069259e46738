// ImageExporter with real fork()s and files: a client's snapshot image is handed over as an
// unlinked file holding the state as of the fork, several exports run at once, a failure or a stop
// reaches the caller, and leftovers of an earlier run are removed.
#include "kvserver/server/node/image_exporter.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "tests/support/test_support.h"
#include "tests/unit/kvserver/storage/test_util.h"

using kvserver::ApiError;
using kvserver::ApiResult;
using kvserver::ImageFile;
using kvserver::node::ImageExporter;
using storage_test::TempDir;
using test_support::eventually;

namespace {

// What a `done` callback received.
struct Outcome {
  std::optional<ApiResult<ImageFile>> result;
  ImageExporter::Done callback() {
    return [this](ApiResult<ImageFile> r) { result = std::move(r); };
  }
};

// Polls the exporter until every outcome has arrived, for at most 30 s (a loaded CI machine).
void poll_until_done(ImageExporter& e, std::initializer_list<Outcome*> outcomes) {
  REQUIRE(eventually(
      [&] {
        e.poll();
        for (Outcome* o : outcomes)
          if (!o->result) return false;
        return true;
      },
      std::chrono::seconds(30)));
}

std::string read_image(const ImageFile& f) {
  std::string out(f.bytes, '\0');
  REQUIRE(::pread(f.fd, out.data(), out.size(), static_cast<off_t>(f.offset)) ==
          static_cast<ssize_t>(out.size()));
  return out;
}

std::size_t files_in(const std::string& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("an exported image is the state at the fork, in a file that is already unlinked",
          "[image_exporter]") {
  TempDir t;
  ImageExporter e(t.path());
  std::string state(200000, 'a');
  Outcome first, second;
  std::string error;
  auto done1 = first.callback();
  REQUIRE(e.start(
      7, 2, [&] { return state; }, done1, &error));
  state.assign(100, 'b');  // copy-on-write: the first child still sees 200000 x 'a'
  auto done2 = second.callback();
  REQUIRE(e.start(
      8, 2, [&] { return state; }, done2, &error));  // two at once
  poll_until_done(e, {&first, &second});

  auto* f1 = std::get_if<ImageFile>(&*first.result);
  auto* f2 = std::get_if<ImageFile>(&*second.result);
  REQUIRE(f1);
  REQUIRE(f2);
  CHECK(read_image(*f1) == std::string(200000, 'a'));
  CHECK(read_image(*f2) == std::string(100, 'b'));
  CHECK(files_in(t.path()) == 0);  // nothing left under a name: the stream holds the only copy
}

TEST_CASE("an image the child cannot build fails its caller with the reason", "[image_exporter]") {
  TempDir t;
  ImageExporter e(t.path());
  Outcome o;
  std::string error;
  auto done = o.callback();
  REQUIRE(e.start(
      1, 1, []() -> std::string { throw std::runtime_error("out of cheese"); }, done, &error));
  poll_until_done(e, {&o});
  auto* err = std::get_if<ApiError>(&*o.result);
  REQUIRE(err);
  CHECK(err->code == kvserver::ApiCode::kInternal);
  CHECK_THAT(err->message, Catch::Contains("out of cheese"));
  CHECK(files_in(t.path()) == 0);
}

TEST_CASE("stopping fails pending exports - a new exporter removes an earlier run's files",
          "[image_exporter]") {
  TempDir t;
  storage_test::spit(t.sub("export-3.image"), "left by a crash");
  storage_test::spit(t.sub("export-4.image.tmp"), "left by a crash");
  storage_test::spit(t.sub("member.json"), "not ours");
  ImageExporter e(t.path());
  CHECK(files_in(t.path()) == 1);  // only member.json is left

  Outcome o;
  std::string error;
  auto done = o.callback();
  REQUIRE(e.start(
      1, 1,
      [] {
        ::pause();  // until cancel_all() kills it
        return std::string();
      },
      done, &error));
  e.cancel_all(ApiError{kvserver::ApiCode::kUnavailable, "etcdserver: server stopped"});
  REQUIRE(o.result);
  auto* err = std::get_if<ApiError>(&*o.result);
  REQUIRE(err);
  CHECK(err->message == "etcdserver: server stopped");
  CHECK(files_in(t.path()) == 1);
}

TEST_CASE("an image built by the caller is handed over from memory", "[image_exporter]") {
  Outcome o;
  ImageExporter::export_now("built on the loop", o.callback());
  REQUIRE(o.result);
  auto* f = std::get_if<ImageFile>(&*o.result);
  REQUIRE(f);
  CHECK(f->offset == 0);
  CHECK(read_image(*f) == "built on the loop");
}
