// A small RAII layer over the SQLite C API, shared by the SQLite state store and the local CRM.
//
// Every failure comes back as a Status whose code says what to do (see sqlite_status); nothing here throws. A
// Database and the Statements prepared from it are used from one thread at a time, and every Statement must be
// destroyed before its Database.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conflux/common/status.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace conflux::state {

// How a SQLite-backed store opens its database file.
struct SqliteOptions {
  // How long a write waits for another connection's lock before failing with kUnavailable.
  int busy_timeout_ms = 5000;
  // false: a missing file is kNotFound instead of being created (for read-only CLI commands such as `state list`).
  bool create_if_missing = true;
  // TEST ONLY: caps the database at this many pages (PRAGMA max_page_count, applied after migrations) so tests can
  // provoke SQLITE_FULL without filling a disk. 0 leaves SQLite's default. Never set it in production.
  int64_t max_page_count = 0;
};

namespace sqlite {

// Maps a SQLite result code to a Status, reading the error text from `db` (may be null).
//   SQLITE_BUSY / SQLITE_LOCKED             -> kUnavailable "<kind> '<path>' is locked by another process (...)"
//   SQLITE_CORRUPT / SQLITE_NOTADB          -> kDataLoss "<kind> '<path>' is corrupt or not a Conflux <kind>: ..."
//   SQLITE_FULL, SQLITE_IOERR with ENOSPC   -> kUnavailable "disk full while writing the <kind> '<path>'"
//   SQLITE_CANTOPEN / SQLITE_READONLY /
//   SQLITE_PERM / SQLITE_AUTH               -> kFailedPrecondition naming the path, with a hint
//   other SQLITE_IOERR, SQLITE_PROTOCOL     -> kUnavailable
//   SQLITE_INTERRUPT                        -> kCancelled
//   anything else (constraint, misuse, ...) -> kInternal "<kind> '<path>': <what> failed: <sqlite message>"
// `what` names the operation ("saving the cursor"); `kind` names the database in messages ("state database").
// SQLITE_OK, SQLITE_ROW and SQLITE_DONE map to OK.
Status sqlite_status(sqlite3* db, int rc, const std::string& what, const std::string& path,
                     const std::string& kind = "state database");

// True when `status` is the "disk full" kUnavailable produced by sqlite_status.
bool is_disk_full(const Status& status);

// The names a database goes by in messages; shared by a Database and its statements.
struct Label {
  std::string path;
  std::string kind;
};

// One prepared statement. Move-only; finalized on destruction.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are numbered from 1 (?1, ?2 ...) or named with their prefix (":pipeline"). Text is copied.
  Status bind_int64(int index, int64_t value);
  Status bind_double(int index, double value);
  Status bind_text(int index, std::string_view value);
  Status bind_null(int index);
  Status bind_int64(const std::string& name, int64_t value);
  Status bind_double(const std::string& name, double value);
  Status bind_text(const std::string& name, std::string_view value);
  Status bind_null(const std::string& name);

  // Advances the statement: true when a row is ready to read, false when the statement is done.
  Result<bool> step();
  // Steps until done, ignoring rows: for INSERT/UPDATE/DELETE.
  Status run();
  // Makes the statement ready to run again and clears its bindings. Also ends the read it may hold open.
  void reset();

  // Column getters are valid after step() returned true; columns are numbered from 0.
  int column_count() const;
  bool column_is_null(int column) const;
  int64_t column_int64(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;  // "" for NULL
  std::string column_name(int column) const;

  std::string sql() const;
  sqlite3_stmt* handle() const { return stmt_; }
  bool valid() const { return stmt_ != nullptr; }

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, sqlite3* db, std::shared_ptr<const Label> label)
      : stmt_(stmt), db_(db), label_(std::move(label)) {}
  Status bind_result(int rc, int index);
  int parameter_index(const std::string& name) const;

  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  std::shared_ptr<const Label> label_;
};

// A cached statement on loan: resets the statement (and clears its bindings) when it goes out of scope, so a
// cached SELECT never keeps a read transaction open. The Database owns the statement.
class CachedStatement {
 public:
  explicit CachedStatement(Statement* statement) : statement_(statement) {}
  CachedStatement(CachedStatement&& other) noexcept : statement_(other.statement_) { other.statement_ = nullptr; }
  CachedStatement& operator=(CachedStatement&&) = delete;
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;
  ~CachedStatement() {
    if (statement_ != nullptr) statement_->reset();
  }
  Statement* operator->() const { return statement_; }
  Statement& operator*() const { return *statement_; }

 private:
  Statement* statement_;
};

// One connection to a database file. Move-only; closed on destruction (cached statements first).
class Database {
 public:
  // Opens `path` (creating the file and its parent directories when options.create_if_missing), then sets
  // busy_timeout, journal_mode=WAL, synchronous=FULL and foreign_keys=ON. `kind` names the database in messages.
  // Errors: kFailedPrecondition (cannot create/open), kNotFound (missing and !create_if_missing), kDataLoss (not a
  // database), kUnavailable (locked).
  static Result<Database> open(const std::string& path, const std::string& kind, const SqliteOptions& options = {});

  Database() = default;
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements that return no rows.
  Status exec(const std::string& sql, const std::string& what = "running SQL");
  Result<Statement> prepare(const std::string& sql);
  // The statement for `sql`, prepared on first use and kept for the life of the Database.
  Result<CachedStatement> prepare_cached(const std::string& sql);

  int64_t last_insert_rowid() const;
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t changes() const;
  // True while a transaction is open on this connection.
  bool in_transaction() const;
  // sqlite_status for this database.
  Status error(int rc, const std::string& what) const;

  const std::string& path() const { return label_->path; }
  const std::string& kind() const { return label_->kind; }
  sqlite3* handle() const { return db_; }
  void close();

 private:
  Database(sqlite3* db, std::shared_ptr<const Label> label) : db_(db), label_(std::move(label)) {}

  sqlite3* db_ = nullptr;
  std::shared_ptr<const Label> label_ = std::make_shared<const Label>();
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

// A transaction that rolls back unless committed. Not nestable (SQLite has savepoints for that; we do not need them).
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate, kExclusive };

  // kImmediate takes the write lock up front, so a locked database fails here (kUnavailable) and not midway.
  static Result<Transaction> begin(Database& db, Mode mode = Mode::kImmediate);

  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() { rollback(); }

  // On failure the transaction is rolled back and the Status says why (e.g. disk full).
  Status commit();
  void rollback();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

// One step of a database's schema. Versions start at 1 and grow by one.
struct Migration {
  int version;
  std::string sql;
};

// Brings `db` to the newest version in `migrations`, applying each missing one in order in its own IMMEDIATE
// transaction together with its row in schema_version(version, applied_at). The first migration also stamps
// PRAGMA application_id, by which a database of another kind (or another program) is refused with
// kFailedPrecondition; so is a database newer than this build knows.
Status migrate(Database& db, int32_t application_id, const std::vector<Migration>& migrations);

// How both stores open their files: Database::open, then migrate, then the test-only page cap of `options`.
Result<Database> open_with_schema(const std::string& path, const std::string& kind, const SqliteOptions& options,
                                  int32_t application_id, const std::vector<Migration>& migrations);

// The current time as ISO-8601 UTC with milliseconds ("2024-03-05T11:22:10.123Z"): the SQL expression the stores
// use for every timestamp they write.
inline constexpr const char* kSqlUtcNow = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

}  // namespace sqlite
}  // namespace conflux::state
