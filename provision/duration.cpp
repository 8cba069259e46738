#include "provision/duration.h"

#include <array>
#include <charconv>
#include <utility>

namespace provision {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kMinute = 60, kHour = 60 * kMinute, kDay = 24 * kHour, kYear = 365 * kDay;

struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};
// Longer suffixes first so "ms" is not read as "m" + garbage.
constexpr std::array<Unit, 6> kUnits{{{"ms", 1},
                                      {"s", 1000},
                                      {"m", kMinute * 1000},
                                      {"h", kHour * 1000},
                                      {"d", kDay * 1000},
                                      {"y", kYear * 1000}}};

}  // namespace

certs::Result<milliseconds> parse_duration(std::string_view text) {
  const std::string hint = "'" + std::string(text) +
                           "' is not a duration: write a whole number and a unit, like 90d, 8760h, "
                           "10y, 30m, 5s or 500ms";
  for (const Unit& unit : kUnits) {
    if (text.size() <= unit.suffix.size() || !text.ends_with(unit.suffix)) continue;
    std::string_view digits = text.substr(0, text.size() - unit.suffix.size());
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size()) return certs::Error(hint);
    if (n <= 0) return certs::Error("'" + std::string(text) + "': a duration must be positive");
    if (n > INT64_MAX / unit.ms) return certs::Error("'" + std::string(text) + "' is too long");
    return milliseconds(n * unit.ms);
  }
  return certs::Error(hint);
}

std::string format_residual(Seconds remaining) {
  std::int64_t s = remaining.count();
  if (s <= 0) return "expired";
  std::int64_t years = s / kYear, days = (s % kYear) / kDay, hours = (s % kDay) / kHour,
               minutes = (s % kHour) / kMinute;
  if (years > 0)
    return std::to_string(years) + "y" + (days ? " " + std::to_string(days) + "d" : "");
  if (days > 0) return std::to_string(days) + "d";
  if (hours > 0) return std::to_string(hours) + "h";
  return std::to_string(minutes) + "m";
}

std::string format_duration(Seconds d) {
  std::int64_t s = d.count();
  for (auto [unit, size] : {std::pair{"y", kYear}, std::pair{"d", kDay}, std::pair{"h", kHour},
                            std::pair{"m", kMinute}}) {
    if (s % size == 0 && s >= size) return std::to_string(s / size) + unit;
  }
  return std::to_string(s) + "s";
}

}  // namespace provision
