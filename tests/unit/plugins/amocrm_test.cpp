// Unit tests of the amocrm connector's pure helpers (plugins/crm/amocrm/amocrm_model.hpp): the incremental cursor,
// custom fields, the mapping of contacts and leads to unified records, the write bodies under field rules, and
// amoCRM's validation errors.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "../../../plugins/crm/amocrm/amocrm_model.hpp"

namespace amo = conflux::plugins::amocrm;
using Json = nlohmann::json;

namespace {

Json contact_entity() {
  return Json::parse(R"({
    "id": 1042, "name": "Иван Петров", "first_name": "Иван", "last_name": "Петров", "responsible_user_id": 7000001,
    "created_at": 1709637000, "updated_at": 1709637730,
    "custom_fields_values": [
      {"field_id": 100001, "field_code": "EMAIL", "field_type": "multitext",
       "values": [{"value": "Ivan@Example.com", "enum_code": "WORK"}, {"value": "ivan@home.ru", "enum_code": "PRIV"},
                  {"value": "i.p@other.org", "enum_code": "OTHER"}]},
      {"field_id": 100002, "field_code": "PHONE", "field_type": "multitext",
       "values": [{"value": "+7 912 345-67-89", "enum_code": "MOB"}]},
      {"field_id": 100003, "field_code": "POSITION", "values": [{"value": "CTO"}]},
      {"field_id": 555, "field_name": "Город", "field_code": null, "values": [{"value": "Казань"}]}],
    "_embedded": {"tags": [{"id": 1, "name": "vip"}], "companies": [{"id": 77}]}})");
}

}  // namespace

TEST_CASE("amocrm cursor round-trips, orders ties by id, and rejects what it did not write", "[amocrm]") {
  amo::Cursor c{1709637730, 1042};
  REQUIRE(amo::encode_cursor(c) == "t=1709637730;id=1042");
  auto back = amo::decode_cursor(amo::encode_cursor(c));
  REQUIRE(back);
  CHECK(back->updated_s == c.updated_s);
  CHECK(back->id == c.id);
  CHECK(amo::encode_cursor(amo::Cursor{}).empty());
  REQUIRE(amo::decode_cursor(""));
  CHECK(amo::decode_cursor("")->empty());
  for (const char* bad : {"offset=3", "t=12;id=", "t=;id=4", "t=1x;id=4", "t=12;id=4a", "t=12", "id=4;t=12",
                          "t=1709637730123456;id=1"}) {
    INFO(bad);
    CHECK_FALSE(amo::decode_cursor(bad));
  }
  CHECK(c.before(1709637730, 1043));
  CHECK_FALSE(c.before(1709637730, 1042));
  CHECK_FALSE(c.before(1709637730, 999));
  CHECK(c.before(1709637731, 1));
  CHECK_FALSE(c.before(1709637729, 99999));
}

