// Unit tests of the bitrix24 connector's pure helpers (plugins/crm/bitrix24/bitrix24_model.hpp): times and the
// cursor, batch command encoding (checked against the fake server's PHP-style parser), the unified <-> Bitrix24
// field mapping, update planning under field rules, batch replies and error classes.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../../../plugins/crm/bitrix24/bitrix24_model.hpp"
#include "fake_server/bitrix24_api.hpp"

namespace b24 = conflux::plugins::bitrix24;
using Json = nlohmann::json;

TEST_CASE("bitrix24 times: offsets, UTC forms, and what is not a time", "[bitrix24]") {
  REQUIRE(b24::parse_time("2024-03-05T14:22:10+03:00"));
  CHECK(*b24::parse_time("2024-03-05T14:22:10+03:00") == *b24::parse_time("2024-03-05T11:22:10Z"));
  CHECK(*b24::parse_time("2024-03-05T11:22:10Z") == 1709637730);
  CHECK(*b24::parse_time("2024-03-05T08:22:10-03:00") == 1709637730);
  CHECK(*b24::parse_time("2024-03-05T11:22:10.999+00:00") == 1709637730);
  CHECK(b24::unified_time(1709637730) == "2024-03-05T11:22:10Z");
  CHECK(b24::filter_time(1709637730) == "2024-03-05T11:22:10+00:00");
  CHECK(b24::unified_time(0) == "1970-01-01T00:00:00Z");
  CHECK(b24::unified_time(951782400) == "2000-02-29T00:00:00Z");
  for (const char* bad : {"", "2024-03-05", "2024-03-05 11:22:10Z", "2024-13-05T11:22:10Z", "2024-03-05T11:22:10",
                          "2024-03-05T11:22:10+0300", "05.03.2024 11:22:10"}) {
    INFO(bad);
    CHECK_FALSE(b24::parse_time(bad));
  }
}

TEST_CASE("bitrix24 cursor round-trips, orders ties by id and rejects what it did not write", "[bitrix24]") {
  b24::Cursor c{1709637730, "1042"};
  REQUIRE(b24::encode_cursor(c) == "t=1709637730;id=1042");
  auto back = b24::decode_cursor("t=1709637730;id=1042");
  REQUIRE(back);
  CHECK(back->modified_s == 1709637730);
  CHECK(back->id == "1042");
  CHECK(b24::encode_cursor(b24::Cursor{}).empty());
  REQUIRE(b24::decode_cursor(""));
  CHECK(b24::decode_cursor("")->empty());
  for (const char* bad : {"t=;id=1", "t=1;id=", "t=1;id=x", "id=1", "after=5", "t=1709637730"}) {
    INFO(bad);
    CHECK_FALSE(b24::decode_cursor(bad));
  }
  CHECK(c.before(1709637731, "1"));
  CHECK(c.before(1709637730, "1043"));
  CHECK(c.before(1709637730, "10000"));  // numeric, not lexicographic
  CHECK_FALSE(c.before(1709637730, "1042"));
  CHECK_FALSE(c.before(1709637730, "999"));
  CHECK_FALSE(c.before(1709637729, "5000"));
  CHECK(b24::Cursor{}.before(0, "1"));
}

