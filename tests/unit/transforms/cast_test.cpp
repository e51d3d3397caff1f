#include <catch2/catch.hpp>

#include "support.hpp"

#include "conflux/transforms/builtin.hpp"

using conflux::Record;
using conflux::Value;
using conflux::ValueType;
using conflux::engine::Rejected;
using conflux::transforms::make_transform;
using Json = nlohmann::ordered_json;

namespace {

std::unique_ptr<conflux::engine::Transform> cast_stage(const Json& config) {
  return conflux::test::make_stage("cast", config);
}

// Casts one value of field "v"; returns the result, or the rejection reason as a string Value typed kJson.
Value cast_one(const std::string& type, Value input, Json extra = Json::object()) {
  extra["fields"] = {{"v", type}};
  auto stage = cast_stage(extra);
  std::vector<Record> records(1);
  records[0].set("v", std::move(input));
  std::vector<Rejected> rejected;
  REQUIRE(stage->apply(records, rejected).is_ok());
  if (!rejected.empty()) {
    REQUIRE(rejected[0].invalid);
    return Value::json(rejected[0].reason);
  }
  REQUIRE(records.size() == 1);
  return *records[0].find("v");
}

std::string error(const Json& config) { return conflux::test::config_error("cast", config); }

}  // namespace

TEST_CASE("cast to decimal accepts the usual separators", "[transforms][cast]") {
  const std::vector<std::pair<std::string, std::string>> cases = {{"1 234,50", "1234.50"},
                                                                  {"1,234.50", "1234.50"},
                                                                  {"-12.5", "-12.5"},
                                                                  {"1234.50", "1234.50"},
                                                                  {"1.234.567", "1234567"},
                                                                  {"1,234,567", "1234567"},
                                                                  {"1.234,5", "1234.5"},
                                                                  {"12,5", "12.5"},
                                                                  {"+7", "7"},
                                                                  {".5", "0.5"},
                                                                  {"007", "7"},
                                                                  {"-0.00", "0.00"},
                                                                  {"1\xC2\xA0"
                                                                   "234,5",
                                                                   "1234.5"},
                                                                  {"1'234.50", "1234.50"},
                                                                  {" 42 ", "42"},
                                                                  {"\xE2\x88\x92"
                                                                   "3",
                                                                   "-3"}};
  for (const auto& [input, expected] : cases) {
    INFO(input);
    Value v = cast_one("decimal", Value::string(input));
    CHECK(v.type == ValueType::kDecimal);
    CHECK(v.text == expected);
  }
  for (const char* input : {"abc", "1.2.3", "12 34", "1,,5", "1.234,567.8", "$5", "1e5", "-", "1,2,3"}) {
    INFO(input);
    CHECK(cast_one("decimal", Value::string(input)).type == ValueType::kJson);
  }
  CHECK(cast_one("decimal", Value::integer(42)).text == "42");
  CHECK(cast_one("decimal", Value::real(2.5)).text == "2.5");
  CHECK(cast_one("decimal", Value::string("1,234"), {{"decimal_separator", "."}}).text == "1234");
  CHECK(cast_one("decimal", Value::string("1.234"), {{"decimal_separator", ","}}).text == "1234");
  CHECK(cast_one("decimal", Value::string("1,234")).text == "1.234");  // auto: a lone separator is the decimal one
}

TEST_CASE("cast to int, double, bool, string", "[transforms][cast]") {
  CHECK(cast_one("int", Value::string(" 42 ")) == Value::integer(42));
  CHECK(cast_one("int", Value::string("1 000")) == Value::integer(1000));
  CHECK(cast_one("int", Value::string("12.00")) == Value::integer(12));
  CHECK(cast_one("int", Value::string("-7")) == Value::integer(-7));
  CHECK(cast_one("int", Value::real(3.0)) == Value::integer(3));
  CHECK(cast_one("int", Value::boolean(true)) == Value::integer(1));
  CHECK(cast_one("int", Value::string("12.5")).type == ValueType::kJson);
  CHECK(cast_one("int", Value::string("99999999999999999999")).type == ValueType::kJson);
  CHECK(cast_one("int", Value::real(3.5)).type == ValueType::kJson);

  CHECK(cast_one("double", Value::string("1 234,5")) == Value::real(1234.5));
  CHECK(cast_one("double", Value::string("1.5e3")) == Value::real(1500));
  CHECK(cast_one("double", Value::integer(2)) == Value::real(2));
  CHECK(cast_one("double", Value::string("nan")).type == ValueType::kJson);
  CHECK(cast_one("double", Value::string("inf")).type == ValueType::kJson);

  for (const char* yes : {"true", "TRUE", "yes", "Y", "1", "да", "Да", "ДА"}) {
    INFO(yes);
    CHECK(cast_one("bool", Value::string(yes)) == Value::boolean(true));
  }
  for (const char* no : {"false", "No", "n", "0", "нет", "НЕТ"}) {
    INFO(no);
    CHECK(cast_one("bool", Value::string(no)) == Value::boolean(false));
  }
  CHECK(cast_one("bool", Value::integer(1)) == Value::boolean(true));
  CHECK(cast_one("bool", Value::string("maybe")).type == ValueType::kJson);
  CHECK(cast_one("bool", Value::integer(2)).type == ValueType::kJson);

  CHECK(cast_one("string", Value::integer(5)) == Value::string("5"));
  CHECK(cast_one("string", Value::boolean(false)) == Value::string("false"));
  CHECK(cast_one("string", Value::string("  ")) == Value::string("  "));
}