TEST_CASE("amocrm reads the server's Date header and writes unified timestamps", "[amocrm]") {
  CHECK(amo::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777);
  CHECK(amo::parse_http_date("Sun, 22 Nov 2026 22:52:26 GMT") == 1795387946);
  for (const char* bad : {"", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 08:49:37 UTC"}) {
    INFO(bad);
    CHECK_FALSE(amo::parse_http_date(bad));
  }
  CHECK(amo::iso_time(784111777) == "1994-11-06T08:49:37Z");
}

TEST_CASE("amocrm contact becomes a unified contact: all e-mails and phones, the first as primary", "[amocrm]") {
  amo::ReadOptions options;
  auto r = amo::contact_record(contact_entity(), options);
  REQUIRE(r);
  const auto& j = *r;
  CHECK(j["source"] == "amocrm");
  CHECK(j["source_id"] == "1042");
  CHECK(j["updated_at"] == "2024-03-05T11:22:10Z");
  CHECK(j["full_name"] == "Иван Петров");
  CHECK(j["first_name"] == "Иван");
  CHECK(j["email"] == "ivan@example.com");
  CHECK(j["email_secondary"] == "ivan@home.ru");
  REQUIRE(j["emails"].size() == 3);
  CHECK(j["emails"][2]["value"] == "i.p@other.org");
  CHECK(j["emails"][2]["type"] == "OTHER");
  CHECK(j["phone"] == "+7 912 345-67-89");
  CHECK_FALSE(j.contains("phone_secondary"));
  CHECK(j["phones"][0]["type"] == "MOB");
  CHECK(j["job_title"] == "CTO");
  CHECK(j["owner"] == "7000001");
  CHECK(j["company_source_id"] == "77");
  CHECK(j["tags"] == nlohmann::ordered_json::array({"vip"}));
  CHECK(j["custom_fields"]["Город"] == "Казань");
  CHECK_FALSE(j["custom_fields"].contains("EMAIL"));
  // Nothing null: unknown fields are left out.
  for (const auto& [name, value] : j.items()) CHECK_FALSE(value.is_null());
  CHECK_FALSE(amo::contact_record(Json{{"name", "no id"}}, options));
}

TEST_CASE("amocrm lead becomes a unified lead: price, stage, main contact, tracking fields", "[amocrm]") {
  amo::ReadOptions options;
  options.currency = "RUB";
  options.stages = amo::parse_stages(Json::parse(R"({"_embedded":{"pipelines":[{"id":1,"_embedded":{"statuses":[
      {"id":10,"name":"Неразобранное","sort":10,"type":1},{"id":11,"name":"Первичный контакт","sort":20,"type":0},
      {"id":12,"name":"Переговоры","sort":30,"type":0},{"id":142,"name":"Успешно","sort":10000,"type":0},
      {"id":143,"name":"Закрыто","sort":11000,"type":0}]}}]}})"));
  Json lead = Json::parse(R"({"id": 9, "name": "Заказ", "price": 15000, "status_id": 12, "pipeline_id": 1,
    "created_at": 1709637000, "updated_at": 1709637001, "closed_at": null,
    "custom_fields_values": [{"field_code": "UTM_SOURCE", "values": [{"value": "yandex"}]},
                             {"field_code": "YCLID", "values": [{"value": "123"}]}],
    "_embedded": {"contacts": [{"id": 5, "is_main": false}, {"id": 6, "is_main": true}]}})");
  auto r = amo::lead_record(lead, options);
  REQUIRE(r);
  CHECK((*r)["value"] == 15000);
  CHECK((*r)["currency"] == "RUB");
  CHECK((*r)["status"] == "in_progress");
  CHECK((*r)["source_status"] == "Переговоры");
  CHECK((*r)["contact_source_id"] == "6");
  CHECK((*r)["utm_source"] == "yandex");
  CHECK((*r)["yclid"] == "123");
  CHECK((*r)["title"] == "Заказ");
  CHECK_FALSE(r->contains("closed_at"));
  CHECK_FALSE(r->contains("custom_fields"));
  CHECK(amo::unified_status(142, options.stages) == "converted");
  CHECK(amo::unified_status(143, options.stages) == "disqualified");
  CHECK(amo::unified_status(10, options.stages) == "new");
  CHECK(amo::unified_status(11, options.stages) == "new");
  CHECK(amo::unified_status(999, options.stages) == "in_progress");
}

TEST_CASE("amocrm keys: e-mail case-insensitive, phone by digits, every value of the key field", "[amocrm]") {
  CHECK(amo::normalise_key(amo::KeyKind::kEmail, " Ivan@Example.COM ") == "ivan@example.com");
  CHECK(amo::normalise_key(amo::KeyKind::kPhone, "+7 (912) 345-67-89") == "79123456789");
  CHECK(amo::normalise_key(amo::KeyKind::kText, "  x-1 ") == "x-1");
  auto keys = amo::entity_keys(contact_entity(), amo::FieldRef::parse("email"));
  CHECK(keys == std::vector<std::string>{"ivan@example.com", "ivan@home.ru", "i.p@other.org"});
  CHECK(amo::FieldRef::parse("555").id == 555);
  CHECK(amo::field_values(contact_entity(), amo::FieldRef::parse("555"))[0].value == "Казань");
}

