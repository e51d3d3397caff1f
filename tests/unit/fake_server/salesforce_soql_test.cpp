// The fake Salesforce's SOQL subset (tests/support/fake_server/salesforce_soql.hpp): what it parses, what it refuses,
// and that it evaluates the connector's tie-safe resume condition and ORDER BY as Salesforce does.
#include "fake_server/salesforce_soql.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace soql = conflux::test::fake::soql;
using Json = nlohmann::json;

namespace {

std::string canonical(const std::string& name) {
  for (const char* known : {"Id", "Email", "SystemModstamp", "HasOptedOutOfEmail", "NumberOfEmployees", "Birthdate"}) {
    std::string a = name, b = known;
    std::transform(a.begin(), a.end(), a.begin(), ::tolower);
    std::transform(b.begin(), b.end(), b.begin(), ::tolower);
    if (a == b) return known;
  }
  return name;
}
soql::FieldType type_of(const std::string& name) {
  if (name == "Id") return soql::FieldType::kId;
  if (name == "SystemModstamp") return soql::FieldType::kDateTime;
  if (name == "HasOptedOutOfEmail") return soql::FieldType::kBool;
  if (name == "NumberOfEmployees") return soql::FieldType::kNumber;
  if (name == "Birthdate") return soql::FieldType::kDate;
  return soql::FieldType::kText;
}
bool where(const std::string& condition, const Json& record) {
  soql::Query q = soql::parse("SELECT Id FROM Contact WHERE " + condition);
  return soql::matches(*q.where, record, canonical, type_of);
}

}  // namespace

TEST_CASE("soql: SELECT, FROM, WHERE, ORDER BY, LIMIT parse; keywords are case-insensitive", "[fake][soql]") {
  soql::Query q = soql::parse(
      "select Id, Email from Contact where Email != null order by SystemModstamp asc, Id desc nulls last limit 5");
  CHECK(q.fields == std::vector<std::string>{"Id", "Email"});
  CHECK(q.object == "Contact");
  REQUIRE(q.where);
  REQUIRE(q.order.size() == 2);
  CHECK(q.order[0].ascending);
  CHECK(q.order[0].nulls_first);
  CHECK_FALSE(q.order[1].ascending);
  CHECK_FALSE(q.order[1].nulls_first);
  CHECK(q.limit == 5u);
  CHECK(soql::referenced_fields(q) == std::vector<std::string>{"Id", "Email", "Email", "SystemModstamp", "Id"});
}

TEST_CASE("soql: malformed queries are refused, never answered wrongly", "[fake][soql]") {
  for (const char* bad : {"", "SELECT FROM Contact", "SELECT Id Contact", "SELECT Id FROM Contact WHERE",
                          "SELECT Id FROM Contact WHERE Email = 'open", "SELECT Id FROM Contact WHERE Email = 'a\\x'",
                          "SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3",  // AND/OR mixed without ()
                          "SELECT Id FROM Contact WHERE Email LIKE 'a%'", "SELECT Account.Name FROM Contact",
                          "SELECT Id FROM Contact WHERE CreatedDate > TODAY", "SELECT Id FROM Contact LIMIT x",
                          "SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-01T00:00:00",  // no zone
                          "SELECT Id FROM Contact ORDER BY", "SELECT Id FROM Contact extra"}) {
    INFO(bad);
    CHECK_THROWS_AS(soql::parse(bad), soql::SyntaxError);
  }
}

