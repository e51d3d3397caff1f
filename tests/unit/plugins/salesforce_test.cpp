// Unit tests of the salesforce connector's pure helpers (plugins/crm/salesforce/salesforce_model.hpp): the cursor
// and its order, Salesforce's times, SOQL text, URL budgets of lookups, error texts, chunking and sync-mode plans.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "../../../plugins/crm/salesforce/salesforce_model.hpp"

namespace sf = conflux::plugins::salesforce;
using Json = nlohmann::json;

TEST_CASE("salesforce cursor round-trips and rejects what it did not write", "[salesforce]") {
  sf::Cursor c{1709637730123, "0035g00000AbCdEAAZ"};
  REQUIRE(sf::encode_cursor(c) == "t=1709637730123;id=0035g00000AbCdEAAZ");
  auto back = sf::decode_cursor(sf::encode_cursor(c));
  REQUIRE(back);
  CHECK(back->modstamp_ms == c.modstamp_ms);
  CHECK(back->id == c.id);
  CHECK(sf::encode_cursor(sf::Cursor{}).empty());
  auto start = sf::decode_cursor("");
  REQUIRE(start);
  CHECK(start->empty());
  for (const char* bad : {"offset=3", "t=12;id=", "t=;id=0035g00000AbCdE", "t=1x;id=0035g00000AbCdE", "t=12",
                          "t=12;id=003'; DROP", "t=12;id=0035g00000AbCdE0", "t=1234567890123456;id=0035g00000AbCdE"}) {
    INFO(bad);
    CHECK_FALSE(sf::decode_cursor(bad));
  }
}

TEST_CASE("salesforce cursor order: SystemModstamp first, then Id byte order", "[salesforce]") {
  sf::Cursor c{1000, "0035g0000000002AAA"};
  CHECK_FALSE(c.before(1000, "0035g0000000002AAA"));  // the record itself was emitted
  CHECK_FALSE(c.before(1000, "0035g0000000001AAA"));
  CHECK(c.before(1000, "0035g0000000003AAA"));
  CHECK(c.before(1000, "0035g000000000AAAA"));  // base 62: 'A' (10) after '9'
  CHECK(c.before(1000, "0035g000000000aAAA"));  // 'a' (36) after 'Z' (35)
  CHECK(c.before(1001, "0035g0000000000AAA"));
  CHECK_FALSE(c.before(999, "0035g000000000zAAA"));
  CHECK(sf::Cursor{}.before(0, "0035g0000000000AAA"));
}

TEST_CASE("salesforce times: the REST form, ISO forms, offsets; SOQL literals", "[salesforce]") {
  CHECK(sf::parse_time_ms("2024-03-05T11:22:10.123+0000") == 1709637730123);
  CHECK(sf::parse_time_ms("2024-03-05T11:22:10.123Z") == 1709637730123);
  CHECK(sf::parse_time_ms("2024-03-05T11:22:10Z") == 1709637730000);
  CHECK(sf::parse_time_ms("2024-03-05T14:22:10.123+03:00") == 1709637730123);
  CHECK(sf::parse_time_ms("2024-03-05T06:22:10.123-0500") == 1709637730123);
  CHECK(sf::parse_time_ms("1970-01-01T00:00:00.000+0000") == 0);
  for (const char* bad : {"", "2024-03-05", "2024-03-05T11:22:10", "2024-03-05T11:22:10.+0000", "2024-13-05T11:22:10Z",
                          "2024-03-05T11:22:10+00", "2024-03-05T11:22:10+0a00", "1709637730123"}) {
    INFO(bad);
    CHECK_FALSE(sf::parse_time_ms(bad));
  }
  CHECK(sf::soql_datetime(1709637730123) == "2024-03-05T11:22:10.123Z");
  CHECK(sf::soql_datetime(0) == "1970-01-01T00:00:00.000Z");
  CHECK(sf::soql_datetime(951782400000) == "2000-02-29T00:00:00.000Z");
  CHECK(sf::parse_time_ms(sf::soql_datetime(1709637730123)) == 1709637730123);
}

