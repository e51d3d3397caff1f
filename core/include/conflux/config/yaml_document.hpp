// A YAML file read into JSON, remembering where every value came from, so that any later check (JSON Schema,
// plugin config schema, semantic checks) can report file:line:column.
#pragma once

#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "conflux/common/status.hpp"

namespace conflux::config {

struct SourceLocation {
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based
};

struct YamlDocument {
  std::string path;
  nlohmann::json root;
  // JSON pointer of a value -> where the value starts. Keys are located at "<pointer>#key".
  std::unordered_map<std::string, SourceLocation> locations;

  // The location of `pointer`, or of its nearest located ancestor.
  SourceLocation locate(const std::string& pointer) const;
  // The location of the key whose value is at `pointer` (falls back to the value's location).
  SourceLocation locate_key(const std::string& pointer) const;
};

// Parses `text` (named `path` in messages). Plain scalars become null/bool/int/double where YAML 1.2 core says so;
// quoted scalars stay strings. Errors are kFailedPrecondition "path:line:col: message".
Result<YamlDocument> parse_yaml(const std::string& text, const std::string& path);
Result<YamlDocument> load_yaml_file(const std::string& path);

// Appends `token` to a JSON pointer, escaping '~' and '/'.
std::string pointer_append(const std::string& pointer, const std::string& token);

}  // namespace conflux::config