TEST_CASE("cast to timestamp and date", "[transforms][cast]") {
  Json moscow = {{"timezone", "Europe/Moscow"}};
  CHECK(cast_one("timestamp", Value::string("05.03.2024 14:30:00"), moscow) == Value::string("2024-03-05T11:30:00Z"));
  CHECK(cast_one("timestamp", Value::integer(1709649000)) == Value::string("2024-03-05T14:30:00Z"));
  CHECK(cast_one("timestamp", Value::integer(1709649000123)) == Value::string("2024-03-05T14:30:00.123Z"));
  CHECK(cast_one("timestamp", Value::string("03/05/2024"), {{"day_first", true}}) ==
        Value::string("2024-05-03T00:00:00Z"));
  CHECK(cast_one("timestamp", Value::string("05/03/2024 14.30"), {{"timestamp_formats", {"%d/%m/%Y %H.%M"}}}) ==
        Value::string("2024-03-05T14:30:00Z"));
  CHECK(cast_one("date", Value::string("05.03.2024"), moscow) == Value::string("2024-03-05"));
  CHECK(cast_one("date", Value::string("2024-03-05T23:59:59+05:00")) == Value::string("2024-03-05"));
}

TEST_CASE("cast leaves nulls, turns blanks into null, skips absent fields", "[transforms][cast]") {
  CHECK(cast_one("int", Value::null()).is_null());
  CHECK(cast_one("int", Value::string("   ")).is_null());
  CHECK(cast_one("timestamp", Value::string("")).is_null());
  auto stage = cast_stage({{"fields", {{"absent", "int"}}}});
  std::vector<Record> records(1);
  records[0].set("other", Value::string("x"));
  std::vector<Rejected> rejected;
  REQUIRE(stage->apply(records, rejected).is_ok());
  CHECK(records.size() == 1);
  CHECK_FALSE(records[0].has("absent"));
  CHECK(stage->parallel_safe());
}

TEST_CASE("cast failures name the field and the truncated value", "[transforms][cast]") {
  CHECK(cast_one("int", Value::string("abc")).text == "cast: field 'v': cannot convert 'abc' to int");
  CHECK(cast_one("timestamp", Value::string("soon")).text == "cast: field 'v': cannot convert 'soon' to timestamp");
  std::string long_text(100, 'x');
  CHECK(cast_one("decimal", Value::string(long_text)).text ==
        "cast: field 'v': cannot convert '" + std::string(64, 'x') + "...' to decimal");
  // Cyrillic is cut on character boundaries.
  std::string cyrillic;
  for (int i = 0; i < 70; ++i) cyrillic += "ж";
  std::string expected;
  for (int i = 0; i < 64; ++i) expected += "ж";
  CHECK(cast_one("int", Value::string(cyrillic)).text ==
        "cast: field 'v': cannot convert '" + expected + "...' to int");
  // Every failing field is reported, and the record is left as it was.
  auto stage = cast_stage({{"fields", {{"a", "int"}, {"b", "bool"}, {"c", "int"}}}});
  std::vector<Record> records(1);
  records[0].set("a", Value::string("x"));
  records[0].set("b", Value::string("maybe"));
  records[0].set("c", Value::string("5"));
  std::vector<Rejected> rejected;
  REQUIRE(stage->apply(records, rejected).is_ok());
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].reason == "cast: field 'a': cannot convert 'x' to int; field 'b': cannot convert 'maybe' to bool");
  CHECK(rejected[0].record.find("a")->text == "x");
  CHECK(rejected[0].record.find("c")->text == "5");  // converted fields are not written either
}

TEST_CASE("cast config errors", "[transforms][cast]") {
  CHECK(error(Json::object()) == "cast: missing required key 'fields'");
  CHECK(error({{"fields", Json::object()}}) == "cast: 'fields' is empty");
  CHECK(error({{"fields", {{"age", "integer"}}}}) ==
        "cast: unknown type 'integer' for field 'age' in fields (expected int, decimal, double, bool, timestamp, date "
        "or string)");
  CHECK(error({{"fields", {{"age", 5}}}}) == "cast: 'fields.age' must be a non-empty string");
  CHECK(error({{"fields", {{"t", "timestamp"}}}, {"timezone", "Mars/Olympus"}})
            .find("cast: unknown time zone 'Mars/Olympus'") == 0);
  CHECK(error({{"fields", {{"t", "timestamp"}}}, {"timestamp_formats", {"%Q"}}}).find("cast: timestamp format '%Q'") ==
        0);
  CHECK(error({{"fields", {{"t", "timestamp"}}}, {"timestamp_formats", Json::array()}}) ==
        "cast: 'timestamp_formats' must be a non-empty list of patterns");
  CHECK(error({{"fields", {{"t", "timestamp"}}}, {"day_first", "yes"}}) == "cast: 'day_first' must be true or false");
  CHECK(error({{"fields", {{"t", "decimal"}}}, {"decimal_separator", ";"}})
            .find("cast: unknown value ';' in decimal_separator") == 0);
  CHECK(error({{"fields", {{"t", "int"}}}, {"timezome", "UTC"}}) ==
        "cast: unknown key 'timezome' (did you mean 'timezone'?); known keys: fields, timestamp_formats, timezone, "
        "day_first, decimal_separator");
  CHECK(error(Json::array()) == "cast: the stage config must be a mapping of keys to values");
}
