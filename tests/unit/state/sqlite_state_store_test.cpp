// The SQLite state store against the StateStore contract: cursors, runs, dead letters, atomic commits, and the
// errors a user meets (locked, corrupt, read-only, disk full).
#include "conflux/state/sqlite_state_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace {

namespace fs = std::filesystem;
using conflux::StatusCode;
using conflux::state::BatchCommit;
using conflux::state::CursorKey;
using conflux::state::DeadLetter;
using conflux::state::DeadLetterFilter;
using conflux::state::open_sqlite_state_store;
using conflux::state::SqliteOptions;
using conflux::state::StateStore;

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = fs::temp_directory_path() /
            ("conflux-state-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::unique_ptr<StateStore> open_store(const std::string& path, const SqliteOptions& options = {}) {
  auto store = open_sqlite_state_store(path, options);
  INFO(store.status().to_string());
  REQUIRE(store.is_ok());
  return std::move(store).value();
}

DeadLetter letter(const std::string& stage, const std::string& reason, const std::string& payload = "{\"a\":1}") {
  DeadLetter dl;
  dl.stage = stage;
  dl.reason = reason;
  dl.payload = payload;
  return dl;
}

BatchCommit batch(const CursorKey& key, std::optional<std::string> cursor, std::vector<DeadLetter> letters = {}) {
  BatchCommit commit;
  commit.key = key;
  commit.cursor = std::move(cursor);
  commit.dead_letters = std::move(letters);
  return commit;
}

std::optional<std::string> cursor_of(StateStore& store, const CursorKey& key) {
  auto cursor = store.load_cursor(key);
  REQUIRE(cursor.is_ok());
  return *cursor;
}

size_t dead_letter_count(StateStore& store, const std::string& pipeline = "") {
  auto count = store.count_dead_letters(pipeline, true);
  REQUIRE(count.is_ok());
  return *count;
}

// A second connection, as another process would hold it.
struct RawConnection {
  explicit RawConnection(const std::string& path) { REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK); }
  ~RawConnection() { sqlite3_close(db); }
  int exec(const std::string& sql) { return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr); }
  sqlite3* db = nullptr;
};

}  // namespace

