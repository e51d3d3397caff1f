#include "conflux/crm/local_crm.hpp"

#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

#include "conflux/record/json.hpp"

namespace conflux::crm {
namespace {

using engine::WriteOutcome;
using engine::WriteResult;
using state::sqlite::CachedStatement;
using state::sqlite::Database;
using state::sqlite::Transaction;
using Json = nlohmann::ordered_json;

constexpr const char* kKind = "local CRM database";
constexpr int32_t kCrmApplicationId = 0x4346434d;  // "CFCM": Conflux local CRM
constexpr char kKeySeparator = '\x1f';

// The views pull the columns most people look for out of the JSON, so `sqlite3 crm.db 'select * from contacts_v'`
// is readable; the data column stays the source of truth.
const std::vector<state::sqlite::Migration>& crm_migrations() {
  static const std::vector<state::sqlite::Migration> kMigrations = {
      {1, R"sql(
CREATE TABLE contacts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  profile_key TEXT NOT NULL UNIQUE,
  data        TEXT NOT NULL CHECK (json_valid(data)),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  version     INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE companies (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  profile_key TEXT NOT NULL UNIQUE,
  data        TEXT NOT NULL CHECK (json_valid(data)),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  version     INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE deals (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  profile_key TEXT NOT NULL UNIQUE,
  data        TEXT NOT NULL CHECK (json_valid(data)),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  version     INTEGER NOT NULL DEFAULT 1
);

CREATE VIEW contacts_v AS SELECT
  id,
  json_extract(data, '$.email') AS email,
  json_extract(data, '$.phone') AS phone,
  json_extract(data, '$.first_name') AS first_name,
  json_extract(data, '$.last_name') AS last_name,
  coalesce(json_extract(data, '$.full_name'),
           nullif(trim(coalesce(json_extract(data, '$.first_name'), '') || ' ' ||
                       coalesce(json_extract(data, '$.last_name'), '')), '')) AS full_name,
  coalesce(json_extract(data, '$.company_name'), json_extract(data, '$.company')) AS company,
  json_extract(data, '$.source') AS source,
  created_at,
  updated_at,
  version
FROM contacts;

CREATE VIEW companies_v AS SELECT
  id,
  json_extract(data, '$.name') AS name,
  json_extract(data, '$.domain') AS domain,
  json_extract(data, '$.website') AS website,
  json_extract(data, '$.email') AS email,
  json_extract(data, '$.phone') AS phone,
  json_extract(data, '$.industry') AS industry,
  json_extract(data, '$.city') AS city,
  json_extract(data, '$.country') AS country,
  json_extract(data, '$.source') AS source,
  created_at,
  updated_at,
  version
FROM companies;

CREATE VIEW deals_v AS SELECT
  id,
  json_extract(data, '$.source_id') AS source_id,
  json_extract(data, '$.name') AS name,
  json_extract(data, '$.status') AS status,
  json_extract(data, '$.stage') AS stage,
  json_extract(data, '$.amount') AS amount,
  json_extract(data, '$.currency') AS currency,
  json_extract(data, '$.email') AS email,
  json_extract(data, '$.closed_at') AS closed_at,
  json_extract(data, '$.source') AS source,
  created_at,
  updated_at,
  version
FROM deals;
)sql"},
  };
  return kMigrations;
}

const std::string kNow = state::sqlite::kSqlUtcNow;
const std::string kRowColumns = "SELECT id, profile_key, data, created_at, updated_at, version FROM ";

// Serialises `json` the one way the CRM stores it, so that stored text can be compared byte for byte. Invalid UTF-8
// is replaced (U+FFFD) rather than failing the batch.
std::string dump(const Json& json) { return json.dump(-1, ' ', false, Json::error_handler_t::replace); }

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// The ASCII characters ICU's u_isWhitespace accepts, so the fast path trims exactly what the ICU path trims.
bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); }

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += ", ";
    out += part;
  }
  return out;
}

bool all_digits(const std::string& text) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