TEST_CASE("bitrix24 batch commands are PHP query strings the fake parses back", "[bitrix24]") {
  Json params = {{"filter", {{">=DATE_MODIFY", "2024-03-05T11:22:10+00:00"}, {"EMAIL", "ann+x@b.io"}}},
                 {"select", {"ID", "EMAIL"}},
                 {"fields", {{"NAME", "Анна & Co"}, {"EMAIL", {{{"VALUE", "a@b.io"}, {"VALUE_TYPE", "WORK"}}}}}},
                 {"start", -1},
                 {"flag", true}};
  const std::string cmd = b24::command("crm.contact.list", params);
  REQUIRE(cmd.rfind("crm.contact.list?", 0) == 0);
  CHECK(cmd.find(' ') == std::string::npos);
  CHECK(cmd.find('[') == std::string::npos);  // brackets are encoded, as http_build_query does
  Json parsed = Json::parse(conflux::test::fake::parse_php_query(cmd.substr(cmd.find('?') + 1)).dump());
  CHECK(parsed["filter"][">=DATE_MODIFY"] == "2024-03-05T11:22:10+00:00");
  CHECK(parsed["filter"]["EMAIL"] == "ann+x@b.io");
  CHECK(parsed["select"] == Json({"ID", "EMAIL"}));
  CHECK(parsed["fields"]["NAME"] == "Анна & Co");
  CHECK(parsed["fields"]["EMAIL"][0]["VALUE_TYPE"] == "WORK");
  CHECK(parsed["start"] == "-1");
  CHECK(parsed["flag"] == "Y");
  CHECK(b24::command("batch", Json::object()) == "batch");
  // The fake's parser on its own: "[]" appends, list keys become arrays.
  Json q = Json::parse(conflux::test::fake::parse_php_query("a[]=1&a[]=2&b[x][0]=y&c=%2B+").dump());
  CHECK(q == Json({{"a", {"1", "2"}}, {"b", {{"x", {"y"}}}}, {"c", "+ "}}));
}

TEST_CASE("a unified contact maps onto Bitrix24 fields", "[bitrix24]") {
  Json record = {{"source", "amocrm"},      {"source_id", "77"},          {"email", "ann@x.io"},
                 {"email_secondary", "a@home.io"}, {"phone", "+79123456789"}, {"first_name", "Ann"},
                 {"last_name", "Lee"},      {"job_title", "CTO"},         {"utm_source", "google"},
                 {"utm_campaign", "spring"}, {"channel", "paid_search"},  {"country", "RU"},
                 {"tags", {"vip"}},         {"owner", "Petrov"},          {"updated_at", "2024-01-01T00:00:00Z"},
                 {"UF_CRM_1720697698689", "custom"}, {"ID", "5"}};
  std::vector<std::string> unmapped;
  Json f = b24::to_bitrix(b24::Entity::kContact, record, "conflux", &unmapped);
  CHECK(f["NAME"] == "Ann");
  CHECK(f["LAST_NAME"] == "Lee");
  CHECK(f["POST"] == "CTO");
  CHECK(f["EMAIL"] == Json::parse(R"([{"VALUE":"ann@x.io","VALUE_TYPE":"WORK"},{"VALUE":"a@home.io","VALUE_TYPE":"OTHER"}])"));
  CHECK(f["PHONE"] == Json::parse(R"([{"VALUE":"+79123456789","VALUE_TYPE":"WORK"}])"));
  CHECK(f["UTM_SOURCE"] == "google");
  CHECK(f["UTM_CAMPAIGN"] == "spring");
  CHECK(f["SOURCE_ID"] == "ADVERTISING");
  CHECK(f["ADDRESS_COUNTRY_CODE"] == "RU");
  CHECK(f["ORIGINATOR_ID"] == "amocrm");
  CHECK(f["ORIGIN_ID"] == "77");
  CHECK(f["UF_CRM_1720697698689"] == "custom");  // Bitrix24 names pass through
  CHECK_FALSE(f.contains("ID"));                 // read-only ones do not
  CHECK(unmapped == std::vector<std::string>{"owner", "tags"});
  // A full name alone becomes NAME; the originator default applies without a source.
  Json g = b24::to_bitrix(b24::Entity::kContact, {{"full_name", "Иванов Иван"}, {"email", "i@x.ru"}}, "conflux");
  CHECK(g["NAME"] == "Иванов Иван");
  CHECK(g["ORIGINATOR_ID"] == "conflux");
  CHECK_FALSE(g.contains("ORIGIN_ID"));
  // Blank and null values are not sent.
  Json h = b24::to_bitrix(b24::Entity::kContact, {{"first_name", "  "}, {"last_name", nullptr}, {"email", "i@x.ru"}}, "c");
  CHECK_FALSE(h.contains("NAME"));
  CHECK_FALSE(h.contains("LAST_NAME"));
}