TEST_CASE("cursors round-trip and survive reopening", "[state]") {
  TempDir dir;
  const std::string path = dir.file("state/state.db");  // the parent directory does not exist yet
  const CursorKey key{"orders", "shop", "customers"};
  {
    auto store = open_store(path);
    CHECK(store->location() == path);
    CHECK_FALSE(cursor_of(*store, key).has_value());
    REQUIRE(store->commit_batch(0, batch(key, "page=2")).is_ok());
    CHECK(cursor_of(*store, key) == "page=2");
    REQUIRE(store->commit_batch(0, batch(key, "page=3")).is_ok());
    CHECK(cursor_of(*store, key) == "page=3");
    // nullopt: the cursor does not move
    REQUIRE(store->commit_batch(0, batch(key, std::nullopt)).is_ok());
    CHECK(cursor_of(*store, key) == "page=3");
    CHECK_FALSE(cursor_of(*store, {"orders", "shop", "other"}).has_value());
  }
  auto store = open_store(path);
  CHECK(cursor_of(*store, key) == "page=3");
  auto entries = store->list_cursors("orders");
  REQUIRE(entries.is_ok());
  REQUIRE(entries->size() == 1);
  CHECK(entries->at(0).key.pipeline == "orders");
  CHECK(entries->at(0).key.source == "shop");
  CHECK(entries->at(0).key.stream == "customers");
  CHECK(entries->at(0).cursor == "page=3");
  CHECK_THAT(entries->at(0).updated_at, Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"));
}

TEST_CASE("reset_cursors removes all of a pipeline, or one source, or one stream", "[state]") {
  TempDir dir;
  auto store = open_store(dir.file("state.db"));
  auto seed = [&] {
    for (const CursorKey& key : std::vector<CursorKey>{{"p", "crm", "contacts"},
                                                       {"p", "crm", "deals"},
                                                       {"p", "ads", "spend"},
                                                       {"p", "ads", "contacts"},
                                                       {"q", "crm", "contacts"}}) {
      REQUIRE(store->commit_batch(0, batch(key, "c")).is_ok());
    }
  };
  seed();
  auto all = store->list_cursors("");
  REQUIRE(all.is_ok());
  CHECK(all->size() == 5);

  auto removed = store->reset_cursors("p", std::string("crm"), std::string("deals"));
  REQUIRE(removed.is_ok());
  CHECK(*removed == 1);
  CHECK_FALSE(cursor_of(*store, {"p", "crm", "deals"}).has_value());
  CHECK(cursor_of(*store, {"p", "crm", "contacts"}).has_value());

  removed = store->reset_cursors("p", std::nullopt, std::string("contacts"));  // that stream in every source
  REQUIRE(removed.is_ok());
  CHECK(*removed == 2);
  CHECK(cursor_of(*store, {"p", "ads", "spend"}).has_value());

  seed();
  removed = store->reset_cursors("p", std::string("ads"), std::nullopt);
  REQUIRE(removed.is_ok());
  CHECK(*removed == 2);

  removed = store->reset_cursors("p", std::nullopt, std::nullopt);
  REQUIRE(removed.is_ok());
  CHECK(*removed == 2);
  auto left = store->list_cursors("");
  REQUIRE(left.is_ok());
  REQUIRE(left->size() == 1);
  CHECK(left->at(0).key.pipeline == "q");  // other pipelines are untouched
}

TEST_CASE("commit_batch is atomic: a failure midway saves neither cursor nor dead letters", "[state]") {
  TempDir dir;
  auto store = open_store(dir.file("state.db"));
  const CursorKey key{"p", "file", "rows"};
  auto run = store->begin_run("p", false);
  REQUIRE(run.is_ok());
  REQUIRE(store->commit_batch(*run, batch(key, "line=10", {letter("validate", "bad email")})).is_ok());
  REQUIRE(dead_letter_count(*store) == 1);

  SECTION("a dead letter the schema refuses (empty reason) after the cursor was written") {
    conflux::Status status =
        store->commit_batch(*run, batch(key, "line=20", {letter("validate", "bad phone"), letter("validate", "")}));
    REQUIRE_FALSE(status.is_ok());
    CHECK(status.code() == StatusCode::kInternal);
    CHECK_THAT(status.message(), Catch::Contains("dead letter 2 of 2") && Catch::Contains("nothing of the batch"));
  }
  SECTION("a run id that does not exist (foreign key)") {
    conflux::Status status = store->commit_batch(*run + 100, batch(key, "line=20", {letter("validate", "bad phone")}));
    REQUIRE_FALSE(status.is_ok());
    CHECK(status.code() == StatusCode::kInternal);
  }
  CHECK(cursor_of(*store, key) == "line=10");
  CHECK(dead_letter_count(*store) == 1);
  // The store is still usable after the failed commit.
  REQUIRE(store->commit_batch(*run, batch(key, "line=20", {letter("validate", "bad phone")})).is_ok());
  CHECK(cursor_of(*store, key) == "line=20");
  CHECK(dead_letter_count(*store) == 2);
}

TEST_CASE("runs begin, finish and list newest first", "[state]") {
  TempDir dir;
  auto store = open_store(dir.file("state.db"));
  auto first = store->begin_run("orders", false);
  auto second = store->begin_run("leads", true);
  auto third = store->begin_run("orders", false);
  REQUIRE(first.is_ok());
  REQUIRE(second.is_ok());
  REQUIRE(third.is_ok());
  CHECK(*first < *second);
  CHECK(*second < *third);

  REQUIRE(store->finish_run(*first, "succeeded", R"({"in":3,"written":3})").is_ok());
  REQUIRE(store->finish_run(*second, "failed", "").is_ok());

  auto orders = store->list_runs("orders", 10);
  REQUIRE(orders.is_ok());
  REQUIRE(orders->size() == 2);
  CHECK(orders->at(0).id == *third);
  CHECK(orders->at(0).status == "running");
  CHECK(orders->at(0).finished_at.empty());
  CHECK(orders->at(1).id == *first);
  CHECK(orders->at(1).status == "succeeded");
  CHECK(orders->at(1).summary_json == R"({"in":3,"written":3})");
  CHECK_FALSE(orders->at(1).finished_at.empty());
  CHECK_FALSE(orders->at(1).started_at.empty());
  CHECK_FALSE(orders->at(1).dry_run);

  auto all = store->list_runs("", 0);  // every pipeline, no limit
  REQUIRE(all.is_ok());
  REQUIRE(all->size() == 3);
  CHECK(all->at(1).pipeline == "leads");
  CHECK(all->at(1).dry_run);
  CHECK(all->at(1).status == "failed");
  CHECK(all->at(1).summary_json == "{}");

  auto limited = store->list_runs("", 1);
  REQUIRE(limited.is_ok());
  REQUIRE(limited->size() == 1);
  CHECK(limited->at(0).id == *third);

  conflux::Status unknown = store->finish_run(*third + 100, "succeeded", "{}");
  CHECK(unknown.code() == StatusCode::kNotFound);
  conflux::Status bad_status = store->finish_run(*third, "exploded", "{}");
  CHECK(bad_status.code() == StatusCode::kInternal);
}

TEST_CASE("dead letters: list, filter, get, count and mark_replayed", "[state]") {
  TempDir dir;
  auto store = open_store(dir.file("state.db"));
  auto run = store->begin_run("p", false);
  REQUIRE(run.is_ok());

  DeadLetter raw = letter("source", "ragged CSV row: 3 fields, expected 4", "a,b,c");
  raw.payload_is_record = false;
  raw.position = 17;
  raw.run_id = 999;  // ignored: the commit's run id wins
  REQUIRE(store
              ->commit_batch(*run, batch({"p", "file", "rows"}, "line=20",
                                         {raw, letter("validate", "bad email"), letter("sink", "rejected by CRM")}))
              .is_ok());
  DeadLetter elsewhere = letter("validate", "bad phone");
  elsewhere.source = "other-source";
  REQUIRE(store->commit_batch(0, batch({"q", "api", "contacts"}, std::nullopt, {elsewhere})).is_ok());

  DeadLetterFilter filter;
  filter.pipeline = "p";
  auto listed = store->list_dead_letters(filter);
  REQUIRE(listed.is_ok());
  REQUIRE(listed->size() == 3);
  const DeadLetter first = listed->at(0);  // a copy: `listed` is reassigned below
  CHECK(first.id > 0);
  CHECK(first.pipeline == "p");
  CHECK(first.run_id == *run);
  CHECK(first.source == "file");
  CHECK(first.stream == "rows");
  CHECK(first.stage == "source");
  CHECK(first.reason == "ragged CSV row: 3 fields, expected 4");
  CHECK(first.payload == "a,b,c");
  CHECK_FALSE(first.payload_is_record);
  CHECK(first.position == 17);
  CHECK_FALSE(first.created_at.empty());
  CHECK_FALSE(first.replayed);
  CHECK(listed->at(1).payload_is_record);

  filter.stage = "validate";
  listed = store->list_dead_letters(filter);
  REQUIRE(listed.is_ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->at(0).reason == "bad email");

  DeadLetterFilter everything;  // all pipelines
  listed = store->list_dead_letters(everything);
  REQUIRE(listed.is_ok());
  REQUIRE(listed->size() == 4);
  CHECK(listed->at(3).pipeline == "q");
  CHECK(listed->at(3).source == "other-source");
  CHECK(listed->at(3).stream == "contacts");
  CHECK(listed->at(3).run_id == 0);

  everything.limit = 2;
  everything.offset = 1;
  listed = store->list_dead_letters(everything);
  REQUIRE(listed.is_ok());
  REQUIRE(listed->size() == 2);
  CHECK(listed->at(0).reason == "bad email");

  auto got = store->get_dead_letter(first.id);
  REQUIRE(got.is_ok());
  REQUIRE(got->has_value());
  CHECK((*got)->payload == "a,b,c");
  auto missing = store->get_dead_letter(first.id + 1000);
  REQUIRE(missing.is_ok());
  CHECK_FALSE(missing->has_value());

  auto count = store->count_dead_letters("p", false);
  REQUIRE(count.is_ok());
  CHECK(*count == 3);

  REQUIRE(store->mark_replayed({first.id, first.id + 1}).is_ok());
  REQUIRE(store->mark_replayed({first.id}).is_ok());  // idempotent
  count = store->count_dead_letters("p", false);
  REQUIRE(count.is_ok());
  CHECK(*count == 1);
  count = store->count_dead_letters("p", true);
  REQUIRE(count.is_ok());
  CHECK(*count == 3);

  DeadLetterFilter pending;
  pending.pipeline = "p";
  listed = store->list_dead_letters(pending);
  REQUIRE(listed.is_ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->at(0).stage == "sink");
  pending.include_replayed = true;
  listed = store->list_dead_letters(pending);
  REQUIRE(listed.is_ok());
  REQUIRE(listed->size() == 3);
  CHECK(listed->at(0).replayed);

  // All or nothing: one unknown id marks none.
  const int64_t sink_id = listed->at(2).id;
  conflux::Status unknown = store->mark_replayed({sink_id, sink_id + 1000});
  CHECK(unknown.code() == StatusCode::kNotFound);
  auto sink_letter = store->get_dead_letter(sink_id);
  REQUIRE(sink_letter.is_ok());
  CHECK_FALSE((*sink_letter)->replayed);
}

TEST_CASE("a locked state database is kUnavailable and names the path", "[state]") {
  TempDir dir;
  const std::string path = dir.file("state.db");
  SqliteOptions options;
  options.busy_timeout_ms = 50;
  auto store = open_store(path, options);
  const CursorKey key{"p", "s", "t"};
  REQUIRE(store->commit_batch(0, batch(key, "1")).is_ok());

  RawConnection other(path);
  REQUIRE(other.exec("BEGIN EXCLUSIVE") == SQLITE_OK);

  conflux::Status status = store->commit_batch(0, batch(key, "2", {letter("validate", "bad")}));
  REQUIRE_FALSE(status.is_ok());
  CHECK(status.code() == StatusCode::kUnavailable);
  CHECK(status.retryable());
  CHECK(status.message() ==
        "state database '" + path + "' is locked by another process (is another conflux run using it?)");
  CHECK(store->begin_run("p", false).status().code() == StatusCode::kUnavailable);
  // WAL: readers are not blocked by the writer.
  CHECK(cursor_of(*store, key) == "1");

  REQUIRE(other.exec("ROLLBACK") == SQLITE_OK);
  REQUIRE(store->commit_batch(0, batch(key, "2")).is_ok());
  CHECK(cursor_of(*store, key) == "2");
}

TEST_CASE("opening a database another process holds exclusively is kUnavailable", "[state]") {
  TempDir dir;
  const std::string path = dir.file("state.db");
  RawConnection other(path);  // a rollback-journal database whose writer blocks readers too
  REQUIRE(other.exec("CREATE TABLE placeholder (x); BEGIN EXCLUSIVE; INSERT INTO placeholder VALUES (1);") ==
          SQLITE_OK);
  SqliteOptions options;
  options.busy_timeout_ms = 50;
  auto store = open_sqlite_state_store(path, options);
  REQUIRE_FALSE(store.is_ok());
  CHECK(store.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(store.status().message(), Catch::Contains("'" + path + "' is locked"));
}

TEST_CASE("a corrupt state database is kDataLoss with advice", "[state]") {
  TempDir dir;
  const std::string path = dir.file("state.db");

  SECTION("garbage bytes instead of a database") {
    std::ofstream(path, std::ios::binary) << std::string(8192, 'x') << "this is not a database";
  }
  SECTION("a real state database whose pages were overwritten") {
    {
      auto store = open_store(path);
      auto run = store->begin_run("p", false);
      REQUIRE(run.is_ok());
      REQUIRE(store->commit_batch(*run, batch({"p", "s", "t"}, "1", {letter("x", "y")})).is_ok());
    }  // closing the last connection checkpoints the WAL into the file
    REQUIRE_FALSE(fs::exists(path + "-wal"));
    const auto size = fs::file_size(path);
    REQUIRE(size > 4096);
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(4096);  // keep page 1 (header and schema), wreck the table pages
    file << std::string(size - 4096, '\xA5');
  }

  auto store = open_sqlite_state_store(path);
  conflux::Status status = store.status();
  if (store.is_ok()) {  // page damage may only show when the damaged pages are read
    auto runs = (*store)->list_runs("", 0);
    status = runs.status();
    if (status.is_ok()) status = (*store)->list_cursors("").status();
  }
  REQUIRE_FALSE(status.is_ok());
  CHECK(status.code() == StatusCode::kDataLoss);
  CHECK_THAT(status.message(),
             Catch::StartsWith("state database '" + path + "' is corrupt or not a Conflux state database: "));
  CHECK_THAT(status.message(), Catch::EndsWith("move it aside and rerun to start from scratch, or restore a backup"));
}

TEST_CASE("a state database that cannot be created is kFailedPrecondition", "[state]") {
  TempDir dir;
  SECTION("the parent path is a regular file") {
    std::ofstream(dir.file("plain-file")) << "x";
    const std::string path = dir.file("plain-file/state.db");
    auto store = open_sqlite_state_store(path);
    REQUIRE_FALSE(store.is_ok());
    CHECK(store.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(store.status().message(), Catch::Contains(path));
  }
  SECTION("the path is a directory") {
    fs::create_directories(dir.file("a-directory"));
    auto store = open_sqlite_state_store(dir.file("a-directory"));
    REQUIRE_FALSE(store.is_ok());
    CHECK(store.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(store.status().message(), Catch::Contains(dir.file("a-directory")));
  }
  SECTION("the directory is read-only") {
    if (::geteuid() == 0) {
      WARN("skipped: running as root, where directory permissions are not enforced");
      return;
    }
    fs::create_directories(dir.file("ro"));
    fs::permissions(dir.file("ro"), fs::perms::owner_read | fs::perms::owner_exec);
    const std::string path = dir.file("ro/state.db");
    auto store = open_sqlite_state_store(path);
    REQUIRE_FALSE(store.is_ok());
    CHECK(store.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(store.status().message(), Catch::Contains(path));
  }
  SECTION("a missing file with create_if_missing off is kNotFound") {
    SqliteOptions options;
    options.create_if_missing = false;
    auto store = open_sqlite_state_store(dir.file("nope.db"), options);
    REQUIRE_FALSE(store.is_ok());
    CHECK(store.status().code() == StatusCode::kNotFound);
  }
}

TEST_CASE("a full disk is kUnavailable, says so, and saves nothing of the batch", "[state]") {
  TempDir dir;
  const std::string path = dir.file("state.db");
  const CursorKey key{"p", "s", "t"};
  {
    auto store = open_store(path);
    REQUIRE(store->commit_batch(0, batch(key, "before")).is_ok());
  }
  SqliteOptions options;
  options.max_page_count = 1;  // test-only: caps the file at its current size
  auto store = open_store(path, options);
  const std::string big(256 * 1024, 'p');
  conflux::Status status = store->commit_batch(0, batch(key, "after", {letter("validate", "bad", big)}));
  REQUIRE_FALSE(status.is_ok());
  CHECK(status.code() == StatusCode::kUnavailable);
  CHECK(status.message() ==
        "disk full while writing the state database '" + path +
            "' (dead letters and cursor of this batch were not saved; the batch will be re-read on the next run)");
  CHECK(cursor_of(*store, key) == "before");
  CHECK(dead_letter_count(*store) == 0);
}

TEST_CASE("a state database is not mistaken for another SQLite file", "[state]") {
  TempDir dir;
  const std::string path = dir.file("other.db");
  {
    RawConnection other(path);
    REQUIRE(other.exec("CREATE TABLE invoices (id INTEGER)") == SQLITE_OK);
  }
  auto store = open_sqlite_state_store(path);
  REQUIRE_FALSE(store.is_ok());
  CHECK(store.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(store.status().message(), Catch::Contains(path) && Catch::Contains("not a Conflux state database"));
}
