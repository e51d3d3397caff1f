#include <catch2/catch.hpp>

#include "conflux/record/json.hpp"
#include "conflux/transforms/builtin.hpp"

using conflux::Record;
using conflux::Value;
using conflux::engine::Rejected;
using conflux::transforms::make_transform;
using Json = nlohmann::ordered_json;

namespace {

// Applies stage `type` to one record given as JSON; returns the record as compact JSON text.
std::string apply(const std::string& type, const Json& config, const Json& record) {
  auto stage = make_transform(type, config);
  INFO(stage.status().to_string());
  REQUIRE(stage.is_ok());
  std::vector<Record> records = {conflux::record_from_json(record)};
  std::vector<Rejected> rejected;
  REQUIRE((*stage)->apply(records, rejected).is_ok());
  REQUIRE(rejected.empty());
  REQUIRE(records.size() == 1);
  return conflux::record_to_json_text(records[0]);
}

std::string error(const std::string& type, const Json& config) {
  auto result = make_transform(type, config);
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == conflux::StatusCode::kFailedPrecondition);
  return result.status().message();
}

}  // namespace

TEST_CASE("map renames in place, copies, drops, keeps and sets", "[transforms][map]") {
  const Json input = {{"Email", "a@b.co"}, {"Phone", "+7"}, {"junk", 1}, {"city", "Москва"}, {"note", "  "}};
  CHECK(apply("map", {{"rename", {{"Email", "email"}, {"Phone", "phone"}}}}, input) ==
        R"({"email":"a@b.co","phone":"+7","junk":1,"city":"Москва","note":"  "})");
  CHECK(apply("map", {{"copy", {{"Email", "email_raw"}}}}, input) ==
        R"({"Email":"a@b.co","Phone":"+7","junk":1,"city":"Москва","note":"  ","email_raw":"a@b.co"})");
  CHECK(apply("map", {{"drop", {"junk", "absent"}}}, input) ==
        R"({"Email":"a@b.co","Phone":"+7","city":"Москва","note":"  "})");
  CHECK(apply("map", {{"keep", {"city", "Email"}}}, input) == R"({"Email":"a@b.co","city":"Москва"})");
  CHECK(apply("map", {{"set", {{"source", "csv"}, {"junk", nullptr}, {"tags", {"a", "b"}}}}}, input) ==
        R"({"Email":"a@b.co","Phone":"+7","junk":null,"city":"Москва","note":"  ","source":"csv","tags":["a","b"]})");
  CHECK(apply("map", {{"drop_blank", true}}, input) == R"({"Email":"a@b.co","Phone":"+7","junk":1,"city":"Москва"})");
}

TEST_CASE("map steps run in a fixed order whatever the key order", "[transforms][map]") {
  const Json input = {{"Email", "a@b.co"}, {"x", 1}, {"y", ""}};
  // set comes last even when written first; keep and copy see renamed names.
  CHECK(apply("map",
              {{"set", {{"source", "csv"}}},
               {"keep", {"email", "email_copy", "y"}},
               {"copy", {{"email", "email_copy"}}},
               {"rename", {{"Email", "email"}}},
               {"drop_blank", true}},
              input) == R"({"email":"a@b.co","email_copy":"a@b.co","source":"csv"})");
}

TEST_CASE("rename is simultaneous and replaces existing targets", "[transforms][map]") {
  CHECK(apply("rename", {{"fields", {{"a", "b"}, {"b", "a"}}}}, {{"a", 1}, {"b", 2}}) == R"({"b":1,"a":2})");
  CHECK(apply("rename", {{"fields", {{"a", "c"}}}}, {{"a", 1}, {"b", 2}, {"c", 3}}) == R"({"c":1,"b":2})");
  CHECK(apply("rename", {{"fields", {{"missing", "c"}}}}, {{"a", 1}}) == R"({"a":1})");
  CHECK(apply("copy", {{"fields", {{"a", "b"}, {"b", "c"}}}}, {{"a", 1}, {"b", 2}}) == R"({"a":1,"b":1,"c":2})");
}

TEST_CASE("single-purpose map types", "[transforms][map]") {
  const Json input = {{"a", 1}, {"b", "x"}};
  CHECK(apply("rename", {{"fields", {{"a", "id"}}}}, input) == R"({"id":1,"b":"x"})");
  CHECK(apply("drop", {{"fields", {"b"}}}, input) == R"({"a":1})");
  CHECK(apply("drop", {{"fields", "b"}}, input) == R"({"a":1})");
  CHECK(apply("set", {{"fields", {{"b", true}, {"c", 2.5}}}}, input) == R"({"a":1,"b":true,"c":2.5})");
  CHECK(apply("copy", {{"fields", {{"b", "b2"}}}}, input) == R"({"a":1,"b":"x","b2":"x"})");
  auto stage = make_transform("map", {{"drop", {"a"}}});
  REQUIRE(stage.is_ok());
  CHECK((*stage)->parallel_safe());
  CHECK_FALSE((*stage)->holds_records());
}

TEST_CASE("map config errors", "[transforms][map]") {
  CHECK(error("map", Json::object()) ==
        "map: nothing to do: give at least one of rename, copy, drop, keep, drop_blank, set");
  CHECK(error("map", {{"renmae", {{"a", "b"}}}}).find("map: unknown key 'renmae' (did you mean 'rename'?)") == 0);
  CHECK(error("map", {{"rename", {"a", "b"}}}) == "map: 'rename' must be a mapping of field names");
  CHECK(error("map", {{"rename", {{"a", ""}}}}) == "map: 'rename.a' must be a non-empty string");
  CHECK(error("map", {{"rename", {{"a", "x"}, {"b", "x"}}}}) == "map: 'rename': 'a' and 'b' both go to 'x'");
  CHECK(error("map", {{"copy", {{"a", "x"}, {"b", "x"}}}}) == "map: 'copy': 'a' and 'b' both go to 'x'");
  CHECK(error("map", {{"drop", "a"}}) == "map: 'drop' must be a list of field names");
  CHECK(error("map", {{"keep", {1}}}) == "map: 'keep' must be a list of field names");
  CHECK(error("map", {{"set", "x"}}) == "map: 'set' must be a mapping of field names to values");
  CHECK(error("map", {{"drop_blank", 1}}) == "map: 'drop_blank' must be true or false");
  CHECK(error("rename", Json::object()) == "rename: missing required key 'fields'");
  CHECK(error("rename", {{"fields", Json::object()}}) == "rename: 'fields' is empty");
  CHECK(error("rename", {{"fields", {{"a", "b"}}}, {"extra", 1}}).find("rename: unknown key 'extra'") == 0);
  CHECK(error("drop", {{"fields", Json::array()}}) == "drop: 'fields' is empty");
  CHECK(error("set", {{"fields", Json::object()}}) == "set: 'fields' is empty");
  CHECK(error("copy", {{"fields", {{"a", "x"}, {"b", "x"}}}}) == "copy: 'fields': 'a' and 'b' both go to 'x'");
}
