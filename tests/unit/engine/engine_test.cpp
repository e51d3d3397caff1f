#include "conflux/engine/engine.hpp"

#include <catch2/catch.hpp>

#include <map>

#include "../test_support.hpp"
#include "conflux/state/sqlite_state_store.hpp"

using namespace conflux;
using namespace conflux::engine;

namespace {

// Emits records {n} for n in [cursor, count); every `invalid_every`-th position is invalid input instead.
class CountingSource : public Source {
 public:
  CountingSource(int count, int invalid_every = 0) : count_(count), invalid_every_(invalid_every) {}
  int changed_every = 0;  // records with n % changed_every == 0 carry a different "v" (a changed source record)
  Result<std::vector<std::string>> streams() override { return std::vector<std::string>{"numbers"}; }
  Result<std::unique_ptr<SourceStream>> open(const std::string&, const std::string& cursor) override {
    struct Stream : SourceStream {
      int next, count, invalid_every, changed_every;
      Status read(size_t max, SourceBatch& out) override {
        for (size_t i = 0; i < max && next < count; ++i, ++next) {
          if (invalid_every && next % invalid_every == invalid_every - 1) {
            out.invalid.push_back({static_cast<uint64_t>(next), "bad input", "raw"});
            continue;
          }
          Record r(next);
          r.set("n", Value::integer(next));
          r.set("v", Value::string(changed_every && next % changed_every == 0 ? "changed" : "original"));
          out.records.push_back(std::move(r));
        }
        out.cursor = std::to_string(next);
        out.end = next >= count;
        return Status::ok();
      }
    };
    auto s = std::make_unique<Stream>();
    s->next = cursor.empty() ? 0 : std::stoi(cursor);
    s->count = count_;
    s->invalid_every = invalid_every_;
    s->changed_every = changed_every;
    return std::unique_ptr<SourceStream>(std::move(s));
  }

 private:
  int count_, invalid_every_;
};

// Drops multiples of 3 by rule, marks multiples of 5 invalid, keeps the rest.
class Sieve : public RecordTransform {
 public:
  Verdict process(Record& record, std::string& reason) const override {
    int64_t n = record.find("n")->int_value;
    if (n % 3 == 0) {
      reason = "multiple of 3";
      return Verdict::kDrop;
    }
    if (n % 5 == 0) {
      reason = "multiple of 5";
      return Verdict::kInvalid;
    }
    record.set("tag", Value::string("kept"));
    return Verdict::kKeep;
  }
};

// Keeps records by n; fails the batch that contains `fail_at`.
class MapSink : public Sink {
 public:
  std::map<int64_t, Record> rows;
  std::vector<int64_t> order;
  int64_t fail_at = -1;
  int64_t reject_every = 0;  // records with n % reject_every == 0 are rejected by the sink
  Status write(const std::string&, const std::vector<Record>& records, std::vector<WriteResult>& results) override {
    for (const auto& r : records) {
      if (r.find("n")->int_value == fail_at) return unavailable("sink down");
    }
    results.clear();
    for (const auto& r : records) {
      int64_t n = r.find("n")->int_value;
      if (reject_every && n % reject_every == 0) {
        results.push_back({WriteOutcome::kRejected, "sink refused " + std::to_string(n)});
        continue;
      }
      order.push_back(n);
      bool existed = rows.count(n);
      rows[n] = r;
      results.push_back({existed ? WriteOutcome::kUnchanged : WriteOutcome::kCreated, ""});
    }
    return Status::ok();
  }
};

Plan make_plan(int count, MapSink*& sink_out, int invalid_every = 0, int threads = 1) {
  Plan plan;
  plan.pipeline = "unit";
  plan.batch_size = 100;
  plan.threads = threads;
  SourceRuntime source;
  source.name = "counter";
  source.kind = "test";
  source.source = std::make_unique<CountingSource>(count, invalid_every);
  plan.sources.push_back(std::move(source));
  StageRuntime stage;
  stage.name = "sieve";
  stage.kind = "test";
  stage.transform = std::make_unique<Sieve>();
  plan.stages.push_back(std::move(stage));
  auto sink = std::make_unique<MapSink>();
  sink_out = sink.get();
  plan.sink = std::move(sink);
  plan.sink_name = "map";
  return plan;
}

}  // namespace

