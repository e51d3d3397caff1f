#include <catch2/catch.hpp>

#include "support.hpp"

#include "conflux/record/json.hpp"
#include "conflux/transforms/builtin.hpp"

using conflux::Record;
using conflux::Value;
using conflux::engine::Rejected;
using conflux::transforms::make_transform;
using Json = nlohmann::ordered_json;

namespace {

const std::string kEmailHash = "7540acb4f04b207c72715708ef0f417c9876b12a94a08173834874d3a3fc7446";  // ivan@example.com
const std::string kPhoneDigitsHash = "dbae582ee1f37b15623829ece40b66a8eb5162337ab0a8b7cf1b86cb300391bc";  // 79123456789
const std::string kPhoneE164Hash = "694e8de862e4f3198b67f7a4aa9f4dfb123c5b78b0a72460ce882c405b111e63";  // +79123456789
const std::string kNameHash = "74f46a588dd2b0d94ec4067f21fc7127c16ba0f1af96ece7a7ebfefe3ddedc92";       // иван

Record run(const Json& config, const Json& input) {
  auto stage = make_transform("hash_pii", config);
  INFO(stage.status().to_string());
  REQUIRE(stage.is_ok());
  std::vector<Record> records = {conflux::record_from_json(input)};
  std::vector<Rejected> rejected;
  REQUIRE((*stage)->apply(records, rejected).is_ok());
  REQUIRE(rejected.empty());
  REQUIRE(records.size() == 1);
  return records[0];
}

std::string error(const Json& config) { return conflux::test::config_error("hash_pii", config); }

}  // namespace

TEST_CASE("hash_pii hashes normalised values next to the originals", "[transforms][hash_pii]") {
  Record r = run({{"fields", {{"email", "sha256"}, {"phone", "sha256"}, {"first_name", "sha256"}}}},
                 {{"email", "  Ivan@Example.COM "}, {"phone", "+7 (912) 345-67-89"}, {"first_name", " ИВАН "}});
  CHECK(r.find("email")->text == "  Ivan@Example.COM ");
  CHECK(r.find("email_sha256")->text == kEmailHash);
  CHECK(r.find("phone_sha256")->text == kPhoneDigitsHash);  // Meta form: digits without '+'
  CHECK(r.find("first_name_sha256")->text == kNameHash);
}

TEST_CASE("hash_pii phone forms, regions and invalid numbers", "[transforms][hash_pii]") {
  CHECK(run({{"fields", {{"phone", "sha256"}}}, {"phone_format", "e164"}}, {{"phone", "+79123456789"}})
            .find("phone_sha256")
            ->text == kPhoneE164Hash);
  // National numbers need default_region; without it they are not hashed.
  CHECK(run({{"fields", {{"phone", "sha256"}}}, {"default_region", "RU"}}, {{"phone", "8 (912) 345-67-89"}})
            .find("phone_sha256")
            ->text == kPhoneDigitsHash);
  CHECK(run({{"fields", {{"phone", "sha256"}}}}, {{"phone", "8 (912) 345-67-89"}}).find("phone_sha256")->is_null());
  CHECK(run({{"fields", {{"phone", "sha256"}}}}, {{"phone", "12345"}}).find("phone_sha256")->is_null());
}

TEST_CASE("hash_pii in place, explicit normalisation, blanks", "[transforms][hash_pii]") {
  Record r = run({{"fields",
                   {{"contact", {{"algorithm", "sha256"}, {"normalise", "email"}}},
                    {"mobile_number", {{"normalise", "phone"}}},
                    {"token", {{"normalise", "raw"}}}}},
                  {"in_place", true}},
                 {{"contact", "IVAN@example.com"}, {"mobile_number", "+79123456789"}, {"token", " Ab"}, {"other", 1}});
  CHECK(r.find("contact")->text == kEmailHash);
  CHECK(r.find("mobile_number")->text == kPhoneDigitsHash);
  CHECK(r.find("token")->text.size() == 64);
  CHECK_FALSE(r.has("contact_sha256"));
  CHECK(*r.find("other") == Value::integer(1));

  r = run({{"fields", {{"work_email", "sha256"}, {"mobile_phone", "sha256"}}}, {"target_suffix", "_h"}},
          {{"work_email", "ivan@example.com"}, {"mobile_phone", ""}});
  CHECK(r.find("work_email_h")->text == kEmailHash);  // normalisation inferred from the name
  CHECK(r.find("mobile_phone_h")->is_null());
  CHECK_FALSE(run({{"fields", {{"email", "sha256"}}}}, {{"x", 1}}).has("email_sha256"));
}

TEST_CASE("hash_pii config errors", "[transforms][hash_pii]") {
  CHECK(error(Json::object()) == "hash_pii: missing required key 'fields'");
  CHECK(error({{"fields", Json::object()}}) ==
        "hash_pii: 'fields' must be a mapping of field names to sha256 or {algorithm, normalise}");
  CHECK(error({{"fields", {{"email", "md5"}}}}) == "hash_pii: unknown algorithm 'md5' in fields.email (only sha256)");
  CHECK(error({{"fields", {{"email", 1}}}}) ==
        "hash_pii: 'fields.email' must be sha256 or {algorithm: sha256, normalise: ...}");
  CHECK(error({{"fields", {{"email", {{"normalise", "lower"}}}}}}) ==
        "hash_pii: unknown normalise \"lower\" in fields.email (expected email, phone, text or raw)");
  CHECK(error({{"fields", {{"email", {{"salt", "x"}}}}}}) ==
        "hash_pii: unknown key 'salt' in fields.email (known keys: algorithm, normalise)");
  CHECK(error({{"fields", {{"email", "sha256"}}}, {"in_place", true}, {"target_suffix", "_x"}}) ==
        "hash_pii: give either 'in_place' or 'target_suffix', not both");
  CHECK(error({{"fields", {{"email", "sha256"}}}, {"target_suffix", ""}}) ==
        "hash_pii: 'target_suffix' must be a non-empty string");
  CHECK(error({{"fields", {{"phone", "sha256"}}}, {"phone_format", "plus"}})
            .find("hash_pii: unknown value 'plus' in phone_format") == 0);
  CHECK(error({{"fields", {{"phone", "sha256"}}}, {"default_region", "XX"}}) ==
        "hash_pii: unknown region 'XX' in default_region");
  CHECK(error({{"fields", {{"phone", "sha256"}}}, {"salt", "x"}}).find("hash_pii: unknown key 'salt'") == 0);
}
