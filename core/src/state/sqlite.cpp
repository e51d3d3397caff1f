#include "conflux/state/sqlite.hpp"

#include <sqlite3.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace conflux::state::sqlite {
namespace {

// The start of a statement's SQL on one line, to name it in messages about bugs.
std::string sql_excerpt(const char* sql) {
  std::string out;
  bool space = false;
  for (const char* p = sql == nullptr ? "" : sql; *p != '\0' && out.size() < 60; ++p) {
    bool is_space = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
    if (is_space) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += *p;
  }
  return out;
}

std::string quoted(const std::string& kind, const std::string& path) { return kind + " '" + path + "'"; }

}  // namespace

Status sqlite_status(sqlite3* db, int rc, const std::string& what, const std::string& path, const std::string& kind) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return Status::ok();
  const int primary = rc & 0xff;
  // The connection's message describes `rc` only when it is the connection's latest error.
  std::string message =
      (db != nullptr && (sqlite3_errcode(db) & 0xff) == primary) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const std::string where = quoted(kind, path);
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return unavailable(where + " is locked by another process (is another conflux run using it?)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return data_loss(where + " is corrupt or not a Conflux " + kind + ": " + message +
                       "; move it aside and rerun to start from scratch, or restore a backup");
    case SQLITE_FULL:
      return unavailable("disk full while writing the " + where);
    case SQLITE_IOERR:
      if (db != nullptr && sqlite3_system_errno(db) == ENOSPC)
        return unavailable("disk full while writing the " + where);
      return unavailable("I/O error on the " + where + " while " + what + ": " + message +
                         "; check the disk and retry");
    case SQLITE_CANTOPEN:
      return failed_precondition("cannot open the " + where + ": " + message +
                                 "; check that the path names a file (not a directory) in a directory this user can "
                                 "write, or choose another path");
    case SQLITE_READONLY:
      return failed_precondition("the " + where + " is read-only (" + message +
                                 "); make the file and its directory writable by this user, or choose another path");
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return failed_precondition("access to the " + where + " was denied (" + message +
                                 "); check the permissions of the file and its directory");
    case SQLITE_PROTOCOL:
      return unavailable("the locks of the " + where + " could not be taken (" + message + "); retry");
    case SQLITE_INTERRUPT:
      return cancelled(what + " on the " + where + " was interrupted");
    default:
      return internal_error(where + ": " + what + " failed: " + message);
  }
}

bool is_disk_full(const Status& status) {
  return status.code() == StatusCode::kUnavailable && status.message().rfind("disk full while writing the ", 0) == 0;
}

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept : stmt_(other.stmt_), db_(other.db_), label_(std::move(other.label_)) {
  other.stmt_ = nullptr;
  other.db_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    db_ = other.db_;
    label_ = std::move(other.label_);
    other.stmt_ = nullptr;
    other.db_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Status Statement::bind_result(int rc, int index) {
  if (rc == SQLITE_OK) return Status::ok();
  if (rc == SQLITE_RANGE) {
    return internal_error(quoted(label_->kind, label_->path) + ": statement '" + sql_excerpt(sqlite3_sql(stmt_)) +
                          "' has no parameter " + std::to_string(index));
  }
  return sqlite_status(db_, rc, "binding parameter " + std::to_string(index), label_->path, label_->kind);
}

int Statement::parameter_index(const std::string& name) const {
  return sqlite3_bind_parameter_index(stmt_, name.c_str());
}

Status Statement::bind_int64(int index, int64_t value) {
  return bind_result(sqlite3_bind_int64(stmt_, index, value), index);
}
Status Statement::bind_double(int index, double value) {
  return bind_result(sqlite3_bind_double(stmt_, index, value), index);
}
Status Statement::bind_text(int index, std::string_view value) {
  return bind_result(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
                     index);
}
Status Statement::bind_null(int index) { return bind_result(sqlite3_bind_null(stmt_, index), index); }
Status Statement::bind_int64(const std::string& name, int64_t value) {
  return bind_int64(parameter_index(name), value);
}
Status Statement::bind_double(const std::string& name, double value) {
  return bind_double(parameter_index(name), value);
}
Status Statement::bind_text(const std::string& name, std::string_view value) {
  return bind_text(parameter_index(name), value);
}
Status Statement::bind_null(const std::string& name) { return bind_null(parameter_index(name)); }

Result<bool> Statement::step() {
  if (stmt_ == nullptr) return internal_error("stepping a statement that was never prepared");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_status(db_, rc, "running '" + sql_excerpt(sqlite3_sql(stmt_)) + "'", label_->path, label_->kind);
}

Status Statement::run() {
  for (;;) {
    Result<bool> row = step();
    if (!row) return row.status();
    if (!*row) return Status::ok();
  }
}

void Statement::reset() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int Statement::column_count() const { return sqlite3_column_count(stmt_); }
bool Statement::column_is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
int64_t Statement::column_int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::column_double(int column) const { return sqlite3_column_double(stmt_, column); }
std::string Statement::column_text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}
std::string Statement::column_name(int column) const {
  const char* name = sqlite3_column_name(stmt_, column);
  return name == nullptr ? std::string() : std::string(name);
}
std::string Statement::sql() const { return stmt_ == nullptr ? std::string() : std::string(sqlite3_sql(stmt_)); }

