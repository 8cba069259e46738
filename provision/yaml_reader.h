// Reading a YAML document field by field while collecting precise, actionable errors.
//
// yaml-cpp throws on type mismatches and knows nothing of our schema; this reader turns every
// problem into one line "FILE:LINE:COLUMN: <field> <what is wrong>; <what to do>" and keeps going,
// so the user sees every mistake in one run. Unknown keys get a "did you mean" from the known ones.
// Thread-safety: one reader per document, single-threaded.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace provision {

// The known word closest to `word` by edit distance, or "" when none is close enough to suggest.
std::string nearest_word(std::string_view word, const std::vector<std::string>& known);

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  // Records an error located at `at` ("FILE:LINE:COL: message").
  void error(const YAML::Node& at, const std::string& message);
  // Records an error with no position ("FILE: message").
  void error(const std::string& message);
  std::string location(const YAML::Node& at) const;

  // False (and an error) when `node` is present but not a mapping. Every key not in `known` is an
  // error with a suggestion. `context` names the section ("pki", "nodes[1].ssh").
  bool check_map(const YAML::Node& node, const std::string& context,
                 std::initializer_list<std::string_view> known);
  bool check_list(const YAML::Node& node, const std::string& context);

  // Each returns the value when the key is present and well-typed; nothing (and records an error)
  // when it is present and wrong; nothing and no error when absent.
  std::optional<std::string> string(const YAML::Node& map, const char* key, const std::string& ctx);
  std::optional<int> integer(const YAML::Node& map, const char* key, const std::string& ctx,
                             int min, int max);
  std::optional<bool> boolean(const YAML::Node& map, const char* key, const std::string& ctx);
  std::optional<std::vector<std::string>> strings(const YAML::Node& map, const char* key,
                                                  const std::string& ctx);
  std::optional<std::chrono::milliseconds> duration(const YAML::Node& map, const char* key,
                                                    const std::string& ctx);

  const std::string& file() const { return file_; }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::string file_;
  std::vector<std::string> errors_;
};

}  // namespace provision
