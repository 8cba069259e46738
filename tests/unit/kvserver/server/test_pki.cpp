#include "tests/unit/kvserver/server/test_pki.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kvserver::server::testing {

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(("(" + command + ") </dev/null 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    std::perror("popen");
    std::abort();
  }
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0)
    result.output.append(buf, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

TestPki::TestPki() {
  std::string templ = (std::filesystem::temp_directory_path() / "kvserver-pki-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = templ;
}

TestPki::~TestPki() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void TestPki::run_or_fail(const std::string& command) const {
  auto r = run_command(command);
  if (r.exit_code != 0) {
    throw std::runtime_error("fixture command failed (" + std::to_string(r.exit_code) +
                             "): " + command + "\n" + r.output);
  }
}

void TestPki::make_ca(const std::string& name) {
  run_or_fail(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30"
      " -keyout " +
      path(name + ".key") + " -out " + path(name + ".crt") + " -subj /CN=" + name +
      " -addext basicConstraints=critical,CA:TRUE,pathlen:0"
      " -addext keyUsage=critical,keyCertSign,cRLSign");
}

namespace {
std::string leaf_extensions(const std::string& usage) {
  return "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
         "extendedKeyUsage=" +
         usage + "\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n";
}
}  // namespace

void TestPki::make_leaf(const std::string& ca, const std::string& name, const std::string& cn,
                        const std::string& usage) {
  write_atomically(name + ".ext", leaf_extensions(usage));
  run_or_fail("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
              path(name + ".key") + " -out " + path(name + ".csr") + " -subj /CN=" + cn);
  // A random serial per cert, so a reload test can tell old from new by serial alone.
  run_or_fail("openssl x509 -req -in " + path(name + ".csr") + " -CA " + path(ca + ".crt") +
              " -CAkey " + path(ca + ".key") + " -set_serial 0x$(openssl rand -hex 16) -days 30" +
              " -extfile " + path(name + ".ext") + " -out " + path(name + ".crt"));
}

void TestPki::make_expired_leaf(const std::string& ca, const std::string& name,
                                const std::string& cn) {
  write_atomically(name + ".ext", leaf_extensions("serverAuth,clientAuth"));
  // `openssl x509` in OpenSSL 3.0 cannot back-date; `openssl ca` can, given a minimal database.
  const std::string db = path(name + "-db");
  std::filesystem::create_directories(db);
  write_atomically(name + "-db/index.txt", "");
  write_atomically(name + "-db/serial", "1000\n");
  write_atomically(name + ".cnf", "[ca]\ndefault_ca=test\n[test]\ndatabase=" + db +
                                      "/index.txt\nnew_certs_dir=" + db + "\nserial=" + db +
                                      "/serial\ndefault_md=sha256\npolicy=any\nunique_subject=no\n"
                                      "[any]\ncommonName=supplied\n");
  run_or_fail("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
              path(name + ".key") + " -out " + path(name + ".csr") + " -subj /CN=" + cn);
  run_or_fail("openssl ca -batch -notext -config " + path(name + ".cnf") + " -cert " +
              path(ca + ".crt") + " -keyfile " + path(ca + ".key") + " -in " + path(name + ".csr") +
              " -out " + path(name + ".crt") +
              " -startdate 20200101000000Z -enddate 20200201000000Z -extfile " +
              path(name + ".ext"));
}

std::string TestPki::serial_of(const std::string& name) const {
  auto r = run_command("openssl x509 -noout -serial -in " + path(name + ".crt"));
  if (r.exit_code != 0) throw std::runtime_error("openssl x509 -serial failed: " + r.output);
  std::string s = r.output.substr(r.output.find('=') + 1);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.pop_back();
  return s;
}

void TestPki::write_atomically(const std::string& out, const std::string& content) const {
  const std::string tmp = path(out + ".tmp");
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << content;
    if (!f) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path(out));
}

std::string TestPki::read(const std::string& name) const {
  std::ifstream f(path(name), std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace kvserver::server::testing