TEST_CASE("unified leads and deals map onto Bitrix24 statuses, stages and money", "[bitrix24]") {
  Json lead = b24::to_bitrix(b24::Entity::kLead,
                             {{"source_id", "L1"}, {"created_at", "2024-01-01T00:00:00Z"}, {"status", "qualified"},
                              {"value", 1499.9}, {"currency", "RUB"}, {"form_name", "Spring form"},
                              {"company_name", "ООО Ромашка"}, {"comment", "call me"}, {"email", "a@b.io"}},
                             "conflux");
  CHECK(lead["STATUS_ID"] == "PROCESSED");
  CHECK(lead["OPPORTUNITY"] == "1499.9");
  CHECK(lead["CURRENCY_ID"] == "RUB");
  CHECK(lead["TITLE"] == "Spring form");
  CHECK(lead["COMPANY_TITLE"] == "ООО Ромашка");
  CHECK(lead["COMMENTS"] == "call me");
  CHECK(lead["EMAIL"][0]["VALUE"] == "a@b.io");
  Json won = b24::to_bitrix(b24::Entity::kDeal,
                            {{"source_id", "D1"}, {"name", "Big deal"}, {"status", "won"}, {"pipeline", "3"},
                             {"amount", 100}, {"currency", "USD"}, {"expected_close_date", "2024-05-01"},
                             {"email", "not-sent@x.io"}},
                            "conflux");
  CHECK(won["TITLE"] == "Big deal");
  CHECK(won["CATEGORY_ID"] == "3");
  CHECK(won["STAGE_ID"] == "C3:WON");
  CHECK(won["OPPORTUNITY"] == "100");
  CHECK(won["CLOSEDATE"] == "2024-05-01");
  CHECK_FALSE(won.contains("EMAIL"));  // deals have no multi-fields
  CHECK(b24::to_bitrix(b24::Entity::kDeal, {{"status", "lost"}}, "c")["STAGE_ID"] == "LOSE");
  CHECK(b24::to_bitrix(b24::Entity::kDeal, {{"status", "open"}, {"stage", "EXECUTING"}}, "c")["STAGE_ID"] == "EXECUTING");
  CHECK_FALSE(b24::to_bitrix(b24::Entity::kDeal, {{"status", "open"}}, "c").contains("STAGE_ID"));
}

TEST_CASE("Bitrix24 items read back as unified records", "[bitrix24]") {
  Json contact = Json::parse(R"({"ID":"75","NAME":"Anastasia","LAST_NAME":"Ilyina","DATE_CREATE":"2024-02-26T00:00:00+02:00",
    "DATE_MODIFY":"2024-02-26T10:00:00+03:00","UTM_SOURCE":"","ASSIGNED_BY_ID":"6",
    "EMAIL":[{"ID":"1","VALUE_TYPE":"HOME","VALUE":"home@x.io","TYPE_ID":"EMAIL"},
             {"ID":"2","VALUE_TYPE":"WORK","VALUE":"work@x.io","TYPE_ID":"EMAIL"}],
    "PHONE":[{"ID":"3","VALUE_TYPE":"MOBILE","VALUE":"+79001112233","TYPE_ID":"PHONE"}]})");
  Json r = b24::to_unified(b24::Entity::kContact, contact, {"ASSIGNED_BY_ID"});
  CHECK(r["source"] == "bitrix24");
  CHECK(r["source_id"] == "75");
  CHECK(r["first_name"] == "Anastasia");
  CHECK(r["last_name"] == "Ilyina");
  CHECK(r["updated_at"] == "2024-02-26T07:00:00Z");
  CHECK(r["created_at"] == "2024-02-25T22:00:00Z");
  CHECK(r["email"] == "work@x.io");  // the WORK entry is the primary one
  CHECK(r["email_secondary"] == "home@x.io");
  CHECK(r["phone"] == "+79001112233");
  CHECK_FALSE(r.contains("utm_source"));  // blank
  CHECK(r["ASSIGNED_BY_ID"] == "6");
  Json deal = Json::parse(R"({"ID":"9","TITLE":"T","STAGE_ID":"C2:LOSE","STAGE_SEMANTIC_ID":"F","CATEGORY_ID":"2",
    "OPPORTUNITY":"1500.00","CURRENCY_ID":"EUR","CLOSEDATE":"2024-05-01T03:00:00+03:00","CONTACT_ID":"75",
    "COMPANY_ID":"0","DATE_MODIFY":"2024-02-26T10:00:00+03:00"})");
  Json d = b24::to_unified(b24::Entity::kDeal, deal);
  CHECK(d["name"] == "T");
  CHECK(d["status"] == "lost");
  CHECK(d["stage"] == "C2:LOSE");
  CHECK(d["pipeline"] == "2");
  CHECK(d["amount"] == 1500.0);
  CHECK(d["currency"] == "EUR");
  CHECK(d["expected_close_date"] == "2024-05-01");
  CHECK(d["contact_source_id"] == "75");
  CHECK_FALSE(d.contains("company_source_id"));
  Json lead = b24::to_unified(b24::Entity::kLead, Json::parse(R"({"ID":"3","STATUS_ID":"IN_PROCESS","CURRENCY_ID":"RUB"})"));
  CHECK(lead["status"] == "in_progress");
  CHECK(lead["source_status"] == "IN_PROCESS");
  CHECK_FALSE(lead.contains("currency"));  // no money, no currency
}

