// Plain-text tables in the style operators know from kubeadm and etcdctl: a header row of
// upper-case names, columns padded with spaces, no borders. And the tiny JSON writer that the
// `-o json` outputs share.
#pragma once

#include <string>
#include <vector>

namespace provision {

using Row = std::vector<std::string>;

std::string render_table(const Row& header, const std::vector<Row>& rows);

// A JSON string literal with the escaping RFC 8259 requires.
std::string json_string(const std::string& s);

}  // namespace provision