CrmRow read_row(const state::sqlite::Statement& st) {
  CrmRow row;
  row.id = st.column_int64(0);
  row.profile_key = st.column_text(1);
  row.data_json = st.column_text(2);
  Json parsed = Json::parse(row.data_json, nullptr, false);
  if (parsed.is_object()) row.record = record_from_json(parsed);
  row.created_at = st.column_text(3);
  row.updated_at = st.column_text(4);
  row.version = st.column_int64(5);
  return row;
}

// The SQL expression for a data field as text: booleans read "true"/"false" (json_extract would give 1/0).
// Compared with :value, ASCII case-insensitively.
const char* kFieldFilter =
    " WHERE (CASE json_type(data, :path) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
    "ELSE CAST(json_extract(data, :path) AS TEXT) END) = :value COLLATE NOCASE";

Status check_filter(const CrmFilter& filter) {
  if (filter.field.empty() || filter.field.find('"') != std::string::npos) {
    return failed_precondition("cannot filter on the field name '" + filter.field +
                               "': give a non-empty name without double quotes");
  }
  return Status::ok();
}

Status bind_filter(state::sqlite::Statement& st, const CrmFilter& filter) {
  CONFLUX_RETURN_IF_ERROR(st.bind_text(":path", "$.\"" + filter.field + "\""));
  return st.bind_text(":value", filter.value);
}

}  // namespace

const char* entity_name(Entity entity) {
  switch (entity) {
    case Entity::kContact:
      return "contact";
    case Entity::kCompany:
      return "company";
    case Entity::kDeal:
      return "deal";
  }
  return "contact";
}

const char* entity_table(Entity entity) {
  switch (entity) {
    case Entity::kContact:
      return "contacts";
    case Entity::kCompany:
      return "companies";
    case Entity::kDeal:
      return "deals";
  }
  return "contacts";
}

std::optional<Entity> parse_entity(std::string_view name) {
  for (Entity entity : {Entity::kContact, Entity::kCompany, Entity::kDeal}) {
    if (name == entity_name(entity) || name == entity_table(entity)) return entity;
  }
  return std::nullopt;
}

std::optional<SyncMode> parse_sync_mode(const std::string& text) {
  if (text == "upsert") return SyncMode::kUpsert;
  if (text == "update_only") return SyncMode::kUpdateOnly;
  if (text == "insert_only") return SyncMode::kInsertOnly;
  return std::nullopt;
}

std::optional<FieldRule> parse_field_rule(const std::string& text) {
  if (text == "overwrite") return FieldRule::kOverwrite;
  if (text == "only_if_empty") return FieldRule::kOnlyIfEmpty;
  if (text == "never") return FieldRule::kNever;
  return std::nullopt;
}

namespace {
bool is_blank_text(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}
}  // namespace

MatchKey default_match_key(Entity entity) {
  switch (entity) {
    case Entity::kContact:
      return {{"email"}, {}};
    case Entity::kCompany:
      return {{"domain"}, {"name"}};
    case Entity::kDeal:
      return {{"source_id"}, {}};
  }
  return {{"email"}, {}};
}

