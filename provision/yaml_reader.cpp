#include "provision/yaml_reader.h"

#include <algorithm>

#include "provision/duration.h"

namespace provision {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbours each cost one ("nmae" is one typo away from "name", not two).
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string field(const std::string& ctx, const char* key) {
  return ctx.empty() ? key : ctx + "." + key;
}

}  // namespace

std::string nearest_word(std::string_view word, const std::vector<std::string>& known) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& k : known) {
    size_t d = edit_distance(word, k);
    if (d < best_distance) best_distance = d, best = k;
  }
  // Close enough to be a typo: at most a third of the word (and at least one edit) away.
  size_t limit = std::max<size_t>(1, std::max(word.size(), best.size()) / 3);
  return best_distance <= limit ? best : "";
}

std::string YamlReader::location(const YAML::Node& at) const {
  YAML::Mark mark = at.Mark();
  if (mark.is_null()) return file_;
  return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

void YamlReader::error(const YAML::Node& at, const std::string& message) {
  errors_.push_back(location(at) + ": " + message);
}

void YamlReader::error(const std::string& message) {
  errors_.push_back(file_ + ": " + message);
}

bool YamlReader::check_map(const YAML::Node& node, const std::string& context,
                           std::initializer_list<std::string_view> known) {
  if (!node || node.IsNull()) return false;
  if (!node.IsMap()) {
    error(node, context + " must be a mapping of key: value");
    return false;
  }
  std::vector<std::string> names(known.begin(), known.end());
  for (const auto& item : node) {
    std::string key = item.first.Scalar();
    if (std::find(names.begin(), names.end(), key) != names.end()) continue;
    std::string suggestion = nearest_word(key, names);
    std::string where = context.empty() ? "at the top level" : "in " + context;
    error(item.first, "unknown key '" + key + "' " + where +
                          (suggestion.empty() ? "; see inventory.example.yaml for the fields"
                                              : "; did you mean '" + suggestion + "'?"));
  }
  return true;
}

bool YamlReader::check_list(const YAML::Node& node, const std::string& context) {
  if (!node || node.IsNull()) return false;
  if (!node.IsSequence()) {
    error(node, context + " must be a list (items starting with '- ')");
    return false;
  }
  return true;
}

std::optional<std::string> YamlReader::string(const YAML::Node& map, const char* key,
                                              const std::string& ctx) {
  YAML::Node v = map[key];
  if (!v || v.IsNull()) return std::nullopt;
  if (!v.IsScalar()) {
    error(v, field(ctx, key) + " must be a single value, not a list or mapping");
    return std::nullopt;
  }
  return v.Scalar();
}

std::optional<int> YamlReader::integer(const YAML::Node& map, const char* key,
                                       const std::string& ctx, int min, int max) {
  auto text = string(map, key, ctx);
  if (!text) return std::nullopt;
  try {
    size_t used = 0;
    long value = std::stol(*text, &used);
    if (used == text->size() && value >= min && value <= max) return static_cast<int>(value);
  } catch (const std::exception&) {
  }
  error(map[key], field(ctx, key) + " is '" + *text + "'; it must be a whole number from " +
                      std::to_string(min) + " to " + std::to_string(max));
  return std::nullopt;
}

std::optional<bool> YamlReader::boolean(const YAML::Node& map, const char* key,
                                        const std::string& ctx) {
  auto text = string(map, key, ctx);
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "yes") return true;
  if (*text == "false" || *text == "no") return false;
  error(map[key], field(ctx, key) + " is '" + *text + "'; write true or false");
  return std::nullopt;
}

std::optional<std::vector<std::string>> YamlReader::strings(const YAML::Node& map, const char* key,
                                                            const std::string& ctx) {
  YAML::Node v = map[key];
  if (!v || v.IsNull()) return std::nullopt;
  if (!v.IsSequence()) {
    error(v, field(ctx, key) + " must be a list, e.g. [a, b]");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.IsScalar()) {
      error(item, field(ctx, key) + " items must be single values");
      return std::nullopt;
    }
    out.push_back(item.Scalar());
  }
  return out;
}

std::optional<std::chrono::milliseconds> YamlReader::duration(const YAML::Node& map,
                                                              const char* key,
                                                              const std::string& ctx) {
  auto text = string(map, key, ctx);
  if (!text) return std::nullopt;
  auto parsed = parse_duration(*text);
  if (!parsed) {
    error(map[key], field(ctx, key) + ": " + parsed.error().message);
    return std::nullopt;
  }
  return *parsed;
}

}  // namespace provision
