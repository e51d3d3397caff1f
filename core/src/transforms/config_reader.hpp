// Private to core/src/transforms: reads one stage's config object with errors that name the stage type and the key.
//
// Every getter returns kFailedPrecondition ("<type>: ...") on a wrong type, so a stage factory reads its config with
// a handful of CONFLUX_ASSIGN-style checks and never throws. Keys absent from the object give the fallback.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "conflux/common/status.hpp"

namespace conflux::transforms::internal {

using Json = nlohmann::ordered_json;

class ConfigReader {
 public:
  ConfigReader(std::string type, const Json& config) : type_(std::move(type)), config_(config) {}

  const std::string& type() const { return type_; }
  const Json& json() const { return config_; }

  // OK when the config is an object (null counts as {}) whose keys are all in `allowed`; otherwise names the first
  // unknown key and, when one is close, suggests it.
  Status check_keys(std::initializer_list<std::string_view> allowed) const;
  bool has(std::string_view key) const;
  // The value of `key`; null when absent.
  const Json& get(std::string_view key) const;

  Result<std::string> string(std::string_view key, std::string fallback) const;
  Result<std::string> required_string(std::string_view key) const;
  Result<bool> boolean(std::string_view key, bool fallback) const;
  // `key` must be one of `choices` (a string); returns its index, or `fallback` when absent.
  Result<size_t> choice(std::string_view key, std::initializer_list<std::string_view> choices, size_t fallback) const;
  // A list of non-empty strings. A single string is accepted as a one-element list when `allow_single` is set.
  Result<std::vector<std::string>> string_list(std::string_view key, bool allow_single = false) const;
  // An object whose values are non-empty strings, in the config's order.
  Result<std::vector<std::pair<std::string, std::string>>> string_map(std::string_view key) const;

  // kFailedPrecondition "<type>: <message>".
  Status error(const std::string& message) const;

 private:
  std::string type_;
  const Json& config_;
};

// The closest of `candidates` to `word` by edit distance, or empty when none is close enough to suggest.
std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace conflux::transforms::internal

// Assigns the value of a Result<T> expression to `lhs`, or returns its Status from the enclosing function.
#define CONFLUX_TX_ASSIGN(lhs, expr)                                     \
  do {                                                                   \
    auto conflux_tx_result_ = (expr);                                    \
    if (!conflux_tx_result_.is_ok()) return conflux_tx_result_.status(); \
    lhs = std::move(conflux_tx_result_).value();                         \
  } while (0)