std::string normalize_key_part(std::string_view text) {
  if (is_ascii(text)) {
    size_t begin = 0;
    size_t end = text.size();
    while (begin < end && is_ascii_space(text[begin])) ++begin;
    while (end > begin && is_ascii_space(text[end - 1])) --end;
    std::string out(text.substr(begin, end - begin));
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  icu::UnicodeString unicode =
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  unicode.trim();
  unicode.toLower(icu::Locale::getRoot());
  std::string out;
  unicode.toUTF8String(out);
  return out;
}

// ---- LocalCrm ----

LocalCrm::LocalCrm(LocalCrmConfig config, MatchKey key, Database db)
    : config_(std::move(config)), key_(std::move(key)), db_(std::move(db)) {}

LocalCrm::~LocalCrm() = default;

const std::string& LocalCrm::path() const { return db_.path(); }

std::optional<std::string> LocalCrm::profile_key(const Record& record) const {
  auto build = [&record](const std::vector<std::string>& fields) -> std::optional<std::string> {
    if (fields.empty()) return std::nullopt;
    std::string key;
    for (size_t i = 0; i < fields.size(); ++i) {
      const Value* value = record.find(fields[i]);
      if (value == nullptr || value->is_blank()) return std::nullopt;
      std::string part = normalize_key_part(value->to_text());
      if (part.empty()) return std::nullopt;
      if (i > 0) key += kKeySeparator;
      key += part;
    }
    return key;
  };
  if (std::optional<std::string> key = build(key_.fields)) return key;
  return build(key_.fallback);
}

std::string LocalCrm::missing_key_message(const Record& record) const {
  auto first_missing = [&record](const std::vector<std::string>& fields) {
    for (const std::string& field : fields) {
      const Value* value = record.find(field);
      if (value == nullptr || normalize_key_part(value->to_text()).empty()) return field;
    }
    return fields.empty() ? std::string() : fields.front();
  };
  std::string message = "missing match key '" + first_missing(key_.fields) + "'";
  if (key_.fields.size() > 1) message += " (match key: " + join(key_.fields) + ")";
  if (!key_.fallback.empty()) {
    message += " and fallback match key '" + first_missing(key_.fallback) + "'";
    if (key_.fallback.size() > 1) message += " (fallback: " + join(key_.fallback) + ")";
  }
  return message;
}

Status LocalCrm::write(const std::string& /*stream*/, const std::vector<Record>& records,
                       std::vector<WriteResult>& results) {
  results.clear();
  Status status;
  try {
    status = write_batch(records, results);
  } catch (const std::exception& e) {
    // Nothing below should throw; a bad_alloc or a JSON library surprise must still not cross the sink boundary.
    status = internal_error(std::string(kKind) + " '" + path() + "': writing a batch failed: " + e.what());
  }
  if (!status.is_ok()) results.clear();
  if (state::sqlite::is_disk_full(status)) {
    return unavailable(status.message() + " (nothing of this batch was written; it will be re-read on the next run)");
  }
  return status;
}

Status LocalCrm::write_batch(const std::vector<Record>& records, std::vector<WriteResult>& results) {
  if (records.empty()) return Status::ok();
  results.reserve(records.size());
  Result<Transaction> tx = Transaction::begin(db_);
  if (!tx) return tx.status();
  for (const Record& record : records) {
    Result<WriteResult> result = upsert(record);
    if (!result) return result.status();
    results.push_back(std::move(result).value());
  }
  return tx->commit();
}

Result<WriteResult> LocalCrm::upsert(const Record& record) {
  std::optional<std::string> key = profile_key(record);
  if (!key) return WriteResult{WriteOutcome::kRejected, missing_key_message(record)};
  const std::string table = entity_table(config_.entity);

  int64_t id = 0;
  std::string stored_text;
  {
    Result<CachedStatement> select = db_.prepare_cached("SELECT id, data FROM " + table + " WHERE profile_key = ?1");
    if (!select) return select.status();
    CONFLUX_RETURN_IF_ERROR((*select)->bind_text(1, *key));
    Result<bool> found = (*select)->step();
    if (!found) return found.status();
    if (*found) {
      id = (*select)->column_int64(0);
      stored_text = (*select)->column_text(1);
    }
  }

  if (id == 0 && config_.mode == SyncMode::kUpdateOnly) {
    return WriteResult{WriteOutcome::kRejected, "no stored " + std::string(entity_name(config_.entity)) +
                                                    " has this key and the sink's mode is update_only"};
  }
  if (id != 0 && config_.mode == SyncMode::kInsertOnly) return WriteResult{WriteOutcome::kUnchanged, {}};
  if (id == 0) {
    Result<CachedStatement> insert = db_.prepare_cached(
        "INSERT INTO " + table + " (profile_key, data, created_at, updated_at, version) VALUES (?1, ?2, " + kNow +
        ", " + kNow + ", 1)");
    if (!insert) return insert.status();
    CONFLUX_RETURN_IF_ERROR((*insert)->bind_text(1, *key));
    CONFLUX_RETURN_IF_ERROR((*insert)->bind_text(2, record_to_json_text(record)));
    CONFLUX_RETURN_IF_ERROR((*insert)->run());
    return WriteResult{WriteOutcome::kCreated, {}};
  }

  Json stored = Json::parse(stored_text, nullptr, false);
  if (!stored.is_object()) {
    return WriteResult{WriteOutcome::kRejected, "the stored " + std::string(entity_name(config_.entity)) + " " +
                                                    std::to_string(id) + " with this key holds data that is not a " +
                                                    "JSON object; repair or delete that row of " + table};
  }
  // The merge rule (see local_crm.hpp): incoming fields replace, absent fields keep, stored order first; a field's
  // rule can hold the stored value back.
  Json merged = stored;
  for (const Field& field : record.fields()) {
    auto rule = config_.field_rules.find(field.name);
    if (rule != config_.field_rules.end() && merged.contains(field.name)) {
      const Json& current = merged[field.name];
      const bool empty = current.is_null() || (current.is_string() && is_blank_text(current.get<std::string>()));
      if (rule->second == FieldRule::kNever || (rule->second == FieldRule::kOnlyIfEmpty && !empty)) continue;
    }
    merged[field.name] = value_to_json(field.value);
  }
  std::string merged_text = dump(merged);
  // Stored text is normally this store's own serialisation; re-serialise only when it is not (edited by hand).
  if (merged_text == stored_text || merged_text == dump(stored)) return WriteResult{WriteOutcome::kUnchanged, {}};

  Result<CachedStatement> update = db_.prepare_cached("UPDATE " + table + " SET data = ?2, updated_at = " + kNow +
                                                      ", version = version + 1 WHERE id = ?1");
  if (!update) return update.status();
  CONFLUX_RETURN_IF_ERROR((*update)->bind_int64(1, id));
  CONFLUX_RETURN_IF_ERROR((*update)->bind_text(2, merged_text));
  CONFLUX_RETURN_IF_ERROR((*update)->run());
  return WriteResult{WriteOutcome::kUpdated, {}};
}

Status LocalCrm::flush() { return Status::ok(); }

Status LocalCrm::remove(const std::vector<std::string>& key_fields, const std::vector<std::vector<std::string>>& keys,
                        std::vector<bool>& deleted) {
  deleted.assign(keys.size(), false);
  const std::string table = entity_table(config_.entity);
  Result<Transaction> tx = Transaction::begin(db_);
  if (!tx) return tx.status();
  Result<CachedStatement> erase = db_.prepare_cached("DELETE FROM " + table + " WHERE profile_key = ?1");
  if (!erase) return erase.status();
  for (size_t i = 0; i < keys.size(); ++i) {
    // The key values as a record, so the stored profile key is derived exactly as when the record was written.
    Record record;
    for (size_t f = 0; f < key_fields.size() && f < keys[i].size(); ++f) {
      record.append(key_fields[f], Value::string(keys[i][f]));
    }
    std::optional<std::string> key = profile_key(record);
    if (!key) continue;
    (*erase)->reset();
    CONFLUX_RETURN_IF_ERROR((*erase)->bind_text(1, *key));
    CONFLUX_RETURN_IF_ERROR((*erase)->run());
    deleted[i] = db_.changes() > 0;
  }
  return tx->commit();
}

Status LocalCrm::check() {
  Result<Transaction> tx = Transaction::begin(db_);
  if (!tx) return tx.status();
  tx->rollback();
  return Status::ok();
}

Result<std::vector<CrmRow>> LocalCrm::list(Entity entity, const CrmListOptions& options) {
  std::string sql = kRowColumns + entity_table(entity);
  if (options.filter) {
    CONFLUX_RETURN_IF_ERROR(check_filter(*options.filter));
    sql += kFieldFilter;
  }
  sql += " ORDER BY id LIMIT :limit OFFSET :offset";
  Result<CachedStatement> st = db_.prepare_cached(sql);
  if (!st) return st.status();
  // SQLite reads a negative LIMIT as "no limit".
  CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(":limit", options.limit == 0 ? -1 : static_cast<int64_t>(options.limit)));
  CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(":offset", static_cast<int64_t>(options.offset)));
  if (options.filter) CONFLUX_RETURN_IF_ERROR(bind_filter(**st, *options.filter));
  std::vector<CrmRow> rows;
  for (;;) {
    Result<bool> row = (*st)->step();
    if (!row) return row.status();
    if (!*row) break;
    rows.push_back(read_row(**st));
  }
  return rows;
}

