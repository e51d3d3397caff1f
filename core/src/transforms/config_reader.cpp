#include "config_reader.hpp"

#include <algorithm>

namespace conflux::transforms::internal {

namespace {

const Json& null_json() {
  static const Json kNull;
  return kNull;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (std::string_view candidate : candidates) {
    size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string(candidate);
    }
  }
  return best;
}

Status ConfigReader::error(const std::string& message) const { return failed_precondition(type_ + ": " + message); }

Status ConfigReader::check_keys(std::initializer_list<std::string_view> allowed) const {
  if (config_.is_null()) return Status::ok();
  if (!config_.is_object()) return error("the stage config must be a mapping of keys to values");
  for (auto it = config_.begin(); it != config_.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
    std::string message = "unknown key '" + it.key() + "'";
    std::string suggestion = closest_match(it.key(), std::vector<std::string_view>(allowed));
    if (!suggestion.empty()) message += " (did you mean '" + suggestion + "'?)";
    std::string known;
    for (std::string_view key : allowed) known += (known.empty() ? "" : ", ") + std::string(key);
    return error(message + "; known keys: " + known);
  }
  return Status::ok();
}

bool ConfigReader::has(std::string_view key) const {
  return config_.is_object() && config_.find(std::string(key)) != config_.end();
}

const Json& ConfigReader::get(std::string_view key) const {
  if (!config_.is_object()) return null_json();
  auto it = config_.find(std::string(key));
  return it == config_.end() ? null_json() : *it;
}

Result<std::string> ConfigReader::string(std::string_view key, std::string fallback) const {
  const Json& value = get(key);
  if (value.is_null()) return fallback;
  if (!value.is_string()) return error("'" + std::string(key) + "' must be a string");
  return value.get<std::string>();
}

Result<std::string> ConfigReader::required_string(std::string_view key) const {
  const Json& value = get(key);
  if (value.is_null()) return error("missing required key '" + std::string(key) + "'");
  if (!value.is_string() || value.get<std::string>().empty()) {
    return error("'" + std::string(key) + "' must be a non-empty string");
  }
  return value.get<std::string>();
}

Result<bool> ConfigReader::boolean(std::string_view key, bool fallback) const {
  const Json& value = get(key);
  if (value.is_null()) return fallback;
  if (!value.is_boolean()) return error("'" + std::string(key) + "' must be true or false");
  return value.get<bool>();
}

Result<size_t> ConfigReader::choice(std::string_view key, std::initializer_list<std::string_view> choices,
                                    size_t fallback) const {
  const Json& value = get(key);
  if (value.is_null()) return fallback;
  std::string expected;
  for (std::string_view c : choices) expected += (expected.empty() ? "" : ", ") + std::string(c);
  if (!value.is_string()) return error("'" + std::string(key) + "' must be one of: " + expected);
  const std::string text = value.get<std::string>();
  size_t index = 0;
  for (std::string_view c : choices) {
    if (c == text) return index;
    ++index;
  }
  return error("unknown value '" + text + "' in " + std::string(key) + " (expected one of: " + expected + ")");
}

Result<std::vector<std::string>> ConfigReader::string_list(std::string_view key, bool allow_single) const {
  const Json& value = get(key);
  std::vector<std::string> out;
  if (value.is_null()) return out;
  const std::string what = "'" + std::string(key) + "' must be a list of field names";
  if (value.is_string() && allow_single) {
    if (value.get<std::string>().empty()) return error(what);
    out.push_back(value.get<std::string>());
    return out;
  }
  if (!value.is_array()) return error(what);
  for (const Json& item : value) {
    if (!item.is_string() || item.get<std::string>().empty()) return error(what);
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ConfigReader::string_map(std::string_view key) const {
  const Json& value = get(key);
  std::vector<std::pair<std::string, std::string>> out;
  if (value.is_null()) return out;
  if (!value.is_object()) return error("'" + std::string(key) + "' must be a mapping of field names");
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (it.key().empty()) return error("'" + std::string(key) + "' has an empty field name");
    if (!it.value().is_string() || it.value().get<std::string>().empty()) {
      return error("'" + std::string(key) + "." + it.key() + "' must be a non-empty string");
    }
    out.emplace_back(it.key(), it.value().get<std::string>());
  }
  return out;
}

}  // namespace conflux::transforms::internal
