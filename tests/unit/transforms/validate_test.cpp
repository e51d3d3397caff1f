#include <catch2/catch.hpp>

#include "support.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "conflux/record/json.hpp"
#include "conflux/transforms/builtin.hpp"

using conflux::Record;
using conflux::engine::Rejected;
using conflux::transforms::make_transform;
using conflux::transforms::schema_dir;
using conflux::transforms::set_schema_dir;
using Json = nlohmann::ordered_json;

namespace {

// A scratch directory removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("conflux_validate_test_" + std::to_string(reinterpret_cast<uintptr_t>(this)) + "_" +
            std::to_string(std::rand()));
    std::filesystem::create_directories(path / "records");
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string write(const std::string& relative, const std::string& text) const {
    std::ofstream(path / relative) << text;
    return (path / relative).string();
  }
};

// Restores the process-wide schema directory.
struct SchemaDirGuard {
  ~SchemaDirGuard() { set_schema_dir(""); }
};

struct Outcome {
  std::vector<Record> kept;
  std::vector<Rejected> rejected;
};

Outcome run(const Json& config, const std::vector<Json>& records) {
  auto stage = make_transform("validate", config);
  INFO(stage.status().to_string());
  REQUIRE(stage.is_ok());
  Outcome out;
  for (const Json& r : records) out.kept.push_back(conflux::record_from_json(r));
  REQUIRE((*stage)->apply(out.kept, out.rejected).is_ok());
  return out;
}

std::string error(const Json& config) { return conflux::test::config_error("validate", config); }

}  // namespace

TEST_CASE("validate against a named record schema", "[transforms][validate]") {
  SchemaDirGuard guard;
  set_schema_dir(std::string(CONFLUX_SOURCE_DIR) + "/schemas");
  Outcome out = run({{"schema", "contact"}}, {{{"email", "ivan@example.com"}, {"first_name", "Иван"}},
                                              {{"phone", "+79123456789"}, {"created_at", "2024-03-05T11:30:00Z"}},
                                              {{"email", "Ivan@Example.com"}, {"phone", "8912"}, {"country", "ru"}},
                                              {{"first_name", "no contact"}}});
  CHECK(out.kept.size() == 2);
  REQUIRE(out.rejected.size() == 2);
  CHECK(out.rejected[0].invalid);
  // Every violation is reported, each with its JSON pointer.
  const std::string& reason = out.rejected[0].reason;
  CHECK(reason.rfind("validate: ", 0) == 0);
  CHECK(reason.find("/email: Failed to match regex") != std::string::npos);
  CHECK(reason.find("/phone: Failed to match regex") != std::string::npos);
  CHECK(reason.find("/country: Failed to match regex") != std::string::npos);
  CHECK(reason.find("; ") != std::string::npos);
  CHECK(out.rejected[1].reason.find("/: Missing required property 'email'") != std::string::npos);
  CHECK(out.rejected[1].reason.find("/: Missing required property 'phone'") != std::string::npos);
}

TEST_CASE("validate types, nulls and omit_nulls", "[transforms][validate]") {
  TempDir dir;
  std::string path = dir.write("s.json", R"({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"age": {"type": "integer", "minimum": 0}, "price": {"type": "number"}, "tags": {"type": "array"},
                   "name": {"type": "string"}},
    "required": ["age"]
  })");
  Record typed;
  typed.set("age", conflux::Value::integer(30));
  typed.set("price", conflux::Value::decimal("12.50"));
  typed.set("tags", conflux::Value::json("[\"a\"]"));
  typed.set("name", conflux::Value::null());
  auto stage = make_transform("validate", {{"schema_file", path}});
  REQUIRE(stage.is_ok());
  CHECK((*stage)->parallel_safe());
  std::vector<Record> records = {typed};
  std::vector<Rejected> rejected;
  REQUIRE((*stage)->apply(records, rejected).is_ok());
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].reason == "validate: /name: Value type not permitted by 'type' constraint.");
  Outcome out = run({{"schema_file", path}, {"omit_nulls", true}}, {conflux::record_to_json(typed)});
  CHECK(out.kept.size() == 1);
  out = run({{"schema_file", path}}, {{{"age", -1}}, {{"age", "30"}}});
  REQUIRE(out.rejected.size() == 2);
  CHECK(out.rejected[0].reason.rfind("validate: /age: Expected number greater than or equal to 0", 0) == 0);
  CHECK(out.rejected[1].reason == "validate: /age: Value type not permitted by 'type' constraint.");
}

TEST_CASE("schema directory lookup order", "[transforms][validate]") {
  SchemaDirGuard guard;
  TempDir dir;
  dir.write("records/mini.json", R"({"type": "object", "required": ["id"]})");
  set_schema_dir(dir.path.string());
  CHECK(schema_dir() == dir.path.string());
  Outcome out = run({{"schema", "mini"}}, {{{"id", 1}}, {{"x", 1}}});
  CHECK(out.kept.size() == 1);
  CHECK(out.rejected.size() == 1);
  set_schema_dir("");
  setenv("CONFLUX_SCHEMA_DIR", dir.path.c_str(), 1);
  CHECK(schema_dir() == dir.path.string());
  CHECK(make_transform("validate", {{"schema", "mini"}}).is_ok());
  unsetenv("CONFLUX_SCHEMA_DIR");
  CHECK(schema_dir() == std::string(CONFLUX_SOURCE_DIR) + "/schemas");
}

TEST_CASE("validate config errors", "[transforms][validate]") {
  SchemaDirGuard guard;
  TempDir dir;
  dir.write("records/contact.json", "{}");
  set_schema_dir(dir.path.string());
  CHECK(error(Json::object()) == "validate: give exactly one of 'schema' and 'schema_file'");
  CHECK(error({{"schema", "contact"}, {"schema_file", "x.json"}}) ==
        "validate: give exactly one of 'schema' and 'schema_file'");
  CHECK(error({{"schema", "../etc/passwd"}}) ==
        "validate: 'schema' must be a record schema name such as contact (use schema_file for a path)");
  CHECK(error({{"schema", "contacts"}}) == "validate: unknown schema 'contacts' in schema (no " + dir.path.string() +
                                               "/records/contacts.json; known: contact)");
  CHECK(error({{"schema_file", (dir.path / "missing.json").string()}}) ==
        "validate: cannot read schema file '" + (dir.path / "missing.json").string() + "'");
  std::string broken = dir.write("broken.json", "{not json");
  CHECK(error({{"schema_file", broken}}).find("validate: schema '" + broken + "' is not valid JSON") == 0);
  CHECK(error({{"schema", "contact"}, {"omit_nulls", "no"}}) == "validate: 'omit_nulls' must be true or false");
  CHECK(error({{"schema", 5}}) == "validate: 'schema' must be a non-empty string");
  CHECK(error({{"shema", "contact"}}).find("validate: unknown key 'shema' (did you mean 'schema'?)") == 0);
}
