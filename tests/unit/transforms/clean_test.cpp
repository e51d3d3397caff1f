#include <catch2/catch.hpp>

#include "support.hpp"

#include "conflux/transforms/builtin.hpp"

using conflux::Record;
using conflux::Value;
using conflux::engine::Rejected;
using conflux::transforms::make_transform;
using Json = nlohmann::ordered_json;

namespace {

// Cleans one string value of field "v" with `config`.
std::string clean(const Json& config, const std::string& input) {
  auto stage = conflux::test::make_stage("clean", config);
  std::vector<Record> records(1);
  records[0].set("v", Value::string(input));
  std::vector<Rejected> rejected;
  REQUIRE(stage->apply(records, rejected).is_ok());
  REQUIRE(records.size() == 1);
  return records[0].find("v")->text;
}

std::string error(const Json& config) { return conflux::test::config_error("clean", config); }

}  // namespace

TEST_CASE("clean trims by default, Unicode white space included", "[transforms][clean]") {
  CHECK(clean(Json::object(), "  Иван \t") == "Иван");
  CHECK(clean(Json::object(), "\xC2\xA0Анна\xE2\x80\xAF") == "Анна");  // NBSP, narrow NBSP
  CHECK(clean({{"trim", false}}, "  x ") == "  x ");
  CHECK(clean(Json::object(), "a  b") == "a  b");
}

TEST_CASE("clean collapses spaces and changes case in any script", "[transforms][clean]") {
  CHECK(clean({{"collapse_spaces", true}},
              " a \t\n b\xC2\xA0\xC2\xA0"
              "c ") == "a b c");
  CHECK(clean({{"case", "lower"}}, "ИВАН Petrov") == "иван petrov");
  CHECK(clean({{"case", "upper"}}, "ёлка straße") == "ЁЛКА STRASSE");
  CHECK(clean({{"case", "title"}}, "иВАН иВАНОВИЧ петров-водкин") == "Иван Иванович Петров-Водкин");
  CHECK(clean({{"case", "title"}}, "anna-lena o'neil") == "Anna-Lena O'neil");
  CHECK(clean({{"case", "title"}}, "ёлкин") == "Ёлкин");
  CHECK(clean({{"case", "none"}}, "MiXeD") == "MiXeD");
}

TEST_CASE("clean NFC composes and removes control characters", "[transforms][clean]") {
  // "е" + COMBINING DIAERESIS -> "ё"
  CHECK(clean({{"nfc", true}}, "\xD0\xB5\xCC\x88") == "ё");
  CHECK(clean({{"nfc", true}}, "Фе\xCC\x88доров") == "Фёдоров");
  CHECK(clean({{"nfc", false}}, "\xD0\xB5\xCC\x88") == "\xD0\xB5\xCC\x88");
  CHECK(clean({{"nfc", true}, {"case", "upper"}}, "\xD0\xB5\xCC\x88") == "Ё");
  CHECK(clean({{"remove_control", true}},
              "a\x01"
              "b\x7f"
              "c\tok") == "abc\tok");
  CHECK(clean({{"remove_control", true}}, "\xEF\xBB\xBFName\xE2\x80\x8B") == "Name");  // BOM, zero-width space
  CHECK(clean({{"remove_control", true}}, "x\xC2\x85y") == "xy");                      // C1 control NEL
}

TEST_CASE("clean empty_to_null turns texts left empty into null", "[transforms][clean]") {
  auto stage = make_transform("clean", {{"empty_to_null", true}});
  REQUIRE(stage.is_ok());
  std::vector<Record> records(1);
  records[0].set("blank", Value::string(" \t\xC2\xA0"));
  records[0].set("empty", Value::string(""));
  records[0].set("text", Value::string(" x "));
  std::vector<Rejected> rejected;
  REQUIRE((*stage)->apply(records, rejected).is_ok());
  CHECK(records[0].find("blank")->is_null());
  CHECK(records[0].find("empty")->is_null());
  CHECK(records[0].find("text")->text == "x");
  CHECK(clean({{"empty_to_null", false}}, "  ").empty());
  CHECK(clean({{"trim", false}, {"empty_to_null", true}}, "  ") == "  ");  // not empty: nothing trimmed it
}

TEST_CASE("clean touches only string values and the listed fields", "[transforms][clean]") {
  auto stage = make_transform("clean", {{"fields", {"a"}}, {"case", "upper"}});
  REQUIRE(stage.is_ok());
  std::vector<Record> records(1);
  records[0].set("a", Value::string(" x "));
  records[0].set("b", Value::string(" y "));
  records[0].set("n", Value::integer(5));
  std::vector<Rejected> rejected;
  REQUIRE((*stage)->apply(records, rejected).is_ok());
  CHECK(records[0].find("a")->text == "X");
  CHECK(records[0].find("b")->text == " y ");
  CHECK(*records[0].find("n") == Value::integer(5));

  auto all = make_transform("clean", {{"case", "lower"}});
  REQUIRE(all.is_ok());
  records[0].set("j", Value::json("[\"A\"]"));
  REQUIRE((*all)->apply(records, rejected).is_ok());
  CHECK(records[0].find("b")->text == "y");
  CHECK(records[0].find("j")->text == "[\"A\"]");
  CHECK((*all)->parallel_safe());
}

TEST_CASE("clean leaves invalid UTF-8 bytes alone", "[transforms][clean]") {
  const std::string broken = " \xFF\xFE Ab ";
  CHECK(clean({{"case", "title"}, {"nfc", true}}, broken) == "\xFF\xFE Ab");
  CHECK(clean({{"case", "lower"}}, broken) == "\xFF\xFE Ab");
}

TEST_CASE("clean config errors", "[transforms][clean]") {
  CHECK(error({{"case", "camel"}})
            .find("clean: unknown value 'camel' in case (expected one of: none, lower, upper, title)") == 0);
  CHECK(error({{"trim", "yes"}}) == "clean: 'trim' must be true or false");
  CHECK(error({{"fields", Json::array()}}) == "clean: 'fields' is empty (leave it out to clean every string field)");
  CHECK(error({{"fields", {1}}}) == "clean: 'fields' must be a list of field names");
  CHECK(error({{"collapse", true}}).find("clean: unknown key 'collapse'") == 0);
  CHECK(make_transform("clean", {{"fields", "name"}}).is_ok());
}
