#include "conflux/common/json_schema.hpp"

#include <catch2/catch.hpp>

using namespace conflux;

TEST_CASE("a malformed schema is an error, not a crash", "[json_schema]") {
  auto schema = JsonSchema::compile_text(R"({"type": 5})", "bad");
  REQUIRE(!schema);
  CHECK(schema.status().code() == StatusCode::kFailedPrecondition);
  CHECK(schema.status().message().find("bad") != std::string::npos);
}

TEST_CASE("every violation is reported with its pointer, wrappers folded away", "[json_schema]") {
  auto schema = JsonSchema::compile_text(R"({"type": "object", "required": ["a"],
      "properties": {"b": {"type": "integer"}, "c": {"type": "array", "items": {"type": "string"}}}})", "s");
  REQUIRE(schema);
  auto violations = (*schema)->validate(nlohmann::json::parse(R"({"b": "x", "c": ["ok", 3]})"));
  std::string all = join_violations(violations);
  CHECK(all.find("/: Missing required property 'a'") != std::string::npos);
  CHECK(all.find("/b:") != std::string::npos);
  CHECK(all.find("/c/1:") != std::string::npos);
  CHECK(all.find("Failed to validate against schema associated with property") == std::string::npos);
  CHECK((*schema)->validate(nlohmann::json::parse(R"({"a": 1})")).empty());
}
