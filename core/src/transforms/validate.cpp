// validate: checks each record against a JSON Schema (draft-07) compiled once at construction; a record that fails
// is invalid, with every violation in the reason ("validate: /email: ...; /: ...").
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config_reader.hpp"
#include "conflux/common/json_schema.hpp"
#include "conflux/record/json.hpp"
#include "conflux/transforms/builtin.hpp"
#include "stages.hpp"

namespace conflux::transforms::internal {

namespace {

// The record layer's JSON form of a value (conflux/record/json.hpp), as the unordered json valijson reads.
nlohmann::json value_to_document(const Value& value) { return nlohmann::json(value_to_json(value)); }

class ValidateTransform final : public engine::RecordTransform {
 public:
  ValidateTransform(std::shared_ptr<const JsonSchema> schema, bool omit_nulls)
      : schema_(std::move(schema)), omit_nulls_(omit_nulls) {}

  Verdict process(Record& record, std::string& reason) const override {
    nlohmann::json document = nlohmann::json::object();
    for (const Field& field : record.fields()) {
      if (omit_nulls_ && field.value.is_null()) continue;
      document[field.name] = value_to_document(field.value);
    }
    std::vector<SchemaViolation> violations = schema_->validate(document);
    if (violations.empty()) return Verdict::kKeep;
    reason = "validate: " + join_violations(violations);
    return Verdict::kInvalid;
  }

 private:
  std::shared_ptr<const JsonSchema> schema_;
  bool omit_nulls_;
};

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return static_cast<bool>(in) || in.eof();
}

std::string known_schemas(const std::string& records_dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(records_dir, error)) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

TransformResult make_validate(const Json& config) {
  ConfigReader reader("validate", config);
  CONFLUX_RETURN_IF_ERROR(reader.check_keys({"schema", "schema_file", "omit_nulls"}));
  bool omit_nulls = false;
  CONFLUX_TX_ASSIGN(omit_nulls, reader.boolean("omit_nulls", false));
  if (reader.has("schema") == reader.has("schema_file"))
    return reader.error("give exactly one of 'schema' and 'schema_file'");
  std::string path;
  std::string label;
  if (reader.has("schema")) {
    CONFLUX_TX_ASSIGN(label, reader.required_string("schema"));
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
        return reader.error("'schema' must be a record schema name such as contact (use schema_file for a path)");
      }
    }
    const std::string records_dir = schema_dir() + "/records";
    path = records_dir + "/" + label + ".json";
    if (!std::filesystem::exists(path)) {
      std::string known = known_schemas(records_dir);
      return reader.error("unknown schema '" + label + "' in schema (no " + path +
                          "; known: " + (known.empty() ? "none" : known) + ")");
    }
  } else {
    CONFLUX_TX_ASSIGN(path, reader.required_string("schema_file"));
    label = path;
  }
  std::string text;
  if (!read_file(path, text)) return reader.error("cannot read schema file '" + path + "'");
  Result<std::shared_ptr<const JsonSchema>> schema = JsonSchema::compile_text(text, label);
  if (!schema.is_ok()) return reader.error(schema.status().message());
  return std::unique_ptr<engine::Transform>(new ValidateTransform(std::move(schema).value(), omit_nulls));
}

Json validate_schema() {
  Json schema = object_schema(
      "validate",
      "Checks every record against a JSON Schema (draft-07); a record that fails is invalid and its reason lists "
      "every violation as '<json pointer>: <message>' joined with '; ' ('/' is the record itself).",
      {{"schema",
        {{"type", "string"},
         {"pattern", "^[A-Za-z0-9_-]+$"},
         {"description", "Name of a record schema: schemas/records/<name>.json, e.g. contact."}}},
       {"schema_file", {{"type", "string"}, {"minLength", 1}, {"description", "Path of a JSON Schema file."}}},
       {"omit_nulls",
        {{"type", "boolean"},
         {"default", false},
         {"description", "Validate as if fields whose value is null were absent."}}}});
  schema["oneOf"] =
      Json::array({{{"required", Json::array({"schema"})}}, {{"required", Json::array({"schema_file"})}}});
  return schema;
}

}  // namespace conflux::transforms::internal