TEST_CASE("every record ends in exactly one place and the summary balances", "[engine]") {
  test::TempDir dir;
  auto store = state::open_sqlite_state_store(dir.file("state.db"));
  REQUIRE(store);
  MapSink* sink;
  Plan plan = make_plan(1000, sink, 7, 2);
  RunSummary s = run_pipeline(plan, **store, {});
  REQUIRE(s.status == "succeeded");
  CHECK(s.balanced());
  CHECK(s.in == 1000);
  // 142 invalid inputs (n % 7 == 6); of the remaining 858: multiples of 3 dropped, of 5 (not 3) dead-lettered.
  uint64_t invalid_input = 0, dropped = 0, dead = 0, kept = 0;
  for (int n = 0; n < 1000; ++n) {
    if (n % 7 == 6) invalid_input++;
    else if (n % 3 == 0) dropped++;
    else if (n % 5 == 0) dead++;
    else kept++;
  }
  CHECK(s.dropped == dropped);
  CHECK(s.dead_lettered == invalid_input + dead);
  CHECK(s.written == kept);
  CHECK(sink->rows.size() == kept);
  // Order is kept across parallel slices.
  CHECK(std::is_sorted(sink->order.begin(), sink->order.end()));
  auto letters = (*store)->count_dead_letters("unit", false);
  REQUIRE(letters);
  CHECK(*letters == invalid_input + dead);

  // A rerun starts at the committed cursor and reads nothing.
  MapSink* sink2;
  Plan again = make_plan(1000, sink2, 7, 2);
  RunSummary s2 = run_pipeline(again, **store, {});
  CHECK(s2.in == 0);
  CHECK(s2.balanced());
}

TEST_CASE("a sink failure fails the run with the cursor and summary at the last committed batch", "[engine]") {
  test::TempDir dir;
  auto store = state::open_sqlite_state_store(dir.file("state.db"));
  REQUIRE(store);
  MapSink* sink;
  Plan plan = make_plan(1000, sink);
  sink->fail_at = 451;  // in the fifth batch (400..499)
  RunSummary s = run_pipeline(plan, **store, {});
  CHECK(s.status == "failed");
  CHECK(s.error.find("sink down") != std::string::npos);
  CHECK(s.in == 400);
  CHECK(s.balanced());
  auto cursor = (*store)->load_cursor({"unit", "counter", "numbers"});
  REQUIRE(cursor);
  REQUIRE(cursor->has_value());
  CHECK(**cursor == "400");

  // The next run resumes from there and finishes; nothing is lost or written twice.
  MapSink* sink2;
  Plan again = make_plan(1000, sink2);
  RunSummary s2 = run_pipeline(again, **store, {});
  CHECK(s2.status == "succeeded");
  CHECK(s2.in == 600);
  CHECK(sink2->order.front() >= 400);
}

TEST_CASE("dry run writes and commits nothing; limit stops early", "[engine]") {
  test::TempDir dir;
  auto store = state::open_sqlite_state_store(dir.file("state.db"));
  REQUIRE(store);
  MapSink* sink;
  Plan plan = make_plan(1000, sink, 7);
  RunOptions options;
  options.dry_run = true;
  options.limit = 250;
  RunSummary s = run_pipeline(plan, **store, options);
  CHECK(s.status == "succeeded");
  CHECK(s.in == 250);
  CHECK(s.balanced());
  CHECK(sink->rows.empty());
  auto cursor = (*store)->load_cursor({"unit", "counter", "numbers"});
  REQUIRE(cursor);
  CHECK(!cursor->has_value());
  auto letters = (*store)->count_dead_letters("unit", true);
  REQUIRE(letters);
  CHECK(*letters == 0);
}

TEST_CASE("cancellation stops after the current batch is committed", "[engine]") {
  test::TempDir dir;
  auto store = state::open_sqlite_state_store(dir.file("state.db"));
  REQUIRE(store);
  MapSink* sink;
  Plan plan = make_plan(100000, sink);
  std::atomic<bool> cancel{true};  // already set: the first batch is processed and committed, then the run stops
  RunOptions options;
  options.cancel = &cancel;
  RunSummary s = run_pipeline(plan, **store, options);
  CHECK(s.status == "cancelled");
  CHECK(s.balanced());
  CHECK(s.in < 100000);
}

