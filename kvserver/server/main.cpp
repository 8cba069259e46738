// kvserver entry point. Until the server issue lands this only answers --version, so that the build,
// the packaging and `provision` have a binary to copy.
#include <cstdio>
#include <cstring>

namespace {
constexpr const char* kEtcdApiVersion = "3.4";
constexpr const char* kServerVersion = "0.1.0";
}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("kvserver Version: %s\nAPI Version: %s\n", kServerVersion, kEtcdApiVersion);
    return 0;
  }
  std::fprintf(stderr, "kvserver: only --version is implemented yet\n");
  return 2;
}
