// The local CRM sink: upsert outcomes, idempotent re-writes, the merge rule, match keys, views and the query API.
#include "conflux/crm/local_crm.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <string>

#include "conflux/state/sqlite.hpp"
#include "conflux/state/sqlite_state_store.hpp"

namespace {

namespace fs = std::filesystem;
using conflux::Record;
using conflux::StatusCode;
using conflux::Value;
using conflux::crm::CrmFilter;
using conflux::crm::CrmListOptions;
using conflux::crm::Entity;
using conflux::crm::LocalCrm;
using conflux::crm::LocalCrmConfig;
using conflux::crm::MatchKey;
using conflux::engine::WriteOutcome;
using conflux::engine::WriteResult;

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ =
        fs::temp_directory_path() / ("conflux-crm-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

Record make(std::initializer_list<std::pair<const char*, const char*>> fields) {
  Record record;
  for (const auto& [name, value] : fields) record.append(name, Value::string(value));
  return record;
}

std::unique_ptr<LocalCrm> open_crm(LocalCrmConfig config) {
  auto crm = conflux::crm::open_local_crm(config);
  INFO(crm.status().to_string());
  REQUIRE(crm.is_ok());
  return std::move(crm).value();
}

std::unique_ptr<LocalCrm> open_crm(const std::string& path, Entity entity = Entity::kContact) {
  LocalCrmConfig config;
  config.path = path;
  config.entity = entity;
  return open_crm(config);
}

std::vector<WriteOutcome> write(LocalCrm& crm, const std::vector<Record>& records) {
  std::vector<WriteResult> results;
  conflux::Status status = crm.write("contacts", records, results);
  INFO(status.to_string());
  REQUIRE(status.is_ok());
  REQUIRE(results.size() == records.size());
  std::vector<WriteOutcome> outcomes;
  for (const WriteResult& result : results) outcomes.push_back(result.outcome);
  return outcomes;
}

size_t count(LocalCrm& crm, Entity entity = Entity::kContact) {
  auto n = crm.count(entity);
  REQUIRE(n.is_ok());
  return *n;
}

conflux::crm::CrmRow row_by_key(LocalCrm& crm, const std::string& key, Entity entity = Entity::kContact) {
  auto row = crm.get_by_key(entity, key);
  REQUIRE(row.is_ok());
  REQUIRE(row->has_value());
  return **row;
}

}  // namespace

TEST_CASE("local CRM creates, updates, leaves unchanged and rejects", "[crm]") {
  TempDir dir;
  auto crm = open_crm(dir.file("crm/crm.db"));

  auto outcomes =
      write(*crm, {make({{"email", "anna@example.com"}, {"first_name", "Anna"}}),
                   make({{"email", "bob@example.com"}, {"first_name", "Bob"}}), make({{"first_name", "No Email"}}),
                   make({{"email", "   "}, {"first_name", "Blank Email"}})});
  CHECK(outcomes == std::vector<WriteOutcome>{WriteOutcome::kCreated, WriteOutcome::kCreated, WriteOutcome::kRejected,
                                              WriteOutcome::kRejected});
  std::vector<WriteResult> results;
  REQUIRE(crm->write("contacts", {make({{"first_name", "x"}})}, results).is_ok());
  REQUIRE(results.size() == 1);
  CHECK(results[0].message == "missing match key 'email'");

  outcomes = write(*crm, {make({{"email", "anna@example.com"}, {"first_name", "Anna"}}),
                          make({{"email", "bob@example.com"}, {"first_name", "Robert"}})});
  CHECK(outcomes == std::vector<WriteOutcome>{WriteOutcome::kUnchanged, WriteOutcome::kUpdated});
  CHECK(count(*crm) == 2);

  auto bob = row_by_key(*crm, "bob@example.com");
  CHECK(bob.version == 2);
  CHECK(bob.data_json == R"({"email":"bob@example.com","first_name":"Robert"})");
  auto anna = row_by_key(*crm, "anna@example.com");
  CHECK(anna.version == 1);
  CHECK(anna.created_at == anna.updated_at);
  REQUIRE(crm->flush().is_ok());
  REQUIRE(crm->check().is_ok());
}

TEST_CASE("writing the same batch twice is idempotent", "[crm]") {
  TempDir dir;
  const std::string path = dir.file("crm.db");
  std::vector<Record> batch;
  for (int i = 0; i < 50; ++i) {
    Record record;
    record.append("email", Value::string("user" + std::to_string(i) + "@example.com"));
    record.append("score", Value::integer(i));
    record.append("ratio", Value::real(i / 3.0));
    record.append("vip", Value::boolean(i % 2 == 0));
    record.append("tags", Value::json(R"(["a","b"])"));
    record.append("note", Value::null());
    batch.push_back(record);
  }
  {
    auto crm = open_crm(path);
    for (WriteOutcome outcome : write(*crm, batch)) CHECK(outcome == WriteOutcome::kCreated);
  }
  auto crm = open_crm(path);  // as after a crash and restart
  for (WriteOutcome outcome : write(*crm, batch)) CHECK(outcome == WriteOutcome::kUnchanged);
  CHECK(count(*crm) == 50);
  auto row = row_by_key(*crm, "user3@example.com");
  CHECK(row.version == 1);
  CHECK(row.record == batch[3]);
}

TEST_CASE("merge rule: incoming fields overwrite, absent fields keep their stored value", "[crm]") {
  TempDir dir;
  auto crm = open_crm(dir.file("crm.db"));
  REQUIRE(write(*crm, {make({{"email", "a@x.io"}, {"first_name", "Ann"}, {"phone", "+79123456789"}})}) ==
          std::vector<WriteOutcome>{WriteOutcome::kCreated});

  Record incoming = make({{"city", "Berlin"}, {"email", "A@X.io"}, {"first_name", "Anna"}});
  REQUIRE(write(*crm, {incoming}) == std::vector<WriteOutcome>{WriteOutcome::kUpdated});
  auto row = row_by_key(*crm, "a@x.io");
  // Stored order first (the stored email keeps its place but takes the incoming text), new fields appended.
  CHECK(row.data_json == R"({"email":"A@X.io","first_name":"Anna","phone":"+79123456789","city":"Berlin"})");
  CHECK(row.version == 2);

  // A subset of already-stored values changes nothing.
  REQUIRE(write(*crm, {make({{"email", "a@x.io"}, {"city", "Berlin"}})}) ==
          std::vector<WriteOutcome>{WriteOutcome::kUpdated});  // email text differs in case: an update
  REQUIRE(write(*crm, {make({{"email", "a@x.io"}, {"city", "Berlin"}})}) ==
          std::vector<WriteOutcome>{WriteOutcome::kUnchanged});

  // A field present with null clears the stored value.
  Record clear = make({{"email", "a@x.io"}});
  clear.append("phone", Value::null());
  REQUIRE(write(*crm, {clear}) == std::vector<WriteOutcome>{WriteOutcome::kUpdated});
  row = row_by_key(*crm, "a@x.io");
  CHECK(row.data_json == R"({"email":"a@x.io","first_name":"Anna","phone":null,"city":"Berlin"})");
  CHECK(row.version == 4);
}

TEST_CASE("the same key twice in one batch merges into one row", "[crm]") {
  TempDir dir;
  auto crm = open_crm(dir.file("crm.db"));
  auto outcomes = write(
      *crm, {make({{"email", "a@x.io"}, {"first_name", "Ann"}}), make({{"email", " A@X.IO "}, {"last_name", "Lee"}}),
             make({{"email", "a@x.io"}, {"last_name", "Lee"}})});
  CHECK(outcomes == std::vector<WriteOutcome>{WriteOutcome::kCreated, WriteOutcome::kUpdated, WriteOutcome::kUpdated});
  CHECK(count(*crm) == 1);
}

TEST_CASE("match keys are trimmed and Unicode lower-cased", "[crm]") {
  CHECK(conflux::crm::normalize_key_part("  Anna.Smith@Gmail.COM\t") == "anna.smith@gmail.com");
  CHECK(conflux::crm::normalize_key_part("\xC2\xA0") == "\xC2\xA0");  // NBSP is not white space to ICU: kept
  CHECK(conflux::crm::normalize_key_part(" ИВАН@Почта.РФ ") == "иван@почта.рф");

  TempDir dir;
  auto crm = open_crm(dir.file("crm.db"));
  REQUIRE(write(*crm, {make({{"email", "ИВАН@Почта.РФ"}})}) == std::vector<WriteOutcome>{WriteOutcome::kCreated});
  REQUIRE(write(*crm, {make({{"email", "  иван@почта.рф "}})}) == std::vector<WriteOutcome>{WriteOutcome::kUpdated});
  CHECK(count(*crm) == 1);
  CHECK(row_by_key(*crm, "Иван@почта.рф").profile_key == "иван@почта.рф");
}

TEST_CASE("composite match keys join normalised parts with \\x1f", "[crm]") {
  TempDir dir;
  LocalCrmConfig config;
  config.path = dir.file("crm.db");
  config.match_key = MatchKey{{"first_name", "last_name"}, {}};
  auto crm = open_crm(config);

  auto outcomes = write(*crm, {make({{"first_name", "Anna"}, {"last_name", "Smith"}, {"city", "London"}}),
                               make({{"first_name", " ANNA "}, {"last_name", "smith"}, {"city", "Paris"}}),
                               make({{"first_name", "Anna"}, {"last_name", "Jones"}}),
                               make({{"first_name", "Anna"}, {"last_name", ""}})});
  CHECK(outcomes == std::vector<WriteOutcome>{WriteOutcome::kCreated, WriteOutcome::kUpdated, WriteOutcome::kCreated,
                                              WriteOutcome::kRejected});
  std::vector<WriteResult> results;
  REQUIRE(crm->write("contacts", {make({{"first_name", "Anna"}})}, results).is_ok());
  CHECK(results.at(0).message == "missing match key 'last_name' (match key: first_name, last_name)");

  auto row = row_by_key(*crm, "ANNA\x1fSMITH");
  CHECK(row.profile_key == "anna\x1fsmith");
  CHECK(row.record.find("city")->text == "Paris");
  CHECK(count(*crm) == 2);
}

TEST_CASE("companies match by domain, falling back to name; deals by source_id", "[crm]") {
  TempDir dir;
  const std::string path = dir.file("crm.db");
  {
    auto companies = open_crm(path, Entity::kCompany);
    auto outcomes =
        write(*companies, {make({{"name", "Acme"}, {"domain", "acme.com"}}),
                           make({{"name", "Acme Inc"}, {"domain", "ACME.com"}}), make({{"name", "Initech"}}),
                           make({{"name", "initech "}, {"city", "Austin"}}), make({{"city", "Nowhere"}})});
    CHECK(outcomes == std::vector<WriteOutcome>{WriteOutcome::kCreated, WriteOutcome::kUpdated, WriteOutcome::kCreated,
                                                WriteOutcome::kUpdated, WriteOutcome::kRejected});
    std::vector<WriteResult> results;
    REQUIRE(companies->write("companies", {make({{"city", "Nowhere"}})}, results).is_ok());
    CHECK(results.at(0).message == "missing match key 'domain' and fallback match key 'name'");
    CHECK(count(*companies, Entity::kCompany) == 2);
    CHECK(count(*companies, Entity::kContact) == 0);
  }
  auto deals = open_crm(path, Entity::kDeal);
  Record deal;
  deal.append("source_id", Value::integer(12345));
  deal.append("status", Value::string("won"));
  deal.append("amount", Value::decimal("1999.90"));
  CHECK(write(*deals, {deal}) == std::vector<WriteOutcome>{WriteOutcome::kCreated});
  CHECK(write(*deals, {deal}) == std::vector<WriteOutcome>{WriteOutcome::kUnchanged});
  CHECK(count(*deals, Entity::kDeal) == 1);
  auto found = deals->lookup(Entity::kDeal, "12345");  // the key, not id 12345
  REQUIRE(found.is_ok());
  REQUIRE(found->has_value());
  CHECK((*found)->record.find("status")->text == "won");
}

TEST_CASE("views expose the common columns", "[crm]") {
  TempDir dir;
  const std::string path = dir.file("crm.db");
  auto crm = open_crm(path);
  REQUIRE(write(*crm, {make({{"email", "a@x.io"},
                             {"phone", "+79123456789"},
                             {"first_name", "Anna"},
                             {"last_name", "Smith"},
                             {"company_name", "Acme"},
                             {"source", "csv"}}),
                       make({{"email", "b@x.io"}, {"full_name", "Bob B."}})})
              .size() == 2);

  auto db = conflux::state::sqlite::Database::open(path, "local CRM database");
  REQUIRE(db.is_ok());
  auto st = db->prepare("SELECT * FROM contacts_v ORDER BY id");
  REQUIRE(st.is_ok());
  std::vector<std::string> columns;
  for (int i = 0; i < st->column_count(); ++i) columns.push_back(st->column_name(i));
  CHECK(columns == std::vector<std::string>{"id", "email", "phone", "first_name", "last_name", "full_name", "company",
                                            "source", "created_at", "updated_at", "version"});
  auto row = st->step();
  REQUIRE(row.is_ok());
  REQUIRE(*row);
  CHECK(st->column_text(1) == "a@x.io");
  CHECK(st->column_text(2) == "+79123456789");
  CHECK(st->column_text(5) == "Anna Smith");
  CHECK(st->column_text(6) == "Acme");
  CHECK(st->column_text(7) == "csv");
  row = st->step();
  REQUIRE(row.is_ok());
  REQUIRE(*row);
  CHECK(st->column_text(5) == "Bob B.");
  CHECK(st->column_is_null(6));

  for (const char* view : {"companies_v", "deals_v"}) {
    auto other = db->prepare(std::string("SELECT * FROM ") + view);
    CHECK(other.is_ok());
  }
}

TEST_CASE("query API: list with filter and paging, count, get, lookup", "[crm]") {
  TempDir dir;
  auto crm = open_crm(dir.file("crm.db"));
  std::vector<Record> batch;
  for (int i = 1; i <= 5; ++i) {
    Record record;
    record.append("email", Value::string("u" + std::to_string(i) + "@x.io"));
    record.append("city", Value::string(i % 2 == 0 ? "Berlin" : "Paris"));
    record.append("age", Value::integer(20 + i));
    record.append("vip", Value::boolean(i == 1));
    batch.push_back(record);
  }
  write(*crm, batch);

  auto all = crm->list(Entity::kContact);
  REQUIRE(all.is_ok());
  REQUIRE(all->size() == 5);
  CHECK(all->at(0).profile_key == "u1@x.io");
  CHECK(all->at(0).record.find("age")->int_value == 21);

  CrmListOptions paged;
  paged.limit = 2;
  paged.offset = 3;
  auto page = crm->list(Entity::kContact, paged);
  REQUIRE(page.is_ok());
  REQUIRE(page->size() == 2);
  CHECK(page->at(0).profile_key == "u4@x.io");

  CrmListOptions filtered;
  filtered.filter = CrmFilter{"city", "berlin"};  // case-insensitive
  auto berlin = crm->list(Entity::kContact, filtered);
  REQUIRE(berlin.is_ok());
  CHECK(berlin->size() == 2);
  auto n = crm->count(Entity::kContact, CrmFilter{"city", "Paris"});
  REQUIRE(n.is_ok());
  CHECK(*n == 3);
  n = crm->count(Entity::kContact, CrmFilter{"age", "23"});
  REQUIRE(n.is_ok());
  CHECK(*n == 1);
  n = crm->count(Entity::kContact, CrmFilter{"vip", "true"});
  REQUIRE(n.is_ok());
  CHECK(*n == 1);
  auto bad = crm->list(Entity::kContact, CrmListOptions{10, 0, CrmFilter{"a\"b", "x"}});
  CHECK(bad.status().code() == StatusCode::kFailedPrecondition);

  const int64_t id = all->at(2).id;
  auto by_id = crm->get(Entity::kContact, id);
  REQUIRE(by_id.is_ok());
  REQUIRE(by_id->has_value());
  CHECK((*by_id)->profile_key == "u3@x.io");
  auto lookup = crm->lookup(Entity::kContact, std::to_string(id));
  REQUIRE(lookup.is_ok());
  REQUIRE(lookup->has_value());
  CHECK((*lookup)->id == id);
  lookup = crm->lookup(Entity::kContact, " U3@X.IO");
  REQUIRE(lookup.is_ok());
  REQUIRE(lookup->has_value());
  CHECK((*lookup)->id == id);
  auto missing = crm->get(Entity::kContact, 999);
  REQUIRE(missing.is_ok());
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("a failed batch writes nothing and reports no results", "[crm]") {
  TempDir dir;
  const std::string path = dir.file("crm.db");
  LocalCrmConfig config;
  config.path = path;
  config.sqlite.busy_timeout_ms = 50;
  auto crm = open_crm(config);

  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  std::vector<WriteResult> results;
  conflux::Status status = crm->write("contacts", {make({{"email", "a@x.io"}})}, results);
  CHECK(status.code() == StatusCode::kUnavailable);
  CHECK(status.message() ==
        "local CRM database '" + path + "' is locked by another process (is another conflux run using it?)");
  CHECK(results.empty());
  CHECK(crm->check().code() == StatusCode::kUnavailable);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK(count(*crm) == 0);
  REQUIRE(crm->check().is_ok());
}

TEST_CASE("a stored row that is not a JSON object rejects only its record", "[crm]") {
  TempDir dir;
  const std::string path = dir.file("crm.db");
  auto crm = open_crm(path);
  write(*crm, {make({{"email", "a@x.io"}}), make({{"email", "b@x.io"}})});
  {
    auto db = conflux::state::sqlite::Database::open(path, "local CRM database");
    REQUIRE(db.is_ok());
    REQUIRE(db->exec("UPDATE contacts SET data = '[1,2]' WHERE profile_key = 'a@x.io'").is_ok());
  }
  std::vector<WriteResult> results;
  REQUIRE(crm->write("contacts", {make({{"email", "a@x.io"}, {"x", "1"}}), make({{"email", "b@x.io"}, {"x", "1"}})},
                     results)
              .is_ok());
  REQUIRE(results.size() == 2);
  CHECK(results[0].outcome == WriteOutcome::kRejected);
  CHECK_THAT(results[0].message, Catch::Contains("not a JSON object"));
  CHECK(results[1].outcome == WriteOutcome::kUpdated);
}

TEST_CASE("open_local_crm validates its config and its file", "[crm]") {
  TempDir dir;
  auto empty_path = conflux::crm::open_local_crm(LocalCrmConfig{});
  CHECK(empty_path.status().code() == StatusCode::kFailedPrecondition);

  LocalCrmConfig no_fields;
  no_fields.path = dir.file("crm.db");
  no_fields.match_key = MatchKey{};
  CHECK(conflux::crm::open_local_crm(no_fields).status().code() == StatusCode::kFailedPrecondition);

  // A state database is not a CRM database.
  const std::string state_path = dir.file("state.db");
  REQUIRE(conflux::state::open_sqlite_state_store(state_path).is_ok());
  LocalCrmConfig wrong_file;
  wrong_file.path = state_path;
  auto crm = conflux::crm::open_local_crm(wrong_file);
  CHECK(crm.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(crm.status().message(), Catch::Contains(state_path));

  CHECK(conflux::crm::parse_entity("companies") == Entity::kCompany);
  CHECK(conflux::crm::parse_entity("deal") == Entity::kDeal);
  CHECK_FALSE(conflux::crm::parse_entity("lead").has_value());
  CHECK(std::string(conflux::crm::entity_table(Entity::kContact)) == "contacts");
}

TEST_CASE("a full disk fails the whole batch with 'disk full'", "[crm]") {
  TempDir dir;
  const std::string path = dir.file("crm.db");
  open_crm(path);  // create the schema without a cap
  LocalCrmConfig config;
  config.path = path;
  config.sqlite.max_page_count = 1;  // test-only: caps the file at its current size
  auto crm = open_crm(config);
  std::vector<Record> batch;
  for (int i = 0; i < 200; ++i) {
    Record record;
    record.append("email", Value::string("u" + std::to_string(i) + "@x.io"));
    record.append("notes", Value::string(std::string(2000, 'n')));
    batch.push_back(record);
  }
  std::vector<WriteResult> results;
  conflux::Status status = crm->write("contacts", batch, results);
  CHECK(status.code() == StatusCode::kUnavailable);
  CHECK(status.message() == "disk full while writing the local CRM database '" + path +
                                "' (nothing of this batch was written; it will be re-read on the next run)");
  CHECK(results.empty());
  CHECK(count(*crm) == 0);
}

TEST_CASE("sync modes: update_only rejects records it does not hold, insert_only never changes stored ones", "[crm]") {
  TempDir dir;
  {
    auto crm = open_crm(dir.file("crm.db"));
    REQUIRE(write(*crm, {make({{"email", "a@x.io"}, {"first_name", "Ann"}})}) ==
            std::vector<WriteOutcome>{WriteOutcome::kCreated});
  }
  LocalCrmConfig update_only;
  update_only.path = dir.file("crm.db");
  update_only.mode = conflux::crm::SyncMode::kUpdateOnly;
  {
    auto crm = open_crm(update_only);
    std::vector<WriteResult> results;
    REQUIRE(crm->write("contacts", {make({{"email", "a@x.io"}, {"first_name", "Anna"}}), make({{"email", "b@x.io"}})},
                       results)
                .is_ok());
    REQUIRE(results.size() == 2);
    CHECK(results[0].outcome == WriteOutcome::kUpdated);
    CHECK(results[1].outcome == WriteOutcome::kRejected);
    CHECK(results[1].message.find("update_only") != std::string::npos);
    CHECK(count(*crm) == 1);
  }
  LocalCrmConfig insert_only;
  insert_only.path = dir.file("crm.db");
  insert_only.mode = conflux::crm::SyncMode::kInsertOnly;
  auto crm = open_crm(insert_only);
  REQUIRE(write(*crm, {make({{"email", "a@x.io"}, {"first_name", "Changed"}}), make({{"email", "c@x.io"}})}) ==
          std::vector<WriteOutcome>{WriteOutcome::kUnchanged, WriteOutcome::kCreated});
  CHECK(row_by_key(*crm, "a@x.io").data_json == R"({"email":"a@x.io","first_name":"Anna"})");
}

TEST_CASE("field rules: only_if_empty fills gaps, never keeps the value the record was created with", "[crm]") {
  TempDir dir;
  LocalCrmConfig config;
  config.path = dir.file("crm.db");
  config.field_rules = {{"phone", conflux::crm::FieldRule::kOnlyIfEmpty},
                        {"source", conflux::crm::FieldRule::kNever}};
  auto crm = open_crm(config);
  REQUIRE(write(*crm, {make({{"email", "a@x.io"}, {"phone", ""}, {"source", "meta"}, {"city", "Omsk"}})}) ==
          std::vector<WriteOutcome>{WriteOutcome::kCreated});
  // phone was blank: filled; source is never changed; city is overwritten.
  REQUIRE(write(*crm, {make({{"email", "a@x.io"}, {"phone", "+79123456789"}, {"source", "crm"}, {"city", "Kazan"}})}) ==
          std::vector<WriteOutcome>{WriteOutcome::kUpdated});
  CHECK(row_by_key(*crm, "a@x.io").data_json ==
        R"({"email":"a@x.io","phone":"+79123456789","source":"meta","city":"Kazan"})");
  // phone now holds a value: only_if_empty keeps it; nothing else changes, so the record is unchanged.
  REQUIRE(write(*crm, {make({{"email", "a@x.io"}, {"phone", "+70000000000"}, {"source", "x"}})}) ==
          std::vector<WriteOutcome>{WriteOutcome::kUnchanged});
}