TEST_CASE("salesforce SOQL text: quoting and the tie-safe incremental query", "[salesforce]") {
  CHECK(sf::soql_quote("O'Brien") == R"('O\'Brien')");
  CHECK(sf::soql_quote(R"(a\b"c)") == R"('a\\b\"c')");
  CHECK(sf::soql_quote("two\nlines") == R"('two\nlines')");
  CHECK(sf::incremental_query("Contact", {"Id", "Email"}, {}) ==
        "SELECT Id, Email, SystemModstamp FROM Contact ORDER BY SystemModstamp ASC, Id ASC");
  // Case-insensitive: a field already selected is not added twice.
  CHECK(sf::incremental_query("Lead", {"systemmodstamp", "Email"}, {}) ==
        "SELECT systemmodstamp, Email, Id FROM Lead ORDER BY SystemModstamp ASC, Id ASC");
  CHECK(sf::incremental_query("Contact", {"Email"}, {1709637730123, "0035g0000000002AAA"}) ==
        "SELECT Email, Id, SystemModstamp FROM Contact WHERE SystemModstamp > 2024-03-05T11:22:10.123Z OR "
        "(SystemModstamp = 2024-03-05T11:22:10.123Z AND Id > '0035g0000000002AAA') "
        "ORDER BY SystemModstamp ASC, Id ASC");
  CHECK(sf::url_encode("SELECT Id FROM Contact WHERE X = 'a+b'") ==
        "SELECT%20Id%20FROM%20Contact%20WHERE%20X%20%3D%20%27a%2Bb%27");
}

TEST_CASE("salesforce lookups stay under the URL limit and cover every key once", "[salesforce]") {
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back("person-" + std::to_string(i) + "@example.com");
  auto one = sf::lookup_queries("Contact", "External_Id__c", {"Phone"}, keys, 60);
  REQUIRE(one.size() == 1);
  CHECK(one[0].rfind("SELECT Id, External_Id__c, Phone FROM Contact WHERE External_Id__c IN ('person-0@example.com',", 0) == 0);
  // A small budget splits the keys; each URL fits, and the keys come out in order, each once.
  auto many = sf::lookup_queries("Contact", "External_Id__c", {}, keys, 60, 2000);
  REQUIRE(many.size() > 1);
  std::string all;
  for (const auto& q : many) {
    CHECK(60 + sf::url_encode(q).size() <= 2000);
    all += q.substr(q.find("IN (") + 4);
  }
  for (const auto& k : keys) {
    INFO(k);
    CHECK(all.find("'" + k + "'") != std::string::npos);
  }
  CHECK(sf::lookup_queries("Contact", "External_Id__c", {}, {}, 60).empty());
  // Quotes in keys are escaped, never closing the literal.
  auto quoted = sf::lookup_queries("Contact", "External_Id__c", {}, {"o'neil"}, 60);
  CHECK(quoted[0].find(R"(IN ('o\'neil'))") != std::string::npos);
}

TEST_CASE("salesforce errors: the error array, item errors, the usage header", "[salesforce]") {
  CHECK(sf::salesforce_says(R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])") ==
        "INVALID_SESSION_ID: Session expired or invalid");
  CHECK(sf::salesforce_says(R"([{"message":"a","errorCode":"X"},{"message":"b","errorCode":"Y"}])") == "X: a; Y: b");
  CHECK(sf::salesforce_says(R"({"message":"one","errorCode":"Z"})") == "Z: one");
  CHECK(sf::salesforce_says("<html>gateway</html>").empty());
  CHECK(sf::salesforce_says(R"({"status":"error"})").empty());
  CHECK(sf::has_error_code(R"([{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}])",
                           "INVALID_QUERY_LOCATOR"));
  CHECK_FALSE(sf::has_error_code(R"([{"errorCode":"MALFORMED_QUERY"}])", "INVALID_QUERY_LOCATOR"));
  CHECK(sf::item_error_text(Json::parse(
            R"({"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [LastName]","fields":["LastName"]})")) ==
        "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName)");
  CHECK(sf::item_error_text(Json::parse(R"({"statusCode":"X","message":"m","fields":[]})")) == "X: m");
  auto usage = sf::parse_api_usage("api-usage=18/15000");
  REQUIRE(usage);
  CHECK(usage->first == 18);
  CHECK(usage->second == 15000);
  CHECK(sf::parse_api_usage("per-app-api-usage=1/10(appName=x), api-usage=9/10") == std::make_pair<int64_t, int64_t>(9, 10));
  CHECK_FALSE(sf::parse_api_usage("api-usage=/10"));
  CHECK_FALSE(sf::parse_api_usage("nothing"));
}