Result<size_t> LocalCrm::count(Entity entity, const std::optional<CrmFilter>& filter) {
  std::string sql = std::string("SELECT count(*) FROM ") + entity_table(entity);
  if (filter) {
    CONFLUX_RETURN_IF_ERROR(check_filter(*filter));
    sql += kFieldFilter;
  }
  Result<CachedStatement> st = db_.prepare_cached(sql);
  if (!st) return st.status();
  if (filter) CONFLUX_RETURN_IF_ERROR(bind_filter(**st, *filter));
  Result<bool> row = (*st)->step();
  if (!row) return row.status();
  return static_cast<size_t>(*row ? (*st)->column_int64(0) : 0);
}

Result<std::optional<CrmRow>> LocalCrm::select_one(Entity entity, const std::optional<std::string>& key, int64_t id) {
  Result<CachedStatement> st =
      db_.prepare_cached(kRowColumns + entity_table(entity) + (key ? " WHERE profile_key = ?1" : " WHERE id = ?1"));
  if (!st) return st.status();
  CONFLUX_RETURN_IF_ERROR(key ? (*st)->bind_text(1, *key) : (*st)->bind_int64(1, id));
  Result<bool> row = (*st)->step();
  if (!row) return row.status();
  if (!*row) return std::optional<CrmRow>();
  return std::optional<CrmRow>(read_row(**st));
}

