// Problems found in a user's file, each pinned to file:line:column, plus the "did you mean" helper.
#pragma once

#include <string>
#include <vector>

#include "conflux/config/yaml_document.hpp"

namespace conflux::config {

struct Diagnostic {
  std::string file;
  SourceLocation at;
  std::string message;
  // "file:line:col: message" (line/col omitted when unknown).
  std::string to_string() const;
};

// The candidate closest to `name` by edit distance when it is close enough to be a likely typo, else "".
std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "" - appended to unknown-name messages.
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates);

size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace conflux::config