TEST_CASE("match keys, their filters and batches of distinct keys", "[bitrix24]") {
  Json fields = b24::to_bitrix(b24::Entity::kContact, {{"email", "Ann@X.io"}, {"phone", "+7 (912) 345-67-89"}}, "c");
  auto by_email = b24::key_filter(b24::MatchKey::kEmail, fields);
  REQUIRE(by_email);
  CHECK(*by_email == Json({{"EMAIL", "Ann@X.io"}}));
  CHECK(b24::key_text(b24::MatchKey::kEmail, *by_email) == "ann@x.io");
  CHECK(b24::key_text(b24::MatchKey::kPhone, *b24::key_filter(b24::MatchKey::kPhone, fields)) == "79123456789");
  CHECK_FALSE(b24::key_filter(b24::MatchKey::kSourceId, fields));
  Json with_id = b24::to_bitrix(b24::Entity::kLead, {{"source", "meta"}, {"source_id", "L9"}}, "c");
  CHECK(*b24::key_filter(b24::MatchKey::kSourceId, with_id) == Json({{"ORIGINATOR_ID", "meta"}, {"ORIGIN_ID", "L9"}}));
  CHECK_FALSE(b24::key_filter(b24::MatchKey::kEmail, with_id));
  auto chunks = b24::chunk_by_key({"a", "b", "a", "c", "d"}, 3);
  REQUIRE(chunks.size() == 2);
  CHECK(chunks[0] == std::vector<size_t>{0, 1});
  CHECK(chunks[1] == std::vector<size_t>{2, 3, 4});
  CHECK(b24::chunk_by_key({"a", "b", "c", "d"}, 2).size() == 2);
}

