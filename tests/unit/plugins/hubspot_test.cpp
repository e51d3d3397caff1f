// Unit tests of the hubspot connector's pure helpers (plugins/crm/hubspot/hubspot_model.hpp): the incremental
// cursor and its order, HubSpot's times, the token account key, the batch chunking, and the sync-mode planning.
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../../../plugins/crm/hubspot/hubspot_model.hpp"

namespace hs = conflux::plugins::hubspot;

TEST_CASE("hubspot cursor round-trips and rejects what it did not write", "[hubspot]") {
  hs::Cursor c{1709637730123, "1042"};
  REQUIRE(hs::encode_cursor(c) == "t=1709637730123;id=1042");
  auto back = hs::decode_cursor(hs::encode_cursor(c));
  REQUIRE(back);
  CHECK(back->modified_ms == c.modified_ms);
  CHECK(back->id == c.id);
  CHECK(hs::encode_cursor(hs::Cursor{}).empty());
  auto start = hs::decode_cursor("");
  REQUIRE(start);
  CHECK(start->empty());
  for (const char* bad : {"offset=3", "t=12;id=", "t=;id=4", "t=1x;id=4", "t=12;id=4a", "t=12", "id=4;t=12",
                          "t=1234567890123456789;id=1"}) {
    INFO(bad);
    CHECK_FALSE(hs::decode_cursor(bad));
  }
}

TEST_CASE("hubspot cursor order: time first, then numeric id, for ties at a page boundary", "[hubspot]") {
  hs::Cursor c{1000, "20"};
  CHECK_FALSE(c.before(1000, "20"));  // the record itself was emitted
  CHECK_FALSE(c.before(1000, "3"));   // a smaller id at the same time came before it ("3" < "20" numerically)
  CHECK(c.before(1000, "21"));
  CHECK(c.before(1000, "100"));       // numerically after 20, though "100" < "20" as text
  CHECK(c.before(1001, "1"));
  CHECK_FALSE(c.before(999, "999"));
  CHECK(hs::Cursor{}.before(0, "1"));
  CHECK(hs::compare_ids("9", "10") < 0);
  CHECK(hs::compare_ids("10", "10") == 0);
  CHECK(hs::compare_ids("11", "10") > 0);
}

TEST_CASE("hubspot times: ISO with or without fraction, epoch milliseconds", "[hubspot]") {
  CHECK(hs::parse_time_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(hs::parse_time_ms("1970-01-01T00:00:01.5Z") == 1500);
  CHECK(hs::parse_time_ms("2024-03-05T11:22:10.123Z") == 1709637730123);
  CHECK(hs::parse_time_ms("2024-03-05T11:22:10.123456Z") == 1709637730123);
  CHECK(hs::parse_time_ms("2024-03-05T11:22:10.123+00:00") == 1709637730123);
  CHECK(hs::parse_time_ms("2000-02-29T00:00:00Z") == 951782400000);
  CHECK(hs::parse_time_ms("1709637730123") == 1709637730123);
  for (const char* bad : {"", "2024-03-05", "2024-03-05 11:22:10Z", "2024-13-05T11:22:10Z", "2024-03-05T11:22:10",
                          "2024-03-05T11:22:10.Z", "2024-03-05T11:22:10+03:00", "yesterday"}) {
    INFO(bad);
    CHECK_FALSE(hs::parse_time_ms(bad));
  }
}

TEST_CASE("hubspot account key hides the token", "[hubspot]") {
  std::string a = hs::token_account("pat-na1-secret-1");
  CHECK(a.rfind("token-", 0) == 0);
  CHECK(a.find("secret") == std::string::npos);
  CHECK(a == hs::token_account("pat-na1-secret-1"));
  CHECK(a != hs::token_account("pat-na1-secret-2"));
}

TEST_CASE("hubspot chunking: at most N inputs, never one key twice per request, order kept", "[hubspot]") {
  CHECK(hs::normalise_key("email", "A@X.io") == "a@x.io");
  CHECK(hs::normalise_key("sku", "A1") == "A1");
  std::vector<std::string> keys;
  for (int i = 0; i < 250; ++i) keys.push_back("k" + std::to_string(i));
  auto chunks = hs::chunk_inputs(keys, 100);
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].size() == 100);
  CHECK(chunks[2].size() == 50);
  CHECK(chunks[1].front() == 100);
  auto dup = hs::chunk_inputs({"a", "b", "a", "c"}, 100);
  REQUIRE(dup.size() == 2);
  CHECK(dup[0] == std::vector<size_t>{0, 1});
  CHECK(dup[1] == std::vector<size_t>{2, 3});
  CHECK(hs::chunk_inputs({}, 100).empty());
}

