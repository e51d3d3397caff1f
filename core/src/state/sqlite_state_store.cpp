#include "conflux/state/sqlite_state_store.hpp"

#include <utility>

namespace conflux::state {
namespace {

using sqlite::CachedStatement;
using sqlite::Database;
using sqlite::Transaction;

constexpr const char* kKind = "state database";
constexpr int32_t kStateApplicationId = 0x43464c53;  // "CFLS": Conflux state

// Append-only: a released migration never changes; a new schema change is a new entry at the end.
const std::vector<sqlite::Migration>& state_migrations() {
  static const std::vector<sqlite::Migration> kMigrations = {
      {1, R"sql(
CREATE TABLE cursors (
  pipeline   TEXT NOT NULL,
  source     TEXT NOT NULL,
  stream     TEXT NOT NULL,
  cursor     TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (pipeline, source, stream)
) WITHOUT ROWID;

CREATE TABLE runs (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  pipeline     TEXT NOT NULL,
  started_at   TEXT NOT NULL,
  finished_at  TEXT,
  status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  summary_json TEXT NOT NULL DEFAULT '{}',
  dry_run      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_pipeline ON runs (pipeline, id);

CREATE TABLE dead_letters (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  pipeline          TEXT NOT NULL,
  run_id            INTEGER REFERENCES runs (id),
  source            TEXT NOT NULL,
  stream            TEXT NOT NULL,
  stage             TEXT NOT NULL CHECK (stage <> ''),
  reason            TEXT NOT NULL CHECK (reason <> ''),
  payload           TEXT NOT NULL,
  payload_is_record INTEGER NOT NULL,
  position          INTEGER NOT NULL DEFAULT 0,
  created_at        TEXT NOT NULL,
  replayed_at       TEXT
);
CREATE INDEX dead_letters_by_pipeline ON dead_letters (pipeline, id);
CREATE INDEX dead_letters_by_run ON dead_letters (run_id);
)sql"},
      {2, R"sql(
CREATE TABLE sink_ledger (
  pipeline   TEXT NOT NULL,
  sink       TEXT NOT NULL,
  key        TEXT NOT NULL,
  hash       TEXT NOT NULL,
  run_id     INTEGER,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (pipeline, sink, key)
) WITHOUT ROWID;

CREATE TABLE record_results (
  run_id   INTEGER NOT NULL REFERENCES runs (id),
  seq      INTEGER NOT NULL,
  key      TEXT NOT NULL,
  position INTEGER NOT NULL,
  outcome  TEXT NOT NULL CHECK (outcome IN ('created', 'updated', 'unchanged', 'rejected')),
  message  TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql"},
      {3, R"sql(
ALTER TABLE sink_ledger ADD COLUMN seen_run INTEGER;
)sql"},
      // The identity graph (docs/identity.md): records -> profile, identifiers -> profile, merges with evidence,
      // unmerge pins, and the model of the last run, per pipeline.
      {4, R"sql(
CREATE TABLE identity_profiles (
  pipeline    TEXT NOT NULL,
  profile_id  TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  merged_into TEXT,
  PRIMARY KEY (pipeline, profile_id)
) WITHOUT ROWID;

CREATE TABLE identity_records (
  pipeline    TEXT NOT NULL,
  record_key  TEXT NOT NULL,
  profile_id  TEXT NOT NULL,
  source      TEXT NOT NULL,
  seen_at     TEXT NOT NULL,
  record_json TEXT NOT NULL,
  PRIMARY KEY (pipeline, record_key)
) WITHOUT ROWID;
CREATE INDEX identity_records_by_profile ON identity_records (pipeline, profile_id);

CREATE TABLE identity_identifiers (
  pipeline   TEXT NOT NULL,
  kind       TEXT NOT NULL,
  value      TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  PRIMARY KEY (pipeline, kind, value, profile_id)
) WITHOUT ROWID;

CREATE TABLE identity_merges (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  pipeline      TEXT NOT NULL,
  surviving     TEXT NOT NULL,
  absorbed      TEXT NOT NULL,
  evidence_json TEXT NOT NULL,
  merged_at     TEXT NOT NULL
);

CREATE TABLE identity_unmerges (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  pipeline   TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  new_profile_id TEXT NOT NULL,
  record_keys_json TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE identity_pins (
  pipeline   TEXT NOT NULL,
  record_key TEXT NOT NULL,
  unmerge_id INTEGER NOT NULL,
  part       INTEGER NOT NULL,
  PRIMARY KEY (pipeline, record_key, unmerge_id)
) WITHOUT ROWID;

CREATE TABLE identity_models (
  pipeline   TEXT PRIMARY KEY,
  model_json TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
)sql"},
  };
  return kMigrations;
}

}  // namespace

const std::vector<sqlite::Migration>& state_schema_migrations() { return state_migrations(); }
int32_t state_application_id() { return kStateApplicationId; }

namespace {

const std::string kNow = sqlite::kSqlUtcNow;

const std::string kUpsertCursor =
    "INSERT INTO cursors (pipeline, source, stream, cursor, updated_at) VALUES (?1, ?2, ?3, ?4, " + kNow +
    ") ON CONFLICT (pipeline, source, stream) DO UPDATE SET cursor = excluded.cursor, "
    "updated_at = excluded.updated_at";
const std::string kInsertDeadLetter =
    "INSERT INTO dead_letters (pipeline, run_id, source, stream, stage, reason, payload, payload_is_record, "
    "position, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, " +
    kNow + ")";
const std::string kDeadLetterColumns =
    "SELECT id, pipeline, coalesce(run_id, 0), source, stream, stage, reason, payload, payload_is_record, position, "
    "created_at, replayed_at IS NOT NULL FROM dead_letters ";

// SQLite reads a negative LIMIT as "no limit".
int64_t sql_limit(size_t limit) { return limit == 0 ? -1 : static_cast<int64_t>(limit); }

DeadLetter read_dead_letter(const sqlite::Statement& row) {
  DeadLetter letter;
  letter.id = row.column_int64(0);
  letter.pipeline = row.column_text(1);
  letter.run_id = row.column_int64(2);
  letter.source = row.column_text(3);
  letter.stream = row.column_text(4);
  letter.stage = row.column_text(5);
  letter.reason = row.column_text(6);
  letter.payload = row.column_text(7);
  letter.payload_is_record = row.column_int64(8) != 0;
  letter.position = static_cast<uint64_t>(row.column_int64(9));
  letter.created_at = row.column_text(10);
  letter.replayed = row.column_int64(11) != 0;
  return letter;
}

class SqliteStateStore final : public StateStore {
 public:
  explicit SqliteStateStore(Database db) : db_(std::move(db)) {}

  std::string location() const override { return db_.path(); }

  Result<std::optional<std::string>> load_cursor(const CursorKey& key) override {
    Result<CachedStatement> st =
        db_.prepare_cached("SELECT cursor FROM cursors WHERE pipeline = ?1 AND source = ?2 AND stream = ?3");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR(bind_key(**st, key));
    Result<bool> row = (*st)->step();
    if (!row) return row.status();
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>((*st)->column_text(0));
  }

  Result<std::vector<CursorEntry>> list_cursors(const std::string& pipeline) override {
    Result<CachedStatement> st = db_.prepare_cached(
        "SELECT pipeline, source, stream, cursor, updated_at FROM cursors WHERE ?1 = '' OR pipeline = ?1 "
        "ORDER BY pipeline, source, stream");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR((*st)->bind_text(1, pipeline));
    std::vector<CursorEntry> entries;
    for (;;) {
      Result<bool> row = (*st)->step();
      if (!row) return row.status();
      if (!*row) break;
      entries.push_back({{(*st)->column_text(0), (*st)->column_text(1), (*st)->column_text(2)},
                         (*st)->column_text(3),
                         (*st)->column_text(4)});
    }
    return entries;
  }

  Result<size_t> reset_cursors(const std::string& pipeline, const std::optional<std::string>& source,
                               const std::optional<std::string>& stream) override {
    Result<CachedStatement> st = db_.prepare_cached(
        "DELETE FROM cursors WHERE pipeline = ?1 AND (?2 IS NULL OR source = ?2) AND (?3 IS NULL OR stream = ?3)");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR((*st)->bind_text(1, pipeline));
    CONFLUX_RETURN_IF_ERROR(source ? (*st)->bind_text(2, *source) : (*st)->bind_null(2));
    CONFLUX_RETURN_IF_ERROR(stream ? (*st)->bind_text(3, *stream) : (*st)->bind_null(3));
    CONFLUX_RETURN_IF_ERROR((*st)->run());
    return static_cast<size_t>(db_.changes());
  }

  Result<int64_t> begin_run(const std::string& pipeline, bool dry_run) override {
    Result<CachedStatement> st = db_.prepare_cached(
        "INSERT INTO runs (pipeline, started_at, status, dry_run) VALUES (?1, " + kNow + ", 'running', ?2)");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR((*st)->bind_text(1, pipeline));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(2, dry_run ? 1 : 0));
    CONFLUX_RETURN_IF_ERROR((*st)->run());
    return db_.last_insert_rowid();
  }

  Status commit_batch(int64_t run_id, const BatchCommit& commit) override {
    Status status = write_batch(run_id, commit);
    if (sqlite::is_disk_full(status)) {
      return unavailable(status.message() +
                         " (dead letters and cursor of this batch were not saved; the batch will be re-read on the "
                         "next run)");
    }
    return status;
  }

  Status finish_run(int64_t run_id, const std::string& status, const std::string& summary_json) override {
    if (status != "succeeded" && status != "failed" && status != "cancelled") {
      return internal_error("run status '" + status + "' is not one of succeeded, failed, cancelled");
    }
    Result<CachedStatement> st =
        db_.prepare_cached("UPDATE runs SET finished_at = " + kNow + ", status = ?2, summary_json = ?3 WHERE id = ?1");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(1, run_id));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_text(2, status));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_text(3, summary_json.empty() ? std::string("{}") : summary_json));
    CONFLUX_RETURN_IF_ERROR((*st)->run());
    if (db_.changes() == 0) {
      return not_found("run " + std::to_string(run_id) + " does not exist in the state database '" + db_.path() + "'");
    }
    return Status::ok();
  }

  Result<std::vector<RunRecord>> list_runs(const std::string& pipeline, size_t limit) override {
    Result<CachedStatement> st = db_.prepare_cached(
        "SELECT id, pipeline, started_at, coalesce(finished_at, ''), status, summary_json, dry_run FROM runs "
        "WHERE ?1 = '' OR pipeline = ?1 ORDER BY id DESC LIMIT ?2");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR((*st)->bind_text(1, pipeline));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(2, sql_limit(limit)));
    std::vector<RunRecord> runs;
    for (;;) {
      Result<bool> row = (*st)->step();
      if (!row) return row.status();
      if (!*row) break;
      RunRecord run;
      run.id = (*st)->column_int64(0);
      run.pipeline = (*st)->column_text(1);
      run.started_at = (*st)->column_text(2);
      run.finished_at = (*st)->column_text(3);
      run.status = (*st)->column_text(4);
      run.summary_json = (*st)->column_text(5);
      run.dry_run = (*st)->column_int64(6) != 0;
      runs.push_back(std::move(run));
    }
    return runs;
  }

  Result<std::vector<DeadLetter>> list_dead_letters(const DeadLetterFilter& filter) override {
    Result<CachedStatement> st = db_.prepare_cached(
        kDeadLetterColumns +
        "WHERE (?1 = '' OR pipeline = ?1) AND (?2 IS NULL OR stage = ?2) AND (?3 OR replayed_at IS NULL) "
        "ORDER BY id LIMIT ?4 OFFSET ?5");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR((*st)->bind_text(1, filter.pipeline));
    CONFLUX_RETURN_IF_ERROR(filter.stage ? (*st)->bind_text(2, *filter.stage) : (*st)->bind_null(2));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(3, filter.include_replayed ? 1 : 0));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(4, sql_limit(filter.limit)));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(5, static_cast<int64_t>(filter.offset)));
    std::vector<DeadLetter> letters;
    for (;;) {
      Result<bool> row = (*st)->step();
      if (!row) return row.status();
      if (!*row) break;
      letters.push_back(read_dead_letter(**st));
    }
    return letters;
  }

  Result<std::optional<DeadLetter>> get_dead_letter(int64_t id) override {
    Result<CachedStatement> st = db_.prepare_cached(kDeadLetterColumns + "WHERE id = ?1");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(1, id));
    Result<bool> row = (*st)->step();
    if (!row) return row.status();
    if (!*row) return std::optional<DeadLetter>();
    return std::optional<DeadLetter>(read_dead_letter(**st));
  }

  Result<size_t> count_dead_letters(const std::string& pipeline, bool include_replayed) override {
    Result<CachedStatement> st = db_.prepare_cached(
        "SELECT count(*) FROM dead_letters WHERE (?1 = '' OR pipeline = ?1) AND (?2 OR replayed_at IS NULL)");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR((*st)->bind_text(1, pipeline));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(2, include_replayed ? 1 : 0));
    Result<bool> row = (*st)->step();
    if (!row) return row.status();
    return static_cast<size_t>(*row ? (*st)->column_int64(0) : 0);
  }

  Status mark_replayed(const std::vector<int64_t>& ids) override {
    Result<Transaction> tx = Transaction::begin(db_);
    if (!tx) return tx.status();
    {
      Result<CachedStatement> st =
          db_.prepare_cached("UPDATE dead_letters SET replayed_at = coalesce(replayed_at, " + kNow + ") WHERE id = ?1");
      if (!st) return st.status();
      for (int64_t id : ids) {
        (*st)->reset();
        CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(1, id));
        CONFLUX_RETURN_IF_ERROR((*st)->run());
        if (db_.changes() == 0) {
          return not_found("dead letter " + std::to_string(id) + " does not exist in the state database '" +
                           db_.path() + "' (no dead letter was marked replayed)");
        }
      }
    }
    return tx->commit();
  }

  Result<std::map<std::string, std::string>> ledger_lookup(const std::string& pipeline, const std::string& sink,
                                                           const std::vector<std::string>& keys) override {
    Result<CachedStatement> st =
        db_.prepare_cached("SELECT hash FROM sink_ledger WHERE pipeline = ?1 AND sink = ?2 AND key = ?3");
    if (!st) return st.status();
    std::map<std::string, std::string> found;
    for (const std::string& key : keys) {
      (*st)->reset();
      CONFLUX_RETURN_IF_ERROR((*st)->bind_text(1, pipeline));
      CONFLUX_RETURN_IF_ERROR((*st)->bind_text(2, sink));
      CONFLUX_RETURN_IF_ERROR((*st)->bind_text(3, key));
      Result<bool> row = (*st)->step();
      if (!row) return row.status();
      if (*row) found.emplace(key, (*st)->column_text(0));
    }
    return found;
  }

  Result<std::vector<std::string>> ledger_unseen(const std::string& pipeline, const std::string& sink,
                                                 int64_t run_id) override {
    Result<CachedStatement> st = db_.prepare_cached(
        "SELECT key FROM sink_ledger WHERE pipeline = ?1 AND sink = ?2 AND coalesce(seen_run, 0) <> ?3 ORDER BY key");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR((*st)->bind_text(1, pipeline));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_text(2, sink));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(3, run_id));
    std::vector<std::string> keys;
    for (;;) {
      Result<bool> row = (*st)->step();
      if (!row) return row.status();
      if (!*row) break;
      keys.push_back((*st)->column_text(0));
    }
    return keys;
  }

  Status ledger_remove(const std::string& pipeline, const std::string& sink,
                       const std::vector<std::string>& keys) override {
    Result<Transaction> tx = Transaction::begin(db_);
    if (!tx) return tx.status();
    Result<CachedStatement> st =
        db_.prepare_cached("DELETE FROM sink_ledger WHERE pipeline = ?1 AND sink = ?2 AND key = ?3");
    if (!st) return st.status();
    for (const std::string& key : keys) {
      (*st)->reset();
      CONFLUX_RETURN_IF_ERROR((*st)->bind_text(1, pipeline));
      CONFLUX_RETURN_IF_ERROR((*st)->bind_text(2, sink));
      CONFLUX_RETURN_IF_ERROR((*st)->bind_text(3, key));
      CONFLUX_RETURN_IF_ERROR((*st)->run());
    }
    return tx->commit();
  }

  Result<std::vector<RecordResult>> list_results(int64_t run_id, const std::optional<std::string>& outcome,
                                                 size_t limit, size_t offset) override {
    Result<CachedStatement> st = db_.prepare_cached(
        "SELECT run_id, key, position, outcome, message FROM record_results WHERE run_id = ?1 AND "
        "(?2 IS NULL OR outcome = ?2) ORDER BY seq LIMIT ?3 OFFSET ?4");
    if (!st) return st.status();
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(1, run_id));
    CONFLUX_RETURN_IF_ERROR(outcome ? (*st)->bind_text(2, *outcome) : (*st)->bind_null(2));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(3, sql_limit(limit)));
    CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(4, static_cast<int64_t>(offset)));
    std::vector<RecordResult> results;
    for (;;) {
      Result<bool> row = (*st)->step();
      if (!row) return row.status();
      if (!*row) break;
      RecordResult result;
      result.run_id = (*st)->column_int64(0);
      result.key = (*st)->column_text(1);
      result.position = static_cast<uint64_t>((*st)->column_int64(2));
      result.outcome = (*st)->column_text(3);
      result.message = (*st)->column_text(4);
      results.push_back(std::move(result));
    }
    return results;
  }

 private:
  static Status bind_key(sqlite::Statement& st, const CursorKey& key) {
    CONFLUX_RETURN_IF_ERROR(st.bind_text(1, key.pipeline));
    CONFLUX_RETURN_IF_ERROR(st.bind_text(2, key.source));
    return st.bind_text(3, key.stream);
  }

  // The cursor and the dead letters in one IMMEDIATE transaction: taking the write lock up front means a locked
  // database fails before anything is written, and any failure after that rolls everything back.
  Status write_batch(int64_t run_id, const BatchCommit& commit) {
    Result<Transaction> tx = Transaction::begin(db_);
    if (!tx) return tx.status();
    {
      if (commit.cursor) {
        Result<CachedStatement> st = db_.prepare_cached(kUpsertCursor);
        if (!st) return st.status();
        CONFLUX_RETURN_IF_ERROR(bind_key(**st, commit.key));
        CONFLUX_RETURN_IF_ERROR((*st)->bind_text(4, *commit.cursor));
        CONFLUX_RETURN_IF_ERROR((*st)->run());
      }
      if (!commit.dead_letters.empty()) {
        Result<CachedStatement> st = db_.prepare_cached(kInsertDeadLetter);
        if (!st) return st.status();
        size_t number = 0;
        for (const DeadLetter& letter : commit.dead_letters) {
          ++number;
          (*st)->reset();
          CONFLUX_RETURN_IF_ERROR(bind_dead_letter(**st, run_id, commit.key, letter));
          Status written = (*st)->run();
          if (!written.is_ok() && written.code() == StatusCode::kInternal) {
            return written.with_context("saving dead letter " + std::to_string(number) + " of " +
                                        std::to_string(commit.dead_letters.size()) +
                                        " (nothing of the batch was saved)");
          }
          CONFLUX_RETURN_IF_ERROR(written);
        }
      }
    }
    if (!commit.ledger.empty()) {
      Result<CachedStatement> st = db_.prepare_cached(
          "INSERT INTO sink_ledger (pipeline, sink, key, hash, run_id, updated_at, seen_run) VALUES (?1, ?2, ?3, ?4, ?5, " +
          kNow + ", ?5) ON CONFLICT (pipeline, sink, key) DO UPDATE SET hash = excluded.hash, run_id = excluded.run_id, "
          "updated_at = excluded.updated_at, seen_run = excluded.seen_run");
      if (!st) return st.status();
      for (const LedgerEntry& entry : commit.ledger) {
        (*st)->reset();
        CONFLUX_RETURN_IF_ERROR((*st)->bind_text(1, commit.key.pipeline));
        CONFLUX_RETURN_IF_ERROR((*st)->bind_text(2, commit.sink));
        CONFLUX_RETURN_IF_ERROR((*st)->bind_text(3, entry.key));
        CONFLUX_RETURN_IF_ERROR((*st)->bind_text(4, entry.hash));
        CONFLUX_RETURN_IF_ERROR(run_id == 0 ? (*st)->bind_null(5) : (*st)->bind_int64(5, run_id));
        CONFLUX_RETURN_IF_ERROR((*st)->run());
      }
    }
    if (!commit.seen.empty() && run_id != 0) {
      Result<CachedStatement> st = db_.prepare_cached(
          "UPDATE sink_ledger SET seen_run = ?4 WHERE pipeline = ?1 AND sink = ?2 AND key = ?3");
      if (!st) return st.status();
      for (const std::string& key : commit.seen) {
        (*st)->reset();
        CONFLUX_RETURN_IF_ERROR((*st)->bind_text(1, commit.key.pipeline));
        CONFLUX_RETURN_IF_ERROR((*st)->bind_text(2, commit.sink));
        CONFLUX_RETURN_IF_ERROR((*st)->bind_text(3, key));
        CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(4, run_id));
        CONFLUX_RETURN_IF_ERROR((*st)->run());
      }
    }
    if (!commit.results.empty() && run_id != 0) {
      Result<CachedStatement> st = db_.prepare_cached(
          "INSERT INTO record_results (run_id, seq, key, position, outcome, message) VALUES (?1, "
          "(SELECT coalesce(max(seq), 0) + 1 FROM record_results WHERE run_id = ?1), ?2, ?3, ?4, ?5)");
      if (!st) return st.status();
      for (const RecordResult& result : commit.results) {
        (*st)->reset();
        CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(1, run_id));
        CONFLUX_RETURN_IF_ERROR((*st)->bind_text(2, result.key));
        CONFLUX_RETURN_IF_ERROR((*st)->bind_int64(3, static_cast<int64_t>(result.position)));
        CONFLUX_RETURN_IF_ERROR((*st)->bind_text(4, result.outcome));
        CONFLUX_RETURN_IF_ERROR((*st)->bind_text(5, result.message));
        CONFLUX_RETURN_IF_ERROR((*st)->run());
      }
    }
    return tx->commit();
  }

  static Status bind_dead_letter(sqlite::Statement& st, int64_t run_id, const CursorKey& key, const DeadLetter& dl) {
    CONFLUX_RETURN_IF_ERROR(st.bind_text(1, dl.pipeline.empty() ? key.pipeline : dl.pipeline));
    CONFLUX_RETURN_IF_ERROR(run_id == 0 ? st.bind_null(2) : st.bind_int64(2, run_id));
    CONFLUX_RETURN_IF_ERROR(st.bind_text(3, dl.source.empty() ? key.source : dl.source));
    CONFLUX_RETURN_IF_ERROR(st.bind_text(4, dl.stream.empty() ? key.stream : dl.stream));
    CONFLUX_RETURN_IF_ERROR(st.bind_text(5, dl.stage));
    CONFLUX_RETURN_IF_ERROR(st.bind_text(6, dl.reason));
    CONFLUX_RETURN_IF_ERROR(st.bind_text(7, dl.payload));
    CONFLUX_RETURN_IF_ERROR(st.bind_int64(8, dl.payload_is_record ? 1 : 0));
    return st.bind_int64(9, static_cast<int64_t>(dl.position));
  }

  Database db_;
};

}  // namespace

Result<std::unique_ptr<StateStore>> open_sqlite_state_store(const std::string& path, const SqliteOptions& options) {
  Result<Database> db = sqlite::open_with_schema(path, kKind, options, kStateApplicationId, state_migrations());
  if (!db) return db.status();
  return std::unique_ptr<StateStore>(std::make_unique<SqliteStateStore>(std::move(db).value()));
}

}  // namespace conflux::state
