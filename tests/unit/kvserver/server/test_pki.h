// Test fixture: a throw-away PKI made with the real openssl CLI in a fresh temp directory (an
// outside judge: the certificates are not produced by the code under test). ECDSA P-256, like
// provision's defaults. Also a tiny helper to run a command and capture its output.
//
// Thread-safety: none; one fixture per test case.
#pragma once

#include <string>

namespace kvserver::server::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
};

// Runs `command` with /bin/sh, stdin from /dev/null; aborts the test process if it cannot start.
CommandResult run_command(const std::string& command);

class TestPki {
 public:
  TestPki();   // creates the temp directory
  ~TestPki();  // removes it
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // Self-signed CA: writes <name>.crt and <name>.key.
  void make_ca(const std::string& name);

  // Leaf signed by CA `ca` with CN `cn`: writes <name>.crt and <name>.key. `usage` is the
  // extendedKeyUsage value ("serverAuth,clientAuth"); SANs are 127.0.0.1 and localhost.
  void make_leaf(const std::string& ca, const std::string& name, const std::string& cn,
                 const std::string& usage = "serverAuth,clientAuth");

  // Like make_leaf, but valid only in January 2020 (long expired).
  void make_expired_leaf(const std::string& ca, const std::string& name, const std::string& cn);

  // The serial of <name>.crt as openssl prints it (uppercase hex, no "serial=").
  std::string serial_of(const std::string& name) const;

  // Concatenates files into `out` via a temp file + rename, the way an operator should replace
  // them.
  void write_atomically(const std::string& out, const std::string& content) const;
  std::string read(const std::string& name) const;

 private:
  void run_or_fail(const std::string& command) const;
  std::string dir_;
};

}  // namespace kvserver::server::testing