// ---- Database ----

Result<Database> Database::open(const std::string& path, const std::string& kind, const SqliteOptions& options) {
  namespace fs = std::filesystem;
  if (path.empty()) return failed_precondition("no path was given for the " + kind);
  const std::string where = quoted(kind, path);
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (!exists) {
    if (!options.create_if_missing) return not_found(where + " does not exist");
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec)) {
      fs::create_directories(parent, ec);
      if (ec) {
        return failed_precondition("cannot create the directory '" + parent.string() + "' for the " + where + ": " +
                                   ec.message() + "; create it yourself or choose another path");
      }
    }
  }

  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (options.create_if_missing ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // The handle exists even when opening failed and must be closed either way.
  Database db(raw, std::make_shared<const Label>(Label{path, kind}));
  if (rc != SQLITE_OK) return sqlite_status(raw, rc, "opening", path, kind);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms < 0 ? 0 : options.busy_timeout_ms);

  // journal_mode is the first statement that reads the file, so a file that is not a database fails here with
  // kDataLoss. WAL lets readers (the CLI) work beside a running pipeline; where the file system cannot do WAL SQLite
  // keeps its rollback journal, which is just as durable. synchronous=FULL makes every commit survive a power cut.
  CONFLUX_RETURN_IF_ERROR(db.exec("PRAGMA journal_mode=WAL", "switching to WAL mode"));
  CONFLUX_RETURN_IF_ERROR(db.exec("PRAGMA synchronous=FULL", "setting synchronous=FULL"));
  CONFLUX_RETURN_IF_ERROR(db.exec("PRAGMA foreign_keys=ON", "enabling foreign keys"));
  // 64 MiB of page cache (SQLite's default is 2 MiB), used only as a transaction touches pages: a large transaction
  // (the identity graph of a million records, a big sink batch) then keeps its working set instead of spilling pages
  // to the WAL and reading them back.
  CONFLUX_RETURN_IF_ERROR(db.exec("PRAGMA cache_size=-65536", "setting the page cache size"));
  return db;
}

// The label is shared, not moved: a moved-from Database still names its file in messages (path(), error()).
// NOLINTNEXTLINE(performance-move-constructor-init)
Database::Database(Database&& other) noexcept : db_(other.db_), label_(other.label_), cache_(std::move(other.cache_)) {
  other.db_ = nullptr;
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    db_ = other.db_;
    label_ = other.label_;
    cache_ = std::move(other.cache_);
    other.db_ = nullptr;
  }
  return *this;
}

Database::~Database() { close(); }

void Database::close() {
  cache_.clear();
  if (db_ != nullptr) {
    // close_v2 defers the close until statements still alive elsewhere are finalized.
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

Status Database::exec(const std::string& sql, const std::string& what) {
  if (db_ == nullptr) return internal_error(quoted(kind(), path()) + ": " + what + " on a closed database");
  return error(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), what);
}

Result<Statement> Database::prepare(const std::string& sql) {
  if (db_ == nullptr) return internal_error(quoted(kind(), path()) + ": preparing a statement on a closed database");
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return error(rc, "preparing '" + sql_excerpt(sql.c_str()) + "'");
  }
  return Statement(stmt, db_, label_);
}

Result<CachedStatement> Database::prepare_cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    Result<Statement> prepared = prepare(sql);
    if (!prepared) return prepared.status();
    it = cache_.emplace(sql, std::make_unique<Statement>(std::move(prepared).value())).first;
  }
  it->second->reset();
  return CachedStatement(it->second.get());
}

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int64_t Database::changes() const { return sqlite3_changes64(db_); }
bool Database::in_transaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }
Status Database::error(int rc, const std::string& what) const { return sqlite_status(db_, rc, what, path(), kind()); }

// ---- Transaction ----

