#include "conflux/transforms/builtin.hpp"

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>

#include "conflux/identity/stage.hpp"
#include "stages.hpp"

namespace conflux::transforms {

namespace {

using internal::Json;

struct StageType {
  const char* name;
  std::function<internal::TransformResult(const Json&)> make;
  std::function<Json()> schema;
};

// Sorted by name; builtin_transform_types() relies on it.
const std::vector<StageType>& stage_types() {
  static const std::vector<StageType> kTypes = {
      {"cast", internal::make_cast, internal::cast_schema},
      {"clean", internal::make_clean, internal::clean_schema},
      {"copy", [](const Json& c) { return internal::make_map("copy", c); },
       [] { return internal::map_schema("copy"); }},
      {"dedupe", internal::make_dedupe, internal::dedupe_schema},
      {"drop", [](const Json& c) { return internal::make_map("drop", c); },
       [] { return internal::map_schema("drop"); }},
      {"email", internal::make_email, internal::email_schema},
      {"filter", internal::make_filter, internal::filter_schema},
      {"hash_pii", internal::make_hash_pii, internal::hash_pii_schema},
      {"identity",
       [](const Json& c) -> internal::TransformResult {
         return identity::make_identity_stage(nlohmann::json::parse(c.dump()), schema_dir());
       },
       identity::identity_stage_schema},
      {"map", [](const Json& c) { return internal::make_map("map", c); }, [] { return internal::map_schema("map"); }},
      {"phone", internal::make_phone, internal::phone_schema},
      {"rename", [](const Json& c) { return internal::make_map("rename", c); },
       [] { return internal::map_schema("rename"); }},
      {"set", [](const Json& c) { return internal::make_map("set", c); }, [] { return internal::map_schema("set"); }},
      {"validate", internal::make_validate, internal::validate_schema},
  };
  return kTypes;
}

std::mutex& schema_dir_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::string& explicit_schema_dir() {
  static std::string dir;
  return dir;
}

}  // namespace

namespace internal {

Json object_schema(const std::string& title, const std::string& description, Json properties, Json required) {
  Json schema = Json::object();
  schema["$schema"] = "http://json-schema.org/draft-07/schema#";
  schema["title"] = title;
  schema["description"] = description;
  schema["type"] = "object";
  schema["properties"] = std::move(properties);
  if (!required.empty()) schema["required"] = std::move(required);
  schema["additionalProperties"] = false;
  return schema;
}

}  // namespace internal

const std::vector<std::string>& builtin_transform_types() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const StageType& type : stage_types()) names.emplace_back(type.name);
    return names;
  }();
  return kNames;
}

Result<std::unique_ptr<engine::Transform>> make_transform(const std::string& type,
                                                          const nlohmann::ordered_json& config) {
  for (const StageType& candidate : stage_types()) {
    if (type != candidate.name) continue;
    // Factories report problems as Status; anything thrown (a library surprise) is converted here, at the edge.
    try {
      return candidate.make(config);
    } catch (const std::exception& e) {
      return failed_precondition(type + ": " + e.what());
    }
  }
  return not_found("unknown transform type '" + type + "'");
}

const nlohmann::ordered_json& builtin_transform_schemas() {
  static const Json kSchemas = [] {
    Json schemas = Json::object();
    for (const StageType& type : stage_types()) schemas[type.name] = type.schema();
    return schemas;
  }();
  return kSchemas;
}

void set_schema_dir(std::string dir) {
  std::lock_guard<std::mutex> lock(schema_dir_mutex());
  explicit_schema_dir() = std::move(dir);
}

std::string schema_dir() {
  {
    std::lock_guard<std::mutex> lock(schema_dir_mutex());
    if (!explicit_schema_dir().empty()) return explicit_schema_dir();
  }
  if (const char* env = std::getenv("CONFLUX_SCHEMA_DIR"); env != nullptr && *env != '\0') return env;
  // Literal concatenation: GCC 12's -Warray-bounds misfires on std::string += of these short literals.
  const std::string source_dir = CONFLUX_SOURCE_DIR "/schemas";
  std::error_code error;
  if (std::filesystem::is_directory(source_dir, error)) return source_dir;
  return CONFLUX_INSTALL_DATA_DIR "/schemas";
}

}  // namespace conflux::transforms