Result<std::optional<CrmRow>> LocalCrm::get(Entity entity, int64_t id) { return select_one(entity, std::nullopt, id); }

Result<std::optional<CrmRow>> LocalCrm::get_by_key(Entity entity, const std::string& key) {
  std::string normalized;
  size_t start = 0;
  for (;;) {
    size_t end = key.find(kKeySeparator, start);
    if (start > 0) normalized += kKeySeparator;
    normalized += normalize_key_part(std::string_view(key).substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return select_one(entity, normalized, 0);
}

Result<std::optional<CrmRow>> LocalCrm::lookup(Entity entity, const std::string& id_or_key) {
  Result<std::optional<CrmRow>> by_key = get_by_key(entity, id_or_key);
  if (!by_key || by_key->has_value() || !all_digits(id_or_key)) return by_key;
  return get(entity, std::stoll(id_or_key));
}

Result<std::unique_ptr<LocalCrm>> open_local_crm(const LocalCrmConfig& config) {
  if (config.path.empty()) return failed_precondition("local CRM: no path is configured for its database file");
  MatchKey key = config.match_key ? *config.match_key : default_match_key(config.entity);
  if (key.fields.empty()) return failed_precondition("local CRM: match_key must name at least one field");
  for (const auto* fields : {&key.fields, &key.fallback}) {
    for (const std::string& field : *fields) {
      if (field.empty()) return failed_precondition("local CRM: match_key has an empty field name");
    }
  }
  Result<Database> db =
      state::sqlite::open_with_schema(config.path, kKind, config.sqlite, kCrmApplicationId, crm_migrations());
  if (!db) return db.status();
  return std::unique_ptr<LocalCrm>(new LocalCrm(config, std::move(key), std::move(db).value()));
}

}  // namespace conflux::crm