TEST_CASE("update planning: unchanged values cost nothing, rules decide the rest", "[bitrix24]") {
  Json desired = Json::parse(R"({"NAME":"Ann","LAST_NAME":"Lee","OPPORTUNITY":"1500","CLOSEDATE":"2024-05-01",
    "EMAIL":[{"VALUE":"ann@x.io","VALUE_TYPE":"WORK"}],"PHONE":[{"VALUE":"+79123456789","VALUE_TYPE":"WORK"}],
    "ORIGIN_ID":"77"})");
  Json stored = Json::parse(R"({"ID":"5","NAME":"Ann","LAST_NAME":"","OPPORTUNITY":"1500.00",
    "CLOSEDATE":"2024-05-01T00:00:00+03:00","EMAIL":[{"ID":"11","VALUE":"ANN@x.io","VALUE_TYPE":"WORK"}],
    "PHONE":[{"ID":"12","VALUE":"+7 912 000-00-00","VALUE_TYPE":"WORK"}],"ORIGIN_ID":"1"})");
  Json plan = b24::plan_update(desired, stored, {});
  // NAME, OPPORTUNITY, CLOSEDATE and the e-mail are held already; LAST_NAME is empty; the WORK phone is replaced by ID.
  CHECK(plan == Json::parse(R"({"LAST_NAME":"Lee","ORIGIN_ID":"77",
    "PHONE":[{"ID":"12","VALUE":"+79123456789","VALUE_TYPE":"WORK"}]})"));
  std::map<std::string, b24::Rule> rules = {{"LAST_NAME", b24::Rule::kNever},
                                            {"PHONE", b24::Rule::kOnlyIfEmpty},
                                            {"ORIGIN_ID", b24::Rule::kOnlyIfEmpty}};
  CHECK(b24::plan_update(desired, stored, rules).empty());
  // only_if_empty writes over an absent or blank value; a new phone type is added, not replaced.
  Json bare = Json::parse(R"({"ID":"5","NAME":"Ann","OPPORTUNITY":"1500","CLOSEDATE":"2024-05-01",
    "EMAIL":[{"ID":"11","VALUE":"ann@x.io","VALUE_TYPE":"WORK"}],"PHONE":[],"ORIGIN_ID":"77","LAST_NAME":"Lee"})");
  CHECK(b24::plan_update(desired, bare, rules) ==
        Json::parse(R"({"PHONE":[{"VALUE":"+79123456789","VALUE_TYPE":"WORK"}]})"));
  Json mobile = bare;
  mobile["PHONE"] = Json::parse(R"([{"ID":"13","VALUE":"+70000000000","VALUE_TYPE":"MOBILE"}])");
  CHECK(b24::plan_update(desired, mobile, {}) == Json::parse(R"({"PHONE":[{"VALUE":"+79123456789","VALUE_TYPE":"WORK"}]})"));
  CHECK(b24::same_value("1500", "1500.00"));
  CHECK(b24::same_value("2024-05-01", "2024-05-01T00:00:00+03:00"));
  CHECK_FALSE(b24::same_value("2024-05-01", "2024-05-02T00:00:00+03:00"));
  CHECK_FALSE(b24::same_value("Ann", "ann"));
}

TEST_CASE("batch replies and what their errors say to do", "[bitrix24]") {
  auto ok = b24::read_batch_reply(Json::parse(R"({"result":{"result":{"w00":12,"w01":true},"result_error":[],
    "result_total":[],"result_next":[]},"time":{}})"));
  REQUIRE(ok);
  CHECK(ok->results.at("w00") == 12);
  CHECK(ok->errors.empty());
  auto failed = b24::read_batch_reply(Json::parse(R"({"result":{"result":[],"result_error":{"w00":{"error":"ERROR_CORE",
    "error_description":"bad e-mail"},"w01":{"error":"","error_description":"Not found"}}}})"));
  REQUIRE(failed);
  CHECK(failed->results.empty());
  CHECK(failed->errors.at("w00").text() == "ERROR_CORE: bad e-mail");
  CHECK(failed->errors.at("w01").text() == "Not found");
  CHECK_FALSE(b24::read_batch_reply(Json::parse(R"({"result":[1,2]})")));
  CHECK_FALSE(b24::read_batch_reply(Json::parse(R"({"error":"x"})")));
  CHECK_FALSE(b24::read_batch_reply(Json::parse(R"({"result":{"result":"x"}})")));
  using b24::Fault;
  CHECK(b24::classify_error({"ERROR_CORE", "bad e-mail"}) == Fault::kRecord);
  CHECK(b24::classify_error({"", "Not found"}) == Fault::kRecord);
  CHECK(b24::classify_error({"QUERY_LIMIT_EXCEEDED", "Too many requests"}) == Fault::kRetry);
  CHECK(b24::classify_error({"OPERATION_TIME_LIMIT", ""}) == Fault::kRetry);
  CHECK(b24::classify_error({"expired_token", ""}) == Fault::kAuth);
  CHECK(b24::classify_error({"insufficient_scope", ""}) == Fault::kAuth);
  CHECK(b24::classify_error({"", "Access denied."}) == Fault::kAuth);
}