TEST_CASE("amocrm write body: create sends everything, update only what differs and the rules allow", "[amocrm]") {
  Json record = {{"email", "ivan@example.com"}, {"email_secondary", "ivan@home.ru"}, {"phone", "+79123456789"},
                 {"first_name", "Иван"}, {"last_name", "Петров"}, {"job_title", "CEO"}, {"owner", "not-an-id"},
                 {"source", "files"}};
  auto attrs = amo::desired_attrs(amo::Entity::kContacts, record, amo::FieldRef::parse("EMAIL"), "email");
  bool changed = false;
  Json create = amo::write_body(attrs, nullptr, {}, &changed);
  CHECK(changed);
  CHECK(create["name"] == "Иван Петров");
  CHECK_FALSE(create.contains("responsible_user_id"));  // owner is not an amoCRM user id
  CHECK_FALSE(create.contains("source"));
  REQUIRE(create["custom_fields_values"].size() == 3);
  CHECK(create["custom_fields_values"][0] ==
        Json::parse(R"({"field_code":"EMAIL","values":[{"value":"ivan@example.com","enum_code":"WORK"},
                                                        {"value":"ivan@home.ru","enum_code":"PRIV"}]})"));
  CHECK(create["custom_fields_values"][1]["values"][0]["enum_code"] == "MOB");

  Json stored = contact_entity();
  // Overwrite: the stored contact differs in e-mails, phone and position; the names are equal.
  Json update = amo::write_body(attrs, &stored, {}, &changed);
  CHECK(changed);
  CHECK_FALSE(update.contains("first_name"));
  CHECK_FALSE(update.contains("name"));
  CHECK(update["custom_fields_values"].size() == 3);
  // Rules: phone only_if_empty (stored has one), job_title never, email only_if_empty.
  amo::FieldRules rules{{"phone", amo::FieldRule::kOnlyIfEmpty}, {"job_title", amo::FieldRule::kNever},
                        {"email", amo::FieldRule::kOnlyIfEmpty}};
  update = amo::write_body(attrs, &stored, rules, &changed);
  CHECK_FALSE(changed);
  CHECK(update.empty());
  // Same values as stored: nothing to send.
  Json same = {{"emails", Json::parse(R"([{"value":"ivan@example.com","type":"WORK"},"ivan@home.ru",
                                         {"value":"i.p@other.org","type":"other"}])")},
               {"phone", "+7 912 345-67-89"}, {"full_name", "Иван Петров"}, {"job_title", "CTO"}};
  auto same_attrs = amo::desired_attrs(amo::Entity::kContacts, same, amo::FieldRef::parse("EMAIL"), "email");
  amo::write_body(same_attrs, &stored, {}, &changed);
  CHECK_FALSE(changed);
}

TEST_CASE("amocrm lead write body: price, stage, tracking fields and the key field", "[amocrm]") {
  Json record = {{"source_id", "L-7"}, {"title", "Заказ"}, {"value", 1499.9}, {"currency", "RUB"},
                 {"status_id", "142"}, {"utm_source", "google"}, {"created_at", "2024-03-05T11:22:10Z"}};
  auto attrs = amo::desired_attrs(amo::Entity::kLeads, record, amo::FieldRef::parse("EXTERNAL_ID"), "source_id");
  Json body = amo::write_body(attrs, nullptr, {}, nullptr);
  CHECK(body["name"] == "Заказ");
  CHECK(body["price"] == 1500);
  CHECK(body["status_id"] == 142);
  CHECK(body["custom_fields_values"] ==
        Json::parse(R"([{"field_code":"UTM_SOURCE","values":[{"value":"google"}]},
                        {"field_code":"EXTERNAL_ID","values":[{"value":"L-7"}]}])"));
  // The key never changes on update: it is what matched.
  Json stored = {{"id", 1}, {"name", "Заказ"}, {"price", 1500}, {"status_id", 142},
                 {"custom_fields_values", body["custom_fields_values"]}};
  bool changed = true;
  amo::write_body(attrs, &stored, {}, &changed);
  CHECK_FALSE(changed);
}

TEST_CASE("amocrm problem bodies and per-item validation errors", "[amocrm]") {
  Json body = Json::parse(R"({"validation-errors":[
      {"request_id":"0","errors":[{"code":"InvalidEmail","path":"custom_fields_values.0.values.0.value",
                                   "detail":"This value is not a valid email address."}]},
      {"request_id":"3","errors":[{"code":"NotSupportedChoice","path":"status_id","detail":"No such status."},
                                  {"code":"TooLong","path":"name","detail":"Too long."}]}],
    "title":"Bad Request","type":"https://httpstatus.es/400","status":400,"detail":"Request validation failed"})");
  auto errors = amo::validation_errors(body);
  REQUIRE(errors.size() == 2);
  CHECK(errors["0"] == "This value is not a valid email address. (InvalidEmail at custom_fields_values.0.values.0.value)");
  CHECK(errors["3"].find("No such status. (NotSupportedChoice at status_id); Too long.") == 0);
  CHECK(amo::problem_text(body) == "Bad Request: Request validation failed");
  CHECK(amo::problem_text(Json("nope")).empty());
  CHECK(amo::query_string({{"filter[updated_at][from]", "17"}, {"query", "a+b@x.io"}}) ==
        "?filter%5Bupdated_at%5D%5Bfrom%5D=17&query=a%2Bb%40x.io");
}
