// The RAII SQLite wrapper: statements, transactions, migrations and the error mapping every store relies on.
#include "conflux/state/sqlite.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <string>

namespace {

namespace fs = std::filesystem;
using conflux::StatusCode;
using namespace conflux::state;
using namespace conflux::state::sqlite;

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = fs::temp_directory_path() /
            ("conflux-sqlite-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
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

int64_t query_int(Database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  REQUIRE(st.is_ok());
  auto row = st->step();
  REQUIRE(row.is_ok());
  REQUIRE(*row);
  return st->column_int64(0);
}

std::string query_text(Database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  REQUIRE(st.is_ok());
  auto row = st->step();
  REQUIRE(row.is_ok());
  REQUIRE(*row);
  return st->column_text(0);
}

}  // namespace

TEST_CASE("sqlite_status maps result codes to what the caller should do", "[state]") {
  const std::string path = "/var/lib/conflux/state.db";
  auto status = [&](int rc) { return sqlite_status(nullptr, rc, "saving the cursor", path); };

  CHECK(status(SQLITE_OK).is_ok());
  CHECK(status(SQLITE_DONE).is_ok());

  for (int rc : {SQLITE_BUSY, SQLITE_LOCKED, SQLITE_BUSY_SNAPSHOT}) {
    conflux::Status s = status(rc);
    CHECK(s.code() == StatusCode::kUnavailable);
    CHECK(s.message() ==
          "state database '/var/lib/conflux/state.db' is locked by another process (is another conflux run using it?)");
  }
  for (int rc : {SQLITE_CORRUPT, SQLITE_NOTADB}) {
    conflux::Status s = status(rc);
    CHECK(s.code() == StatusCode::kDataLoss);
    CHECK_THAT(s.message(), Catch::StartsWith("state database '/var/lib/conflux/state.db' is corrupt or not a "
                                              "Conflux state database: "));
    CHECK_THAT(s.message(), Catch::EndsWith("; move it aside and rerun to start from scratch, or restore a backup"));
  }
  conflux::Status full = status(SQLITE_FULL);
  CHECK(full.code() == StatusCode::kUnavailable);
  CHECK(full.message() == "disk full while writing the state database '/var/lib/conflux/state.db'");
  CHECK(is_disk_full(full));
  CHECK_FALSE(is_disk_full(status(SQLITE_BUSY)));

  for (int rc : {SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_READONLY_DIRECTORY, SQLITE_PERM}) {
    conflux::Status s = status(rc);
    CHECK(s.code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(s.message(), Catch::Contains("'/var/lib/conflux/state.db'"));
  }
  CHECK(status(SQLITE_IOERR_WRITE).code() == StatusCode::kUnavailable);
  CHECK(status(SQLITE_INTERRUPT).code() == StatusCode::kCancelled);

  conflux::Status constraint = status(SQLITE_CONSTRAINT_CHECK);
  CHECK(constraint.code() == StatusCode::kInternal);
  CHECK_THAT(constraint.message(), Catch::Contains("saving the cursor failed"));

  conflux::Status crm = sqlite_status(nullptr, SQLITE_BUSY, "writing", "crm.db", "local CRM database");
  CHECK_THAT(crm.message(), Catch::StartsWith("local CRM database 'crm.db' is locked"));
}

TEST_CASE("Database opens in WAL mode with synchronous=FULL and foreign keys on", "[state]") {
  TempDir dir;
  const std::string path = dir.file("nested/deeper/test.db");
  auto db = Database::open(path, "test database");
  REQUIRE(db.is_ok());
  CHECK(fs::exists(path));
  CHECK(query_text(*db, "PRAGMA journal_mode") == "wal");
  CHECK(query_int(*db, "PRAGMA synchronous") == 2);  // FULL
  CHECK(query_int(*db, "PRAGMA foreign_keys") == 1);
  CHECK(query_int(*db, "PRAGMA busy_timeout") == 5000);
  CHECK(db->path() == path);

  SqliteOptions options;
  options.busy_timeout_ms = 123;
  auto other = Database::open(path, "test database", options);
  REQUIRE(other.is_ok());
  CHECK(query_int(*other, "PRAGMA busy_timeout") == 123);
}

TEST_CASE("Database refuses to create a missing file when asked not to", "[state]") {
  TempDir dir;
  SqliteOptions options;
  options.create_if_missing = false;
  auto db = Database::open(dir.file("missing.db"), "state database", options);
  REQUIRE_FALSE(db.is_ok());
  CHECK(db.status().code() == StatusCode::kNotFound);
  CHECK_THAT(db.status().message(), Catch::Contains("missing.db"));
  CHECK_FALSE(fs::exists(dir.file("missing.db")));
}

TEST_CASE("Statement binds by index and name and reads columns", "[state]") {
  TempDir dir;
  auto db = Database::open(dir.file("t.db"), "test database");
  REQUIRE(db.is_ok());
  REQUIRE(db->exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, n TEXT)").is_ok());

  auto insert = db->prepare("INSERT INTO t (i, d, s, n) VALUES (?1, ?2, :s, :n)");
  REQUIRE(insert.is_ok());
  REQUIRE(insert->bind_int64(1, 42).is_ok());
  REQUIRE(insert->bind_double(2, 2.5).is_ok());
  REQUIRE(insert->bind_text(":s", std::string("h\0llo", 5)).is_ok());
  REQUIRE(insert->bind_null(":n").is_ok());
  REQUIRE(insert->run().is_ok());
  CHECK(db->changes() == 1);
  CHECK(db->last_insert_rowid() == 1);

  insert->reset();
  conflux::Status bad = insert->bind_int64(7, 1);
  CHECK(bad.code() == StatusCode::kInternal);
  CHECK_THAT(bad.message(), Catch::Contains("no parameter 7"));

  auto select = db->prepare("SELECT i, d, s, n FROM t");
  REQUIRE(select.is_ok());
  auto row = select->step();
  REQUIRE(row.is_ok());
  REQUIRE(*row);
  CHECK(select->column_count() == 4);
  CHECK(select->column_name(2) == "s");
  CHECK(select->column_int64(0) == 42);
  CHECK(select->column_double(1) == 2.5);
  CHECK(select->column_text(2) == std::string("h\0llo", 5));
  CHECK(select->column_is_null(3));
  CHECK(select->column_text(3).empty());
  row = select->step();
  REQUIRE(row.is_ok());
  CHECK_FALSE(*row);

  auto syntax = db->prepare("SELEC nonsense");
  REQUIRE_FALSE(syntax.is_ok());
  CHECK(syntax.status().code() == StatusCode::kInternal);
}

TEST_CASE("prepare_cached reuses one statement and resets it on scope exit", "[state]") {
  TempDir dir;
  auto db = Database::open(dir.file("t.db"), "test database");
  REQUIRE(db.is_ok());
  REQUIRE(db->exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2), (3);").is_ok());
  sqlite3_stmt* first = nullptr;
  {
    auto st = db->prepare_cached("SELECT v FROM t WHERE v >= ?1 ORDER BY v");
    REQUIRE(st.is_ok());
    first = (*st)->handle();
    REQUIRE((*st)->bind_int64(1, 2).is_ok());
    auto row = (*st)->step();
    REQUIRE(row.is_ok());
    REQUIRE(*row);
    CHECK((*st)->column_int64(0) == 2);
    // Left mid-result on purpose: the loan must reset it, or the read would stay open.
  }
  CHECK_FALSE(db->in_transaction());
  auto again = db->prepare_cached("SELECT v FROM t WHERE v >= ?1 ORDER BY v");
  REQUIRE(again.is_ok());
  CHECK((*again)->handle() == first);
  CHECK(sqlite3_stmt_busy((*again)->handle()) == 0);
  REQUIRE((*again)->bind_int64(1, 3).is_ok());
  auto row = (*again)->step();
  REQUIRE(row.is_ok());
  REQUIRE(*row);
  CHECK((*again)->column_int64(0) == 3);
}

TEST_CASE("Transaction rolls back unless committed", "[state]") {
  TempDir dir;
  auto db = Database::open(dir.file("t.db"), "test database");
  REQUIRE(db.is_ok());
  REQUIRE(db->exec("CREATE TABLE t (v INTEGER)").is_ok());
  {
    auto tx = Transaction::begin(*db);
    REQUIRE(tx.is_ok());
    CHECK(db->in_transaction());
    REQUIRE(db->exec("INSERT INTO t VALUES (1)").is_ok());
  }
  CHECK_FALSE(db->in_transaction());
  CHECK(query_int(*db, "SELECT count(*) FROM t") == 0);
  {
    auto tx = Transaction::begin(*db);
    REQUIRE(tx.is_ok());
    REQUIRE(db->exec("INSERT INTO t VALUES (1)").is_ok());
    REQUIRE(tx->commit().is_ok());
  }
  CHECK(query_int(*db, "SELECT count(*) FROM t") == 1);
}

TEST_CASE("migrate applies migrations in order, once, and refuses foreign or newer databases", "[state]") {
  TempDir dir;
  const std::string path = dir.file("m.db");
  const std::vector<Migration> v1 = {{1, "CREATE TABLE a (x INTEGER);"}};
  const std::vector<Migration> v2 = {{1, "CREATE TABLE a (x INTEGER);"}, {2, "ALTER TABLE a ADD COLUMN y TEXT;"}};
  {
    auto db = open_with_schema(path, "test database", {}, 0x1234, v1);
    REQUIRE(db.is_ok());
    CHECK(query_int(*db, "SELECT max(version) FROM schema_version") == 1);
    CHECK(query_int(*db, "PRAGMA application_id") == 0x1234);
  }
  {
    auto db = open_with_schema(path, "test database", {}, 0x1234, v2);
    REQUIRE(db.is_ok());
    CHECK(query_int(*db, "SELECT count(*) FROM schema_version") == 2);
    REQUIRE(db->exec("INSERT INTO a (x, y) VALUES (1, 'y')").is_ok());
  }
  {
    auto db = open_with_schema(path, "test database", {}, 0x1234, v2);  // already current: nothing to do
    REQUIRE(db.is_ok());
    CHECK(query_int(*db, "SELECT count(*) FROM schema_version") == 2);
  }
  {
    auto db = open_with_schema(path, "test database", {}, 0x1234, v1);  // an older build
    REQUIRE_FALSE(db.is_ok());
    CHECK(db.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(db.status().message(), Catch::Contains("schema version 2") && Catch::Contains("newer"));
  }
  {
    auto db = open_with_schema(path, "test database", {}, 0x9999, v2);  // another kind of database
    REQUIRE_FALSE(db.is_ok());
    CHECK(db.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(db.status().message(), Catch::Contains(path));
  }
  {
    const std::string foreign = dir.file("foreign.db");
    auto raw = Database::open(foreign, "test database");
    REQUIRE(raw.is_ok());
    REQUIRE(raw->exec("CREATE TABLE somebody_elses (x)").is_ok());
    auto db = open_with_schema(foreign, "test database", {}, 0x1234, v1);
    REQUIRE_FALSE(db.is_ok());
    CHECK(db.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(db.status().message(), Catch::Contains("another program"));
  }
}
