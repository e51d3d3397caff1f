#include <catch2/catch.hpp>

#include "conflux/record/json.hpp"

using conflux::Record;
using conflux::Value;

namespace {
// What nlohmann's dump writes for the same record: the reference record_to_json_text must match byte for byte.
std::string reference(const Record& record) {
  return conflux::record_to_json(record).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}
}  // namespace

TEST_CASE("record_to_json_text writes what nlohmann's dump writes, without building JSON", "[record][json]") {
  Record r;
  r.append("plain", Value::string("Ivan Petrov"));
  r.append("quotes \"and\" \\slashes\\", Value::string("a\"b\\c/d"));
  r.append("controls", Value::string(std::string("tab\tnl\ncr\rbs\bff\fnul") + std::string(1, '\0') + "\x01\x1f\x7f"));
  r.append("cyrillic", Value::string("Пётр Иванов, Екатеринбург"));
  r.append("four_bytes", Value::string("emoji \xF0\x9F\x98\x80 end"));
  r.append("null", Value::null());
  r.append("yes", Value::boolean(true));
  r.append("no", Value::boolean(false));
  r.append("int", Value::integer(-9007199254740993LL));
  r.append("double", Value::real(0.1));
  r.append("decimal", Value::decimal("-12.50"));
  r.append("json", Value::json(R"({"a":[1,2,{"b":"é"}],"c":null})"));
  r.append("empty", Value::string(""));
  CHECK(conflux::record_to_json_text(r) == reference(r));
  CHECK(conflux::record_to_json_text(Record()) == "{}");
}

TEST_CASE("record_to_json_text replaces each invalid UTF-8 byte by U+FFFD and stays valid JSON", "[record][json]") {
  const std::string fffd = "\xEF\xBF\xBD";
  for (const auto& [bad, expected] : std::vector<std::pair<std::string, std::string>>{
           {"a\xFFz", "a" + fffd + "z"},                 // never valid
           {"a\x80z", "a" + fffd + "z"},                 // stray continuation byte
           {"\xC0\xAF", fffd + fffd},                    // overlong '/'
           {"\xED\xA0\x80", fffd + fffd + fffd},         // UTF-16 surrogate
           {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
           {"cut \xD0", "cut " + fffd}}) {             // sequence cut at the end
    INFO(expected);
    Record r;
    r.append("v", Value::string(bad));
    const std::string text = conflux::record_to_json_text(r);
    CHECK(text == "{\"v\":\"" + expected + "\"}");
    CHECK_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded());
  }
}

TEST_CASE("append_json_string escapes a lone string as record_to_json_text does", "[record][json]") {
  std::string out = "x=";
  conflux::append_json_string(out, "say \"hi\"\n");
  CHECK(out == "x=\"say \\\"hi\\\"\\n\"");
}