TEST_CASE("soql: comparisons by field type", "[fake][soql]") {
  const Json r = {{"Id", "0035g0000000002AAA"},
                  {"Email", "Ivan@Example.com"},
                  {"SystemModstamp", "2024-03-05T11:22:10.123+0000"},
                  {"HasOptedOutOfEmail", false},
                  {"NumberOfEmployees", 40},
                  {"Birthdate", "1990-05-01"},
                  {"Phone", nullptr}};
  // Text compares case-insensitively; ids byte-wise.
  CHECK(where("Email = 'ivan@example.com'", r));
  CHECK(where("email IN ('x@y.z', 'IVAN@EXAMPLE.COM')", r));
  CHECK_FALSE(where("Email NOT IN ('ivan@example.com')", r));
  CHECK(where("Id > '0035g0000000001AAA'", r));
  CHECK_FALSE(where("Id = '0035G0000000002AAA'", r));
  // dateTime literals: with or without a fraction, with an offset.
  CHECK(where("SystemModstamp = 2024-03-05T11:22:10.123Z", r));
  CHECK(where("SystemModstamp > 2024-03-05T11:22:10Z", r));
  CHECK(where("SystemModstamp < 2024-03-05T14:22:10.124+03:00", r));
  CHECK(where("HasOptedOutOfEmail = false", r));
  CHECK(where("NumberOfEmployees >= 40 AND NumberOfEmployees < 41.5", r));
  CHECK(where("Birthdate > 1990-01-01", r));
  // null: only = and != test it; a null value matches != and nothing else.
  CHECK(where("Phone = null", r));
  CHECK_FALSE(where("Email = null", r));
  CHECK(where("Phone != '1'", r));
  CHECK_FALSE(where("Phone = '1'", r));
  CHECK(where("NOT (Phone != null)", r));
  // A literal of the wrong type is Salesforce's error, not a silent false.
  CHECK_THROWS_AS(where("SystemModstamp > '2024-03-05T11:22:10Z'", r), std::invalid_argument);
  CHECK_THROWS_AS(where("NumberOfEmployees = '40'", r), std::invalid_argument);
  CHECK_THROWS_AS(where("Email = 5", r), std::invalid_argument);
}

TEST_CASE("soql: the connector's resume condition and order pick up exactly the records after the cursor", "[fake][soql]") {
  // Three records share one SystemModstamp (one collection request); the cursor sits on the middle one.
  std::vector<Json> rows = {
      {{"Id", "0035g0000000003AAA"}, {"SystemModstamp", "2024-03-05T11:22:10.000+0000"}},
      {{"Id", "0035g0000000001AAA"}, {"SystemModstamp", "2024-03-05T11:22:10.000+0000"}},
      {{"Id", "0035g0000000009AAA"}, {"SystemModstamp", "2024-03-05T11:22:09.999+0000"}},
      {{"Id", "0035g0000000002AAA"}, {"SystemModstamp", "2024-03-05T11:22:10.000+0000"}},
      {{"Id", "0035g0000000000AAA"}, {"SystemModstamp", "2024-03-05T11:22:10.001+0000"}},
  };
  soql::Query q = soql::parse(
      "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > 2024-03-05T11:22:10.000Z OR "
      "(SystemModstamp = 2024-03-05T11:22:10.000Z AND Id > '0035g0000000002AAA') ORDER BY SystemModstamp ASC, Id ASC");
  std::vector<Json> picked;
  for (const auto& r : rows) {
    if (soql::matches(*q.where, r, canonical, type_of)) picked.push_back(r);
  }
  std::stable_sort(picked.begin(), picked.end(), [&](const Json& a, const Json& b) {
    return soql::compare_records(q.order, a, b, canonical, type_of) < 0;
  });
  REQUIRE(picked.size() == 2);
  CHECK(picked[0]["Id"] == "0035g0000000003AAA");
  CHECK(picked[1]["Id"] == "0035g0000000000AAA");
}

TEST_CASE("soql: Salesforce's dateTime form round-trips", "[fake][soql]") {
  CHECK(soql::format_datetime(1709637730123) == "2024-03-05T11:22:10.123+0000");
  CHECK(soql::parse_datetime("2024-03-05T11:22:10.123+0000") == 1709637730123);
  CHECK(soql::parse_datetime("2024-03-05T11:22:10.123Z") == 1709637730123);
  CHECK(soql::parse_datetime("2024-03-05T14:22:10.123+03:00") == 1709637730123);
  CHECK_FALSE(soql::parse_datetime("1709637730123"));
  CHECK_FALSE(soql::parse_datetime("yesterday"));
}
