#include "conflux/transforms/expression.hpp"

#include <catch2/catch.hpp>

#include "conflux/record/json.hpp"
#include "conflux/transforms/builtin.hpp"

using conflux::Record;
using conflux::Value;
using conflux::engine::Rejected;
using conflux::transforms::Expression;
using conflux::transforms::make_transform;
using Json = nlohmann::ordered_json;

namespace {

Record sample() {
  Record r;
  r.set("country", Value::string("RU"));
  r.set("age", Value::string("25"));
  r.set("score", Value::integer(7));
  r.set("price", Value::decimal("12.50"));
  r.set("ratio", Value::real(0.5));
  r.set("vip", Value::boolean(true));
  r.set("email", Value::string("ivan@example.com"));
  r.set("name", Value::string("Фёдор"));
  r.set("blank", Value::string("   "));
  r.set("nothing", Value::null());
  r.set("utm source", Value::string("google"));
  r.set("zip", Value::string("01234"));
  return r;
}

bool eval(const std::string& text) {
  auto compiled = Expression::compile(text);
  INFO(text << " -> " << compiled.status().to_string());
  REQUIRE(compiled.is_ok());
  return compiled->matches(sample());
}

std::string compile_error(const std::string& text) {
  auto compiled = Expression::compile(text);
  INFO(text);
  REQUIRE_FALSE(compiled.is_ok());
  CHECK(compiled.status().code() == conflux::StatusCode::kFailedPrecondition);
  return compiled.status().message();
}

}  // namespace

TEST_CASE("filter expressions: comparisons and coercion", "[transforms][filter]") {
  CHECK(eval("country == 'RU'"));
  CHECK(eval("country == \"RU\""));
  CHECK_FALSE(eval("country != 'RU'"));
  CHECK(eval("age >= 18"));  // text that reads as a number compares as a number
  CHECK(eval("age > 9"));
  CHECK_FALSE(eval("age > 100"));
  CHECK(eval("score == 7 and score < 7.5 and score > -1"));
  CHECK(eval("price == 12.5 and price > 12"));
  CHECK(eval("ratio <= 0.5"));
  CHECK(eval("vip == true and vip != false"));
  CHECK(eval("zip == '01234'"));  // text against text stays text
  CHECK(eval("zip == 1234"));     // ... a number literal makes it a numeric comparison
}

TEST_CASE("filter expressions: null, missing and blank", "[transforms][filter]") {
  CHECK(eval("nothing == null"));
  CHECK(eval("missing == null"));
  CHECK_FALSE(eval("missing != null"));
  CHECK_FALSE(eval("missing < 5"));
  CHECK_FALSE(eval("missing > 5"));
  CHECK(eval("country != null"));
  CHECK(eval("exists(country) and not exists(nothing) and not exists(missing)"));
  CHECK(eval("is_blank(blank) and is_blank(nothing) and is_blank(missing) and not is_blank(country)"));
}

TEST_CASE("filter expressions: logic, lists and functions", "[transforms][filter]") {
  CHECK(eval("country == 'US' or (age >= 18 and vip == true)"));
  CHECK(eval("not (country == 'US')"));
  CHECK(eval("!(country == 'US') && (score == 7 || false)"));
  CHECK(eval("country in ['RU', 'KZ', 'BY']"));
  CHECK(eval("score in [1, 7]"));
  CHECK(eval("country not in ['US']"));
  CHECK_FALSE(eval("country in []"));
  CHECK(eval("len(name) == 5"));  // characters, not bytes
  CHECK(eval("len(missing) == 0"));
  CHECK(eval("starts_with(email, 'ivan') and ends_with(email, '.com') and contains(email, '@ex')"));
  CHECK_FALSE(eval("starts_with(missing, 'x')"));
  CHECK(eval("matches(email, '@example\\\\.(com|org)$')"));
  CHECK_FALSE(eval("matches(email, '^admin@')"));
  CHECK(eval("matches(email, '@example\\.com$')"));  // a lone backslash reaches the regex as written
  CHECK_FALSE(eval("matches(email, '@example\\.org$')"));
  CHECK(eval("contains('it\\'s', '\\'')"));  // \' is a quote
  CHECK(eval("`utm source` == 'google'"));
  CHECK(eval("COUNTRY == null"));  // field names are case-sensitive; keywords are not
  CHECK(eval("country == 'RU' AND NOT vip == false"));
  CHECK(eval("true"));
  CHECK_FALSE(eval("false"));
}