TEST_CASE("hubspot sync modes: update_only rejects what HubSpot lacks, insert_only leaves what it holds", "[hubspot]") {
  const hs::Properties record{{"email", "a@x.io"}, {"firstname", "Ann"}};
  const hs::Held absent;
  const hs::Held held = std::map<std::string, std::optional<std::string>>{{"firstname", "Anne"}};
  auto plan = hs::plan_write(hs::SyncMode::kUpdateOnly, {}, record, absent, "contacts", "email");
  CHECK(plan.action == hs::WritePlan::Action::kReject);
  CHECK(plan.reason == "hubspot: HubSpot holds no contact with this email and the sink's mode is update_only");
  plan = hs::plan_write(hs::SyncMode::kUpdateOnly, {}, record, held, "contacts", "email");
  CHECK(plan.action == hs::WritePlan::Action::kSend);
  CHECK(plan.properties == record);
  plan = hs::plan_write(hs::SyncMode::kInsertOnly, {}, record, held, "contacts", "email");
  CHECK(plan.action == hs::WritePlan::Action::kUnchanged);
  CHECK(plan.properties.empty());
  plan = hs::plan_write(hs::SyncMode::kInsertOnly, {}, record, absent, "contacts", "email");
  CHECK(plan.action == hs::WritePlan::Action::kSend);
  CHECK(plan.properties == record);
  CHECK(hs::parse_sync_mode("update_only") == hs::SyncMode::kUpdateOnly);
  CHECK_FALSE(hs::parse_sync_mode("merge"));
  CHECK(hs::singular("companies") == "company");
  CHECK(hs::singular("deals") == "deal");
}

TEST_CASE("hubspot field rules apply to updates only; nothing left to send is unchanged", "[hubspot]") {
  const std::map<std::string, hs::FieldRule> rules{{"firstname", hs::FieldRule::kOnlyIfEmpty},
                                                   {"jobtitle", hs::FieldRule::kOnlyIfEmpty},
                                                   {"phone", hs::FieldRule::kOnlyIfEmpty},
                                                   {"source", hs::FieldRule::kNever}};
  const hs::Properties record{{"email", "a@x.io"}, {"firstname", "Ann"}, {"jobtitle", "CEO"}, {"phone", "+1"},
                              {"source", "ads"}, {"city", "Oslo"}};
  // firstname held, jobtitle blank, phone null (no value), no source held: only the empty ones and the free field.
  const hs::Held held = std::map<std::string, std::optional<std::string>>{
      {"firstname", "Anne"}, {"jobtitle", "  "}, {"phone", std::nullopt}};
  auto plan = hs::plan_write(hs::SyncMode::kUpsert, rules, record, held, "contacts", "email");
  CHECK(plan.action == hs::WritePlan::Action::kSend);
  CHECK(plan.properties == hs::Properties{{"email", "a@x.io"}, {"jobtitle", "CEO"}, {"phone", "+1"}, {"city", "Oslo"}});
  // A new record gets every field, never ones included.
  plan = hs::plan_write(hs::SyncMode::kUpsert, rules, record, hs::Held{}, "contacts", "email");
  CHECK(plan.properties == record);
  // Held, and only never / filled only_if_empty fields: nothing to send.
  plan = hs::plan_write(hs::SyncMode::kUpsert, rules, {{"email", "a@x.io"}, {"source", "x"}, {"firstname", "B"}}, held,
                        "contacts", "email");
  CHECK(plan.action == hs::WritePlan::Action::kUnchanged);
  CHECK(hs::parse_field_rule("only_if_empty") == hs::FieldRule::kOnlyIfEmpty);
  CHECK_FALSE(hs::parse_field_rule("sometimes"));
}