Result<Transaction> Transaction::begin(Database& db, Mode mode) {
  const char* sql = mode == Mode::kImmediate   ? "BEGIN IMMEDIATE"
                    : mode == Mode::kExclusive ? "BEGIN EXCLUSIVE"
                                               : "BEGIN";
  CONFLUX_RETURN_IF_ERROR(db.exec(sql, "starting a transaction"));
  return Transaction(&db);
}

Status Transaction::commit() {
  if (db_ == nullptr) return internal_error("committing a transaction that is no longer open");
  Status status = db_->exec("COMMIT", "committing");
  if (!status.is_ok()) {
    rollback();  // a failed COMMIT may leave the transaction open (BUSY) or have rolled it back already (FULL)
    return status;
  }
  db_ = nullptr;
  return Status::ok();
}

void Transaction::rollback() {
  if (db_ == nullptr) return;
  // SQLite rolls back by itself after some errors (FULL, IOERR, NOMEM); a second ROLLBACK would only fail.
  if (db_->in_transaction()) (void)db_->exec("ROLLBACK", "rolling back");
  db_ = nullptr;
}

// ---- Migrations ----

namespace {

Result<int64_t> query_int(Database& db, const std::string& sql) {
  Result<Statement> statement = db.prepare(sql);
  if (!statement) return statement.status();
  Result<bool> row = statement->step();
  if (!row) return row.status();
  return *row ? statement->column_int64(0) : int64_t{0};
}

Result<int64_t> schema_version(Database& db) {
  Result<int64_t> has_table =
      query_int(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version'");
  if (!has_table) return has_table.status();
  if (*has_table == 0) return int64_t{0};
  return query_int(db, "SELECT coalesce(max(version), 0) FROM schema_version");
}

}  // namespace

Status migrate(Database& db, int32_t application_id, const std::vector<Migration>& migrations) {
  if (migrations.empty()) return Status::ok();
  const std::string where = quoted(db.kind(), db.path());

  Result<int64_t> stamped = query_int(db, "PRAGMA application_id");
  if (!stamped) return stamped.status();
  Result<int64_t> current = schema_version(db);
  if (!current) return current.status();
  if (*stamped != 0 && *stamped != application_id) {
    return failed_precondition(where + " is not a Conflux " + db.kind() + " (it belongs to another program or is " +
                               "another kind of Conflux database); choose another path");
  }
  if (*stamped == 0 && *current == 0) {
    Result<int64_t> tables = query_int(db, "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'");
    if (!tables) return tables.status();
    if (*tables != 0) {
      return failed_precondition(where + " is an SQLite database of another program, not a Conflux " + db.kind() +
                                 "; choose another path");
    }
  }
  const int newest = migrations.back().version;
  if (*current > newest) {
    return failed_precondition(where + " has schema version " + std::to_string(*current) +
                               ", newer than this conflux understands (" + std::to_string(newest) +
                               "); run a newer conflux or choose another path");
  }
  if (*current == newest) return Status::ok();

  for (const Migration& migration : migrations) {
    if (migration.version <= *current) continue;
    Result<Transaction> tx = Transaction::begin(db, Transaction::Mode::kImmediate);
    if (!tx) return tx.status();
    // Another process may have migrated while this one waited for the lock.
    Result<int64_t> now = schema_version(db);
    if (!now) return now.status();
    if (*now >= migration.version) continue;
    const std::string step = "applying schema migration " + std::to_string(migration.version);
    CONFLUX_RETURN_IF_ERROR(db.exec(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)", step));
    CONFLUX_RETURN_IF_ERROR(db.exec(migration.sql, step));
    CONFLUX_RETURN_IF_ERROR(db.exec("PRAGMA application_id=" + std::to_string(application_id), step));
    CONFLUX_RETURN_IF_ERROR(db.exec("INSERT INTO schema_version (version, applied_at) VALUES (" +
                                        std::to_string(migration.version) + ", " + kSqlUtcNow + ")",
                                    step));
    CONFLUX_RETURN_IF_ERROR(tx->commit());
  }
  return Status::ok();
}

Result<Database> open_with_schema(const std::string& path, const std::string& kind, const SqliteOptions& options,
                                  int32_t application_id, const std::vector<Migration>& migrations) {
  Result<Database> db = Database::open(path, kind, options);
  if (!db) return db.status();
  CONFLUX_RETURN_IF_ERROR(migrate(*db, application_id, migrations));
  if (options.max_page_count > 0) {
    // SQLite never lowers the cap below the current size, so the database stays readable.
    CONFLUX_RETURN_IF_ERROR(
        db->exec("PRAGMA max_page_count=" + std::to_string(options.max_page_count), "setting max_page_count"));
  }
  return db;
}

}  // namespace conflux::state::sqlite
