#include "certs/san.h"

#include <arpa/inet.h>

#include <algorithm>

namespace certs {
namespace {

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::vector<std::string> missing_from(const std::vector<std::string>& have,
                                      const std::vector<std::string>& want) {
  std::vector<std::string> out;
  std::set_difference(want.begin(), want.end(), have.begin(), have.end(), std::back_inserter(out));
  return out;
}

}  // namespace

Result<std::string> canonical_ip(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1)
    return std::string(inet_ntop(AF_INET, buf, out, sizeof out));
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    return std::string(inet_ntop(AF_INET6, buf, out, sizeof out));
  }
  return Error("'" + s + "' is not an IPv4 or IPv6 address");
}

bool is_ip_address(std::string_view text) {
  return canonical_ip(text).ok();
}

std::vector<unsigned char> ip_bytes(const std::string& canonical) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, canonical.c_str(), buf) == 1) return {buf, buf + 4};
  if (inet_pton(AF_INET6, canonical.c_str(), buf) == 1) return {buf, buf + 16};
  return {};
}

void SubjectAltNames::normalize() {
  sort_unique(dns);
  sort_unique(ips);
}

std::string SubjectAltNames::to_string() const {
  std::string out;
  for (const auto& d : dns)
    out += (out.empty() ? "" : ", ") + ("DNS:" + d);
  for (const auto& ip : ips)
    out += (out.empty() ? "" : ", ") + ("IP:" + ip);
  return out;
}

std::string SubjectAltNames::diff(const SubjectAltNames& want) const {
  std::string out;
  auto add = [&out](const char* what, const char* kind, const std::vector<std::string>& names) {
    for (const auto& n : names)
      out += (out.empty() ? "" : ", ") + (what + (kind + n));
  };
  add("missing ", "DNS:", missing_from(dns, want.dns));
  add("missing ", "IP:", missing_from(ips, want.ips));
  add("extra ", "DNS:", missing_from(want.dns, dns));
  add("extra ", "IP:", missing_from(want.ips, ips));
  return out;
}

}  // namespace certs
