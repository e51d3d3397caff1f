#include "conflux/config/yaml_document.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace conflux::config {

std::string pointer_append(const std::string& pointer, const std::string& token) {
  std::string out = pointer + "/";
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

SourceLocation YamlDocument::locate(const std::string& pointer) const {
  std::string p = pointer;
  while (true) {
    auto it = locations.find(p);
    if (it != locations.end()) return it->second;
    if (p.empty()) return {};
    auto slash = p.rfind('/');
    p = slash == std::string::npos ? "" : p.substr(0, slash);
  }
}

SourceLocation YamlDocument::locate_key(const std::string& pointer) const {
  auto it = locations.find(pointer + "#key");
  return it != locations.end() ? it->second : locate(pointer);
}

namespace {

SourceLocation location_of(const YAML::Mark& mark) {
  if (mark.line < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

nlohmann::json plain_scalar(const std::string& s) {
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (std::regex_match(s, kInt)) {
    try {
      return std::stoll(s);
    } catch (...) {
      return s;
    }
  }
  if (std::regex_match(s, kFloat)) {
    try {
      return std::stod(s);
    } catch (...) {
      return s;
    }
  }
  return s;
}

Status convert(const YAML::Node& node, const std::string& pointer, const std::string& path, YamlDocument& doc,
               nlohmann::json& out) {
  doc.locations[pointer] = location_of(node.Mark());
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: out = nullptr; return Status::ok();
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!" and plain ones "?".
      out = node.Tag() == "!" ? nlohmann::json(node.Scalar()) : plain_scalar(node.Scalar());
      return Status::ok();
    case YAML::NodeType::Sequence: {
      out = nlohmann::json::array();
      size_t index = 0;
      for (const auto& item : node) {
        nlohmann::json value;
        CONFLUX_RETURN_IF_ERROR(convert(item, pointer_append(pointer, std::to_string(index++)), path, doc, value));
        out.push_back(std::move(value));
      }
      return Status::ok();
    }
    case YAML::NodeType::Map: {
      out = nlohmann::json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          SourceLocation at = location_of(entry.first.Mark());
          return failed_precondition(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                                     ": mapping keys must be plain names");
        }
        const std::string key = entry.first.Scalar();
        const std::string child = pointer_append(pointer, key);
        if (out.contains(key)) {
          SourceLocation at = location_of(entry.first.Mark());
          return failed_precondition(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                                     ": duplicate key '" + key + "'");
        }
        doc.locations[child + "#key"] = location_of(entry.first.Mark());
        nlohmann::json value;
        CONFLUX_RETURN_IF_ERROR(convert(entry.second, child, path, doc, value));
        out[key] = std::move(value);
      }
      return Status::ok();
    }
  }
  return Status::ok();
}

}  // namespace

Result<YamlDocument> parse_yaml(const std::string& text, const std::string& path) {
  YamlDocument doc;
  doc.path = path;
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    SourceLocation at = location_of(e.mark);
    return failed_precondition(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                               ": YAML syntax error: " + e.msg);
  }
  try {
    CONFLUX_RETURN_IF_ERROR(convert(node, "", path, doc, doc.root));
  } catch (const YAML::Exception& e) {
    return failed_precondition(path + ": YAML error: " + e.what());
  }
  return doc;
}

Result<YamlDocument> load_yaml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open pipeline file '" + path + "': " + std::strerror(errno));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return failed_precondition("cannot read pipeline file '" + path + "': " + std::strerror(errno));
  return parse_yaml(buffer.str(), path);
}

}  // namespace conflux::config
