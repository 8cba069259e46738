// bench_certs: the whole PKI of a 7-node cluster with 3 clients (1 CA, 14 node certs, 3 client
// certs, ECDSA P-256), made three ways in the same run:
//   - libcerts in process (generate_pki),
//   - the `provision certs generate` binary (what an operator runs),
//   - the openssl CLI, one genpkey/req/x509 per certificate, the way the seeds do it by hand.
// Prints the median of several runs and the ratios. Targets: >= 20x faster than the CLI, and the
// whole ECDSA PKI under 50 ms.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "certs/file_io.h"
#include "provision/inventory.h"
#include "provision/pki_generate.h"
#include "tests/support/test_support.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kNodes = 7;
constexpr int kRuns = 5;

std::string inventory_yaml() {
  std::string y = "cluster: {name: bench}\nclients: [{name: apiserver}]\nnodes:\n";
  for (int i = 1; i <= kNodes; ++i) {
    y += "  - {name: n" + std::to_string(i) + ", address: 10.0.0." + std::to_string(i) +
         ", dns: [n" + std::to_string(i) + ".lan]}\n";
  }
  return y;
}

// The same certificates with the openssl CLI: CA, then per node a server and a peer cert, then the
// three clients (admin, healthcheck, apiserver).
std::string openssl_script(const std::string& dir) {
  std::string s = "set -e; cd " + test_support::shell_quote(dir) + "\n";
  s += "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null\n"
       "openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj /CN=bench-ca "
       "-addext basicConstraints=critical,CA:TRUE,pathlen:0 "
       "-addext keyUsage=critical,keyCertSign,cRLSign -out ca.crt\n";
  auto leaf = [&s](const std::string& name, const std::string& cn, const std::string& eku,
                   const std::string& sans) {
    s += "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + name + ".key\n";
    s += "openssl req -new -key " + name + ".key -subj /CN=" + cn + " -out " + name + ".csr\n";
    s += "printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\n"
         "extendedKeyUsage=" +
         eku + "\\n" + (sans.empty() ? "" : "subjectAltName=" + sans + "\\n") + "' > " + name +
         ".ext\n";
    s += "openssl x509 -req -in " + name +
         ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 "
         "-days 365 -extfile " +
         name + ".ext -out " + name + ".crt 2>/dev/null\n";
  };
  for (int i = 1; i <= kNodes; ++i) {
    std::string n = "n" + std::to_string(i), ip = "10.0.0." + std::to_string(i);
    leaf(n + "-server", n, "serverAuth,clientAuth",
         "DNS:" + n + ".lan,DNS:localhost,IP:" + ip + ",IP:127.0.0.1,IP:::1");
    leaf(n + "-peer", n, "serverAuth,clientAuth", "DNS:" + n + ".lan,IP:" + ip);
  }
  for (const char* c : {"admin", "healthcheck", "apiserver"})
    leaf(c, c, "clientAuth", "");
  return s;
}

double median_ms(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
double time_ms(F&& f) {
  auto start = Clock::now();
  f();
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main() {
  test_support::TempDir dir;
  std::string inv_path = dir / "inv.yaml";
  if (!certs::atomic_write(inv_path, inventory_yaml(), 0644)) return 1;
  auto inv = provision::load_inventory(inv_path);
  if (!inv) {
    std::fprintf(stderr, "%s\n", inv.error().message.c_str());
    return 1;
  }
  const std::string provision_bin = std::string(PROJECT_BINARY_DIR) + "/bin/provision";
  std::vector<double> in_process, binary, cli;
  for (int run = 0; run < kRuns; ++run) {
    std::filesystem::remove_all(inv->pki.dir);
    in_process.push_back(time_ms([&] {
      auto now =
          std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
      if (!provision::generate_pki(*inv, {false, now})) std::abort();
    }));
    std::filesystem::remove_all(inv->pki.dir);
    binary.push_back(time_ms([&] {
      auto r = test_support::run(provision_bin + " certs generate -i " + inv_path + " >/dev/null");
      if (r.exit_code != 0) std::abort();
    }));
    std::string cli_dir = dir / ("cli" + std::to_string(run));
    std::filesystem::create_directories(cli_dir);
    std::string script = openssl_script(cli_dir);
    cli.push_back(time_ms([&] {
      auto r = test_support::run("bash -c " + test_support::shell_quote(script));
      if (r.exit_code != 0) {
        std::fprintf(stderr, "openssl CLI failed: %s\n", r.output.c_str());
        std::abort();
      }
    }));
  }
  double ours = median_ms(in_process), bin = median_ms(binary), theirs = median_ms(cli);
  std::printf(
      "bench_certs: full ECDSA P-256 PKI, %d nodes + 3 clients (18 certificates), "
      "median of %d runs\n",
      kNodes, kRuns);
  std::printf("  libcerts in process           %8.1f ms\n", ours);
  std::printf("  provision certs generate      %8.1f ms   (binary, incl. process start)\n", bin);
  std::printf("  openssl CLI (as the seeds)    %8.1f ms\n", theirs);
  std::printf("  speed-up vs CLI: in process %.1fx, binary %.1fx   (target >= 20x, PKI < 50 ms)\n",
              theirs / ours, theirs / bin);
  return 0;
}