TEST_CASE("filter expression errors carry columns", "[transforms][filter]") {
  CHECK(compile_error("") == "column 1: the expression is empty");
  CHECK(compile_error("country = 'RU'") == "column 9: use == to compare");
  CHECK(compile_error("(country == 'RU'") == "column 17: expected ')' but found end of expression");
  CHECK(compile_error("country == 'RU") == "column 12: unterminated string");
  CHECK(compile_error("country ==") == "column 11: expected a field, literal or function, found end of expression");
  CHECK(compile_error("foo(x)") ==
        "column 1: unknown function 'foo' (known: exists, is_blank, len, starts_with, ends_with, contains, matches)");
  CHECK(compile_error("len(a, b) > 1") == "column 1: len() takes 1 argument, got 2");
  CHECK(compile_error("exists('x')") == "column 8: exists() takes a field name");
  CHECK(compile_error("matches(email, '(')").find("column 16: invalid regular expression") == 0);
  CHECK(compile_error("matches(email, pattern)") ==
        "column 16: matches() takes the regular expression as a string literal");
  CHECK(compile_error("email").find("column 1: the expression is a value, not a condition") == 0);
  CHECK(compile_error("email and vip == true").find("column 1: a value is used as a condition before 'and'") == 0);
  CHECK(compile_error("country in 'RU'") == "column 12: expected '[' after 'in'");
  CHECK(compile_error("country in ['RU' 'KZ']") == "column 18: expected ']' or ',' in the list, found string 'KZ'");
  CHECK(compile_error("имя == 'Ф' and ?") == "column 16: unexpected character '?'");  // columns count characters
  CHECK(compile_error("a == 1 b") == "column 8: unexpected 'b'");
  auto repeated = [](char c, size_t count, const char* middle, char closing = '\0') {
    std::string text(count, c);
    text.append(middle);
    if (closing != '\0') text.append(count, closing);
    return text;
  };
  CHECK(compile_error(repeated('(', 100000, "true")).find("nested too deeply") != std::string::npos);
  CHECK(compile_error(repeated('!', 1000, "true")).find("nested too deeply") != std::string::npos);
  CHECK(eval(repeated('(', 50, "true", ')')));
}

TEST_CASE("filter stage keeps matches and drops the rest by rule", "[transforms][filter]") {
  auto stage = make_transform("filter", {{"expr", "country == 'RU' and not is_blank(email)"}});
  REQUIRE(stage.is_ok());
  CHECK((*stage)->parallel_safe());
  std::vector<Record> records = {conflux::record_from_json({{"country", "RU"}, {"email", "a@b.co"}}),
                                 conflux::record_from_json({{"country", "US"}, {"email", "c@d.co"}}),
                                 conflux::record_from_json({{"country", "RU"}, {"email", ""}})};
  std::vector<Rejected> rejected;
  REQUIRE((*stage)->apply(records, rejected).is_ok());
  CHECK(records.size() == 1);
  REQUIRE(rejected.size() == 2);
  CHECK_FALSE(rejected[0].invalid);
  CHECK(rejected[0].reason == "filter: does not match: country == 'RU' and not is_blank(email)");

  auto broken = make_transform("filter", {{"expr", "country = 'RU'"}});
  REQUIRE_FALSE(broken.is_ok());
  CHECK(broken.status().message() == "filter: expr: column 9: use == to compare");
  CHECK(make_transform("filter", Json::object()).status().message() == "filter: missing required key 'expr'");
  CHECK(make_transform("filter", {{"expr", 5}}).status().message() == "filter: 'expr' must be a non-empty string");
  CHECK(make_transform("filter", {{"exp", "true"}}).status().message().find("filter: unknown key 'exp'") == 0);
}