TEST_CASE("salesforce config names: versions, API names, ids, the org account", "[salesforce]") {
  CHECK(sf::valid_api_version("60.0"));
  CHECK(sf::valid_api_version("46.0"));
  CHECK_FALSE(sf::valid_api_version("45.0"));
  CHECK_FALSE(sf::valid_api_version("v60.0"));
  CHECK_FALSE(sf::valid_api_version("60.1"));
  CHECK(sf::valid_api_name("External_Id__c"));
  CHECK_FALSE(sf::valid_api_name("1Field"));
  CHECK_FALSE(sf::valid_api_name("Email) OR (Id"));
  CHECK(sf::valid_record_id("0035g00000AbCdE"));
  CHECK(sf::valid_record_id("0035g00000AbCdEAAZ"));
  CHECK_FALSE(sf::valid_record_id("0035g00000AbCd"));
  const std::string a = sf::org_account("https://acme.my.salesforce.com");
  CHECK(a.rfind("org-", 0) == 0);
  CHECK(a == sf::org_account("https://ACME.my.salesforce.com"));
  CHECK(a != sf::org_account("https://other.my.salesforce.com"));
}

TEST_CASE("salesforce chunking: at most N records, never one key twice per request, order kept", "[salesforce]") {
  std::vector<std::string> keys;
  for (int i = 0; i < 450; ++i) keys.push_back("k" + std::to_string(i));
  auto chunks = sf::chunk_inputs(keys, 200);
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].size() == 200);
  CHECK(chunks[2].size() == 50);
  auto dup = sf::chunk_inputs({"a", "b", "a", "c"}, 200);
  REQUIRE(dup.size() == 2);
  CHECK(dup[0] == std::vector<size_t>{0, 1});
  CHECK(dup[1] == std::vector<size_t>{2, 3});
}

TEST_CASE("salesforce sync plans follow the local CRM's modes and field rules", "[salesforce]") {
  const std::string key = "External_Id__c";
  const Json fields = {{key, "k1"}, {"LastName", "Petrov"}, {"Phone", "+7 900"}, {"LeadSource", "Web"}};
  const Json stored = {{"Id", "0035g0000000001AAA"}, {key, "K1"}, {"phone", "  "}, {"LeadSource", "Phone"}};
  std::map<std::string, sf::FieldRule> none;

  // upsert without rules: everything is sent, held or not.
  auto p = sf::plan_write(sf::SyncMode::kUpsert, none, key, fields, &stored, "Contact");
  CHECK(p.action == sf::Plan::Action::kSend);
  CHECK(p.fields == fields);

  // update_only: a record Salesforce does not hold is rejected, naming update_only.
  p = sf::plan_write(sf::SyncMode::kUpdateOnly, none, key, fields, nullptr, "Contact");
  CHECK(p.action == sf::Plan::Action::kReject);
  CHECK(p.reason.find("update_only") != std::string::npos);
  CHECK(p.reason.find("Contact") != std::string::npos);
  CHECK(sf::plan_write(sf::SyncMode::kUpdateOnly, none, key, fields, &stored, "Contact").action ==
        sf::Plan::Action::kSend);

  // insert_only: a held record is unchanged; a new one is created with every field.
  CHECK(sf::plan_write(sf::SyncMode::kInsertOnly, none, key, fields, &stored, "Contact").action ==
        sf::Plan::Action::kUnchanged);
  p = sf::plan_write(sf::SyncMode::kInsertOnly, none, key, fields, nullptr, "Contact");
  CHECK(p.action == sf::Plan::Action::kSend);
  CHECK(p.fields == fields);

  // Field rules on an update: never is held back; only_if_empty goes over a blank value (names compared
  // case-insensitively, as Salesforce does) but not over a set one.
  std::map<std::string, sf::FieldRule> rules = {{"LastName", sf::FieldRule::kNever},
                                                {"Phone", sf::FieldRule::kOnlyIfEmpty},
                                                {"LeadSource", sf::FieldRule::kOnlyIfEmpty}};
  p = sf::plan_write(sf::SyncMode::kUpsert, rules, key, fields, &stored, "Contact");
  CHECK(p.action == sf::Plan::Action::kSend);
  CHECK(p.fields == Json({{key, "k1"}, {"Phone", "+7 900"}}));
  // ... and do not apply when the record is created.
  p = sf::plan_write(sf::SyncMode::kUpsert, rules, key, fields, nullptr, "Contact");
  CHECK(p.fields == fields);
  // An update left with only its key is unchanged, with no request.
  const Json full = {{key, "k1"}, {"phone", "+7 1"}, {"LeadSource", "Phone"}};
  CHECK(sf::plan_write(sf::SyncMode::kUpsert, rules, key, fields, &full, "Contact").action ==
        sf::Plan::Action::kUnchanged);
  CHECK(sf::is_empty_value(nullptr));
  CHECK(sf::is_empty_value(&stored["phone"]));
  CHECK_FALSE(sf::is_empty_value(&stored["LeadSource"]));
}
