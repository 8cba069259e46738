// Subject Alternative Names: what a certificate is valid for (DNS names and IP addresses).
//
// Invariant: IPs are held in canonical text form (inet_ntop of the parsed address), so "::0001" and
// "::1" compare equal; both lists are sorted and free of duplicates after normalize().
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "certs/result.h"

namespace certs {

struct SubjectAltNames {
  std::vector<std::string> dns;
  std::vector<std::string> ips;

  friend bool operator==(const SubjectAltNames&, const SubjectAltNames&) = default;

  // Sorts and removes duplicates (keeps the type's invariant after adding names).
  void normalize();
  // "DNS:h1, DNS:localhost, IP:10.0.0.1" - the order `openssl x509 -text` uses.
  std::string to_string() const;
  // A human list of what is in `want` but not in this, and in this but not in `want`.
  std::string diff(const SubjectAltNames& want) const;
};

// The canonical text of an IPv4 or IPv6 address, or an error naming `text`.
Result<std::string> canonical_ip(std::string_view text);
bool is_ip_address(std::string_view text);

// IP address bytes (4 or 16) of a canonical address, for the X.509 encoding.
std::vector<unsigned char> ip_bytes(const std::string& canonical);

}  // namespace certs
