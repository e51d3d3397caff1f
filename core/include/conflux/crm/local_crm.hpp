// The built-in local CRM: a SQLite file of contacts, companies and deals, the sink a pipeline writes to when no
// target CRM is configured, and the store `conflux profiles` reads.
//
// Upsert by match key. Each record's match key (one field, or several for a composite key) is normalised (trimmed,
// Unicode lower-cased, composite parts joined with \x1f) into the row's profile_key, which is UNIQUE, so re-writing a
// batch after a crash never creates a duplicate row.
//
// Merge rule, when a record's key already has a row: every field present in the incoming record replaces the stored
// field of that name (a field present with null replaces the stored value with null); every stored field the
// incoming record does not carry keeps its stored value. Stored fields keep their order; new fields are appended in
// the incoming order. A merge that changes nothing is kUnchanged and leaves the row (updated_at, version) untouched.
//
// Schema and views (contacts_v, companies_v, deals_v): docs/state.md.
#pragma once

#include <cstdint>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conflux/common/status.hpp"
#include "conflux/engine/stage.hpp"
#include "conflux/record/record.hpp"
#include "conflux/state/sqlite.hpp"

namespace conflux::crm {

enum class Entity { kContact, kCompany, kDeal };

// "contact", "company", "deal".
const char* entity_name(Entity entity);
// The table the entity lives in: "contacts", "companies", "deals".
const char* entity_table(Entity entity);
// Accepts the singular or the plural name; nullopt for anything else.
std::optional<Entity> parse_entity(std::string_view name);

// What the sink does with a record whose match key is missing or blank. Only kReject exists: the record is reported
// kRejected and the engine dead-letters it.
enum class OnMissingKey { kReject };

// The fields a record is matched by. `fields` are all required (a composite key when more than one); when any of
// them is blank, `fallback` is tried the same way (e.g. companies: domain, else name).
struct MatchKey {
  std::vector<std::string> fields;
  std::vector<std::string> fallback;
};

// contact: email; company: domain, falling back to name; deal: source_id.
MatchKey default_match_key(Entity entity);

// How write() treats records by whether their key is already stored.
enum class SyncMode {
  kUpsert,      // create or update
  kUpdateOnly,  // update stored records; a record not stored is rejected ("not in the CRM"), so it can be replayed
  kInsertOnly,  // create new records; a stored one is left as it is (outcome unchanged)
};
std::optional<SyncMode> parse_sync_mode(const std::string& text);

// How an incoming field value treats the stored one when a record is updated. Creating a record writes every field.
enum class FieldRule {
  kOverwrite,    // the incoming value replaces the stored one (the default)
  kOnlyIfEmpty,  // written only when the stored value is missing, null or blank
  kNever,        // written when the record is created, never changed afterwards
};
std::optional<FieldRule> parse_field_rule(const std::string& text);

struct LocalCrmConfig {
  std::string path;                   // the SQLite file; created with its directories when missing
  Entity entity = Entity::kContact;   // the table write() upserts into, whatever the stream is called
  SyncMode mode = SyncMode::kUpsert;
  std::map<std::string, FieldRule> field_rules;  // per field; absent: kOverwrite
  std::optional<MatchKey> match_key;  // nullopt: default_match_key(entity)
  OnMissingKey on_missing_key = OnMissingKey::kReject;
  state::SqliteOptions sqlite;  // busy timeout etc.
};

// One stored row.
struct CrmRow {
  int64_t id = 0;
  std::string profile_key;
  std::string data_json;   // the stored JSON object, field order kept
  Record record;           // data_json as a record
  std::string created_at;  // ISO-8601 UTC
  std::string updated_at;
  int64_t version = 0;  // 1 when created, +1 per update that changed something
};

// Rows whose data field `field` equals `value` (compared as text, ASCII case-insensitively).
struct CrmFilter {
  std::string field;
  std::string value;
};

struct CrmListOptions {
  size_t limit = 100;  // 0: no limit
  size_t offset = 0;
  std::optional<CrmFilter> filter;
};

// Not thread-safe: use an instance from one thread at a time. Several processes may share the file; a writer waits
// busy_timeout_ms for another's lock, then gets kUnavailable.
class LocalCrm final : public engine::Sink {
 public:
  ~LocalCrm() override;

  // Upserts `records` into the configured entity's table in one transaction; `stream` is not used. Per record:
  // kCreated, kUpdated, kUnchanged, or kRejected ("missing match key 'email'"; also a stored row whose data is not
  // valid JSON). A non-OK status means nothing of the batch was written and `results` is empty: kUnavailable when
  // the file is locked or the disk full, kDataLoss when it is corrupt.
  Status write(const std::string& stream, const std::vector<Record>& records,
               std::vector<engine::WriteResult>& results) override;
  // Nothing to do: every write() commits with synchronous=FULL.
  Status flush() override;
  bool can_delete() const override { return true; }
  Status remove(const std::vector<std::string>& key_fields, const std::vector<std::vector<std::string>>& keys,
                std::vector<bool>& deleted) override;
  // Proves the file can be written now (takes and releases the write lock).
  Status check() override;

  // Query API (for the CLI). Rows are in id order.
  Result<std::vector<CrmRow>> list(Entity entity, const CrmListOptions& options = {});
  Result<size_t> count(Entity entity, const std::optional<CrmFilter>& filter = std::nullopt);
  Result<std::optional<CrmRow>> get(Entity entity, int64_t id);
  // `key` is normalised like a profile key; give composite parts separated by \x1f.
  Result<std::optional<CrmRow>> get_by_key(Entity entity, const std::string& key);
  // By key first, then, when `id_or_key` is all digits, by id: what `conflux profiles get` takes.
  Result<std::optional<CrmRow>> lookup(Entity entity, const std::string& id_or_key);

  // The profile key of `record` under the configured match key; nullopt when the key is missing or blank.
  std::optional<std::string> profile_key(const Record& record) const;

  const std::string& path() const;
  const LocalCrmConfig& config() const { return config_; }

 private:
  friend Result<std::unique_ptr<LocalCrm>> open_local_crm(const LocalCrmConfig& config);
  LocalCrm(LocalCrmConfig config, MatchKey key, state::sqlite::Database db);

  Status write_batch(const std::vector<Record>& records, std::vector<engine::WriteResult>& results);
  Result<engine::WriteResult> upsert(const Record& record);
  std::string missing_key_message(const Record& record) const;
  // By profile key when `key` is given, else by id.
  Result<std::optional<CrmRow>> select_one(Entity entity, const std::optional<std::string>& key, int64_t id);

  LocalCrmConfig config_;
  MatchKey key_;
  state::sqlite::Database db_;
};

// Opens (creating when needed) the local CRM database at config.path and brings its schema up to date.
// Errors: kFailedPrecondition (bad config: empty path or match key field; cannot create/open the file; not a Conflux
// local CRM database), kUnavailable (locked), kDataLoss (corrupt).
Result<std::unique_ptr<LocalCrm>> open_local_crm(const LocalCrmConfig& config);

// The normalised form of one match key value: trimmed of Unicode white space and Unicode lower-cased.
std::string normalize_key_part(std::string_view text);

}  // namespace conflux::crm
