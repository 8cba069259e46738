// Durations as operators write them in the inventory: "90d", "8760h", "10y", "30m", "5s", "1500ms".
//
// A year is 365 days and a day 24 hours: certificate lifetimes are counted that way by kubeadm and
// cfssl, and an operator reading "1y" expects 365 days, not a calendar year.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "certs/result.h"

namespace provision {

using Seconds = std::chrono::seconds;

// Parses "<positive integer><unit>" with unit one of ms, s, m, h, d, y. Milliseconds are rounded up
// to whole seconds only by callers that need seconds; this returns milliseconds.
certs::Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// "3y 12d" / "364d" / "23h" / "59m" / "expired": the RESIDUAL TIME column of kubeadm, two units at
// most.
std::string format_residual(Seconds remaining);

// The shortest exact spelling: 31536000s -> "1y", 7776000s -> "90d".
std::string format_duration(Seconds d);

}  // namespace provision
