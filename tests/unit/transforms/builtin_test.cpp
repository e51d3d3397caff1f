#include "conflux/transforms/builtin.hpp"

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "conflux/common/json_schema.hpp"

using conflux::transforms::builtin_transform_schemas;
using conflux::transforms::builtin_transform_types;
using conflux::transforms::make_transform;
using Json = nlohmann::ordered_json;

namespace {

// Plain YAML scalars become bool/int/double/null where they read so; quoted ones stay text.
Json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = yaml_to_json(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string text = node.Scalar();
      if (node.Tag() == "!") return text;
      if (text == "true" || text == "false") return text == "true";
      if (text == "null" || text == "~") return nullptr;
      Json number = Json::parse(text, nullptr, false);
      if (number.is_number()) return number;
      return text;
    }
    default: return nullptr;
  }
}

std::vector<std::string> yaml_blocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  std::istringstream in(markdown);
  std::string line;
  std::string block;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```yaml") {
      inside = true;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      blocks.push_back(block);
    } else if (inside) {
      block += line + "\n";
    }
  }
  return blocks;
}

std::shared_ptr<const conflux::JsonSchema> schema_for(const std::string& type) {
  auto compiled = conflux::JsonSchema::compile(nlohmann::json(builtin_transform_schemas()[type]), type);
  INFO(type << ": " << compiled.status().to_string());
  REQUIRE(compiled.is_ok());
  return compiled.value();
}

}  // namespace

TEST_CASE("builtin types: list, factory, unknown types", "[transforms][builtin]") {
  const std::vector<std::string>& types = builtin_transform_types();
  CHECK(types == std::vector<std::string>{"cast", "clean", "copy", "dedupe", "drop", "email", "filter", "hash_pii", "identity",
                                          "map", "phone", "rename", "set", "validate"});
  CHECK(std::is_sorted(types.begin(), types.end()));
  auto unknown = make_transform("uppercase", Json::object());
  REQUIRE_FALSE(unknown.is_ok());
  CHECK(unknown.status().code() == conflux::StatusCode::kNotFound);
  CHECK(unknown.status().message() == "unknown transform type 'uppercase'");
}

TEST_CASE("every type has a draft-07 schema that rejects unknown keys, like the factory", "[transforms][builtin]") {
  const Json& schemas = builtin_transform_schemas();
  REQUIRE(schemas.size() == builtin_transform_types().size());
  for (const std::string& type : builtin_transform_types()) {
    INFO(type);
    REQUIRE(schemas.contains(type));
    CHECK(schemas[type]["$schema"] == "http://json-schema.org/draft-07/schema#");
    CHECK(schemas[type]["additionalProperties"] == false);
    auto schema = schema_for(type);
    CHECK_FALSE(schema->validate({{"no_such_key", 1}}).empty());
    auto made = make_transform(type, {{"no_such_key", 1}});
    REQUIRE_FALSE(made.is_ok());
    CHECK(made.status().message().find(type + ": unknown key 'no_such_key'") == 0);
  }
}

TEST_CASE("every YAML example in docs/transforms.md builds and matches its schema", "[transforms][builtin]") {
  conflux::transforms::set_schema_dir(std::string(CONFLUX_SOURCE_DIR) + "/schemas");
  std::ifstream file(std::string(CONFLUX_SOURCE_DIR) + "/docs/transforms.md");
  REQUIRE(file);
  std::stringstream text;
  text << file.rdbuf();
  std::set<std::string> documented;
  for (const std::string& block : yaml_blocks(text.str())) {
    YAML::Node stages = YAML::Load(block);
    REQUIRE(stages.IsSequence());
    for (const auto& stage : stages) {
      Json config = yaml_to_json(stage);
      const std::string type = config["type"];
      INFO("example '" << config["name"] << "' (" << type << "): " << config.dump());
      for (const char* engine_key : {"name", "type", "on_invalid"}) config.erase(engine_key);
      auto made = make_transform(type, config);
      INFO(made.status().to_string());
      CHECK(made.is_ok());
      CHECK(schema_for(type)->validate(nlohmann::json(config)).empty());
      documented.insert(type);
    }
  }
  conflux::transforms::set_schema_dir("");
  for (const std::string& type : builtin_transform_types()) {
    INFO("no YAML example for " << type);
    CHECK(documented.count(type) == 1);
  }
}

TEST_CASE("schemas accept the configs the factory accepts and reject bad values", "[transforms][builtin]") {
  const std::vector<std::pair<std::string, Json>> good = {
      {"cast", {{"fields", {{"a", "int"}}}, {"timestamp_formats", {"auto"}}, {"decimal_separator", ","}}},
      {"clean", {{"fields", "name"}, {"case", "title"}}},
      {"drop", {{"fields", "x"}}},
      {"dedupe", {{"key", "email"}}},
      {"hash_pii", {{"fields", {{"email", "sha256"}, {"x", {{"normalise", "raw"}}}}}, {"in_place", true}}},
      {"phone", {{"default_region", "ru"}}},
      {"validate", {{"schema_file", "/tmp/x.json"}}},
  };
  for (const auto& [type, config] : good) {
    INFO(type << " " << config.dump());
    CHECK(schema_for(type)->validate(nlohmann::json(config)).empty());
  }
  const std::vector<std::pair<std::string, Json>> bad = {
      {"cast", {{"fields", {{"a", "integer"}}}}},
      {"cast", Json::object()},
      {"clean", {{"case", "camel"}}},
      {"dedupe", {{"key", "email"}, {"keep", "newest"}}},
      {"hash_pii", {{"fields", {{"email", "md5"}}}}},
      {"phone", {{"output", "e.164"}}},
      {"validate", Json::object()},
      {"validate", {{"schema", "a"}, {"schema_file", "b"}}},
      {"filter", Json::object()},
      {"map", Json::object()},
  };
  for (const auto& [type, config] : bad) {
    INFO(type << " " << config.dump());
    CHECK_FALSE(schema_for(type)->validate(nlohmann::json(config)).empty());
    CHECK_FALSE(make_transform(type, config).is_ok());
  }
}