TEST_CASE("records the sink rejects are dead-lettered with their batch, across many batches", "[engine]") {
  // Batches are written and committed on the sink thread while the stages work on the next one: every batch's
  // cursor, stage dead letters and sink dead letters must still land together, and the totals must balance.
  test::TempDir dir;
  auto store = state::open_sqlite_state_store(dir.file("state.db"));
  REQUIRE(store);
  MapSink* sink;
  Plan plan = make_plan(5000, sink, 0, 2);
  sink->reject_every = 7;
  RunSummary s = run_pipeline(plan, **store, {});
  CHECK(s.status == "succeeded");
  CHECK(s.in == 5000);
  CHECK(s.balanced());
  uint64_t sink_rejected = 0, stage_invalid = 0, kept = 0;
  for (int n = 0; n < 5000; ++n) {
    if (n % 3 == 0) continue;
    if (n % 5 == 0) {
      ++stage_invalid;
    } else if (n % 7 == 0) {
      ++sink_rejected;
    } else {
      ++kept;
    }
  }
  CHECK(sink->rows.size() == kept);
  CHECK(s.stages.back().dead_lettered == sink_rejected);
  CHECK(s.dead_lettered == sink_rejected + stage_invalid);
  CHECK(s.batches_committed == 50);
  auto letters = (*store)->count_dead_letters("unit", true);
  REQUIRE(letters);
  CHECK(static_cast<uint64_t>(*letters) == sink_rejected + stage_invalid);
  auto cursor = (*store)->load_cursor({"unit", "counter", "numbers"});
  REQUIRE(cursor);
  REQUIRE(cursor->has_value());
  CHECK(**cursor == "5000");
}

TEST_CASE("the sink ledger sends only changed records again and keeps per-record results", "[engine]") {
  test::TempDir dir;
  auto store = state::open_sqlite_state_store(dir.file("state.db"));
  REQUIRE(store);
  // Returns the summary and how many records reached the sink (the plan and its sink die with the call).
  auto run = [&](int changed_every, size_t& sent) {
    MapSink* sink;
    Plan plan = make_plan(3000, sink);
    static_cast<CountingSource*>(plan.sources[0].source.get())->changed_every = changed_every;
    plan.sink_sync.key = {"n"};
    RunSummary s = run_pipeline(plan, **store, {});
    REQUIRE(s.status == "succeeded");
    REQUIRE(s.balanced());
    REQUIRE((*store)->reset_cursors("unit", std::nullopt, std::nullopt));  // read everything again next time
    sent = sink->order.size();
    return s;
  };
  // Kept by the Sieve: not a multiple of 3 or 5.
  uint64_t kept = 0, kept_changed = 0;
  for (int n = 0; n < 3000; ++n) {
    if (n % 3 != 0 && n % 5 != 0) {
      ++kept;
      if (n % 101 == 0) ++kept_changed;
    }
  }
  size_t first = 0;
  RunSummary s1 = run(0, first);
  CHECK(first == kept);
  CHECK(s1.stages.back().created == kept);

  size_t second = 0;  // same content: nothing is sent, everything counts unchanged
  RunSummary s2 = run(0, second);
  CHECK(second == 0);
  CHECK(s2.stages.back().unchanged == kept);
  CHECK(s2.unchanged == kept);

  size_t third = 0;  // ~1% of the source changed: only those are sent
  RunSummary s3 = run(101, third);
  CHECK(third == kept_changed);
  CHECK(s3.stages.back().created == kept_changed);
  CHECK(s3.stages.back().unchanged == kept - kept_changed);

  auto results = (*store)->list_results(s3.run_id, std::string("created"), 0, 0);
  REQUIRE(results);
  REQUIRE(kept_changed > 10);
  REQUIRE(results->size() == kept_changed);
  CHECK(results->front().key == "101");
  auto all = (*store)->list_results(s3.run_id, std::nullopt, 0, 0);
  REQUIRE(all);
  CHECK(all->size() == kept);
}

TEST_CASE("sink rejections are per-record results with their reason and stay out of the ledger", "[engine]") {
  test::TempDir dir;
  auto store = state::open_sqlite_state_store(dir.file("state.db"));
  REQUIRE(store);
  MapSink* sink;
  Plan plan = make_plan(500, sink);
  plan.sink_sync.key = {"n"};
  sink->reject_every = 7;
  RunSummary s = run_pipeline(plan, **store, {});
  REQUIRE(s.status == "succeeded");
  auto rejected = (*store)->list_results(s.run_id, std::string("rejected"), 0, 0);
  REQUIRE(rejected);
  REQUIRE(!rejected->empty());
  CHECK(rejected->front().message.find("sink refused") != std::string::npos);
  // A rejected record is not in the ledger: the next run sends it again.
  REQUIRE((*store)->reset_cursors("unit", std::nullopt, std::nullopt));
  MapSink* again;
  Plan second = make_plan(500, again);
  second.sink_sync.key = {"n"};
  RunSummary s2 = run_pipeline(second, **store, {});
  REQUIRE(s2.status == "succeeded");
  CHECK(again->order.size() == rejected->size());
}
