#include "conflux/engine/engine.hpp"

#include <pthread.h>

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "conflux/common/hash.hpp"
#include "conflux/common/logging.hpp"
#include "ordered_worker.hpp"
#include "conflux/record/json.hpp"

namespace conflux::engine {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxDropRules = 32;

// A bounded hand-off from the reading thread to the processing thread: back-pressure keeps memory flat.
class BatchQueue {
 public:
  explicit BatchQueue(size_t capacity) : capacity_(capacity) {}

  struct Item {
    SourceBatch batch;
    Status status;
  };

  // Blocks while full; false when the consumer has closed the queue.
  bool push(Item item) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }
  // Blocks while empty; nullopt once the producer finished and everything was taken.
  std::optional<Item> pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty() || finished_; });
    if (items_.empty()) return std::nullopt;
    Item item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }
  void finish() {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    not_empty_.notify_all();
  }
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    not_full_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Item> items_;
  size_t capacity_;
  bool finished_ = false;
  bool closed_ = false;
};

struct StageRef {
  StageRuntime* stage;
  StageSummary* summary;
};

class Runner {
 public:
  Runner(Plan& plan, state::StateStore& store, const RunOptions& options, RunSummary& summary)
      : plan_(plan), store_(store), options_(options), summary_(summary), log_(logging::get("engine")) {
    threads_ = plan.threads > 0 ? plan.threads : std::max(1u, std::thread::hardware_concurrency());
  }

  void setup() {
    // Summaries: sources, their stages, shared stages, sink, in flow order. Pointers stay valid: reserve first.
    size_t count = 1 + plan_.stages.size();
    for (auto& s : plan_.sources) count += 1 + s.stages.size();
    summary_.stages.reserve(count);
    for (auto& source : plan_.sources) {
      source_summaries_.push_back(add_summary(source.name, "source", source.kind));
      std::vector<StageRef> refs;
      for (auto& stage : source.stages) refs.push_back({&stage, add_summary(stage.name, "stage", stage.kind)});
      source_stage_refs_.push_back(std::move(refs));
    }
    for (auto& stage : plan_.stages) shared_stage_refs_.push_back({&stage, add_summary(stage.name, "stage", stage.kind)});
    for (auto& refs : source_stage_refs_) {
      for (auto& ref : refs) ref.stage->transform->start(options_.dry_run);
    }
    for (auto& ref : shared_stage_refs_) ref.stage->transform->start(options_.dry_run);
    sink_summary_ = add_summary(plan_.sink_name, "sink", plan_.sink_kind);

    holding_ = false;
    for (auto& ref : shared_stage_refs_) holding_ |= ref.stage->transform->holds_records();
    for (auto& refs : source_stage_refs_) {
      for (auto& ref : refs) holding_ |= ref.stage->transform->holds_records();
    }
    if (holding_) log_->info("a stage holds records until the end of the run: cursors are committed only at the end");
    start_ = Clock::now();
  }

  // Sends dead-lettered records back in at the stage that rejected them; their cursors do not move. Letters that
  // are raw input (never a record) cannot be replayed: the source must read them again once the input is fixed.
  // Each letter is marked replayed as soon as its outcome is committed (at the end when a stage holds records), so
  // a replay that fails or is cancelled half-way leaves the rest to replay again, none twice.
  Status replay(const std::vector<state::DeadLetter>& letters) {
    setup();
    replaying_ = true;  // letters are marked replayed one by one, so every write commits in line
    std::vector<int64_t> held_ids;
    for (const state::DeadLetter& letter : letters) {
      if (options_.cancel && options_.cancel->load()) {
        cancelled_ = true;
        break;
      }
      if (!letter.payload_is_record) continue;
      size_t source_index = plan_.sources.size();
      for (size_t i = 0; i < plan_.sources.size(); ++i) {
        if (plan_.sources[i].name == letter.source) source_index = i;
      }
      if (source_index == plan_.sources.size()) {
        return not_found("dead letter " + std::to_string(letter.id) + " came from source '" + letter.source +
                         "', which the pipeline no longer has");
      }
      nlohmann::ordered_json payload = nlohmann::ordered_json::parse(letter.payload, nullptr, false);
      if (!payload.is_object()) return data_loss("dead letter " + std::to_string(letter.id) + " holds no JSON record");
      std::vector<Record> records;
      records.push_back(record_from_json(payload, letter.position));
      state::CursorKey key{plan_.pipeline, letter.source, letter.stream};
      auto from = [&](std::vector<StageRef>& refs) -> std::optional<std::vector<StageRef>> {
        for (size_t k = 0; k < refs.size(); ++k) {
          if (refs[k].stage->name == letter.stage) return std::vector<StageRef>(refs.begin() + k, refs.end());
        }
        return std::nullopt;
      };
      auto source_tail = from(source_stage_refs_[source_index]);
      auto shared_tail = source_tail ? std::nullopt : from(shared_stage_refs_);
      if (!source_tail && !shared_tail && letter.stage != plan_.sink_name) {
        return not_found("dead letter " + std::to_string(letter.id) + " was rejected by step '" + letter.stage +
                         "', which the pipeline no longer has; replay would skip the steps it still needs");
      }
      summary_.in += 1;
      source_summaries_[source_index]->in += 1;
      source_summaries_[source_index]->out += 1;
      if (source_tail) {
        CONFLUX_RETURN_IF_ERROR(run_stages(*source_tail, records, key));
        CONFLUX_RETURN_IF_ERROR(process(records, key, shared_stage_refs_, std::nullopt));
      } else if (shared_tail) {
        CONFLUX_RETURN_IF_ERROR(process(records, key, *shared_tail, std::nullopt));
      } else {
        CONFLUX_RETURN_IF_ERROR(process_from_sink(records, key, std::nullopt));
      }
      if (options_.dry_run) continue;
      if (holding_) {
        held_ids.push_back(letter.id);
      } else {
        CONFLUX_RETURN_IF_ERROR(store_.mark_replayed({letter.id}));
      }
    }
    if (cancelled_) return Status::ok();
    for (size_t i = 0; i < plan_.sources.size(); ++i) {
      std::vector<Record> released;
      state::CursorKey key{plan_.pipeline, plan_.sources[i].name, ""};
      CONFLUX_RETURN_IF_ERROR(finish_stages(source_stage_refs_[i], released, key));
      if (!released.empty()) CONFLUX_RETURN_IF_ERROR(process(released, key, shared_stage_refs_, std::nullopt));
    }
    CONFLUX_RETURN_IF_ERROR(finish_shared());
    if (!held_ids.empty()) CONFLUX_RETURN_IF_ERROR(store_.mark_replayed(held_ids));
    return Status::ok();
  }

  // Always returns with no batch in flight, so that the summary and committed_ are final.
  Status run() {
    setup();
    Status status = run_sources();
    Status drained = drain();
    if (!status.is_ok()) return status;
    CONFLUX_RETURN_IF_ERROR(drained);
    if (cancelled_ || options_.dry_run) return Status::ok();
    CONFLUX_RETURN_IF_ERROR(delete_withdrawn());
    if (plan_.sink_sync.mirror && !options_.limit) return mirror_deletes();
    return Status::ok();
  }

  // Records the stages withdrew (Transform::withdrawn) are deleted from the sink. With a sync key only those the
  // ledger says the sink holds are sent, so a withdrawal is tried until the sink confirms it, and never again after.
  Status delete_withdrawn() {
    std::vector<Record> withdrawn;
    auto collect = [&](std::vector<StageRef>& refs) {
      for (auto& ref : refs) {
        for (Record& r : ref.stage->transform->withdrawn()) withdrawn.push_back(std::move(r));
      }
    };
    for (auto& refs : source_stage_refs_) collect(refs);
    collect(shared_stage_refs_);
    if (withdrawn.empty()) return Status::ok();
    if (!plan_.sink->can_delete()) {
      log_->warn("{} record(s) withdrawn by stages (e.g. profiles merged into others) stay in sink '{}', which cannot "
                 "delete", withdrawn.size(), plan_.sink_name);
      return Status::ok();
    }
    std::vector<std::string> ledger_keys;
    if (!plan_.sink_sync.key.empty()) {
      for (const Record& r : withdrawn) ledger_keys.push_back(sync_key(r));
      auto held = store_.ledger_lookup(plan_.pipeline, plan_.sink_name, ledger_keys);
      if (!held) return held.status().with_context("withdrawn records");
      std::vector<Record> kept;
      ledger_keys.clear();
      for (Record& r : withdrawn) {
        std::string key = sync_key(r);
        if (held->count(key) == 0) continue;
        ledger_keys.push_back(std::move(key));
        kept.push_back(std::move(r));
      }
      withdrawn = std::move(kept);
      if (withdrawn.empty()) return Status::ok();
    }
    std::vector<std::string> key_fields;
    for (const Field& f : withdrawn.front().fields()) key_fields.push_back(f.name);
    std::vector<std::vector<std::string>> keys;
    for (const Record& r : withdrawn) {
      std::vector<std::string> parts;
      for (const std::string& name : key_fields) {
        const Value* v = r.find(name);
        parts.push_back(v == nullptr ? std::string() : v->to_text());
      }
      keys.push_back(std::move(parts));
    }
    auto count = delete_from_sink(key_fields, keys, ledger_keys);
    if (!count) return count.status().with_context("withdrawn records");
    log_->info("deleted {} record(s) the stages withdrew (profiles merged into others)", *count);
    return Status::ok();
  }

  // Deletes `keys` (values of `key_fields`) from the sink, makes that durable, forgets `ledger_keys` and counts
  // what was deleted in the summaries.
  Result<uint64_t> delete_from_sink(const std::vector<std::string>& key_fields,
                                    const std::vector<std::vector<std::string>>& keys,
                                    const std::vector<std::string>& ledger_keys) {
    std::vector<bool> deleted;
    CONFLUX_RETURN_IF_ERROR(plan_.sink->remove(key_fields, keys, deleted).with_context(
        "sink '" + plan_.sink_name + "' delete"));
    CONFLUX_RETURN_IF_ERROR(plan_.sink->flush());
    uint64_t count = 0;
    for (bool d : deleted) count += d ? 1 : 0;
    // Keys the target no longer had are forgotten too: either way they are gone.
    if (!ledger_keys.empty()) CONFLUX_RETURN_IF_ERROR(store_.ledger_remove(plan_.pipeline, plan_.sink_name, ledger_keys));
    sink_summary_->deleted += count;
    summary_.deleted += count;
    committed_.stages.back().deleted += count;
    committed_.deleted += count;
    return count;
  }

  // After a complete mirror run: the records the sink accepted in earlier runs (the ledger) that this run did not
  // meet have left the sources, so they are deleted from the target and forgotten by the ledger.
  Status mirror_deletes() {
    auto unseen = store_.ledger_unseen(plan_.pipeline, plan_.sink_name, summary_.run_id);
    if (!unseen) return unseen.status().with_context("mirror sync");
    if (unseen->empty()) return Status::ok();
    if (summary_.in == 0) {
      return failed_precondition("mirror sync: the sources returned no records, so every one of the " +
                                 std::to_string(unseen->size()) + " records the sink holds would be deleted; " +
                                 "refusing (check the sources, or remove the records on purpose)");
    }
    std::vector<std::vector<std::string>> keys;
    keys.reserve(unseen->size());
    for (const std::string& key : *unseen) {
      std::vector<std::string> parts;
      size_t begin = 0;
      for (size_t end; (end = key.find('\x1f', begin)) != std::string::npos; begin = end + 1) {
        parts.push_back(key.substr(begin, end - begin));
      }
      parts.push_back(key.substr(begin));
      keys.push_back(std::move(parts));
    }
    auto count = delete_from_sink(plan_.sink_sync.key, keys, *unseen);
    if (!count) return count.status().with_context("mirror sync");
    log_->info("mirror sync: deleted {} record(s) that left the sources", *count);
    return Status::ok();
  }

  Status run_sources() {
    for (size_t i = 0; i < plan_.sources.size(); ++i) {
      CONFLUX_RETURN_IF_ERROR(run_source(i));
      // Cancelled: stop here; records a stage still holds were never committed and are read again next run.
      // A --limit only stops reading: what stages hold still flows to the sink below.
      if (cancelled()) return Status::ok();
      // Per-source stages that held records release them now, through the rest of the flow.
      std::vector<Record> released;
      state::CursorKey key{plan_.pipeline, plan_.sources[i].name, ""};
      CONFLUX_RETURN_IF_ERROR(finish_stages(source_stage_refs_[i], released, key));
      if (!released.empty()) CONFLUX_RETURN_IF_ERROR(process(released, key, shared_stage_refs_, std::nullopt));
    }
    return finish_shared();
  }

  // End of input: shared stages release what they hold, then everything held becomes durable at once.
  Status finish_shared() {
    std::vector<Record> released;
    state::CursorKey key{plan_.pipeline, plan_.sources.empty() ? "" : plan_.sources.back().name, ""};
    CONFLUX_RETURN_IF_ERROR(finish_stages(shared_stage_refs_, released, key));
    if (!released.empty()) CONFLUX_RETURN_IF_ERROR(process_from_sink(released, key, std::nullopt));
    if (holding_) CONFLUX_RETURN_IF_ERROR(commit_held());
    return Status::ok();
  }

  bool cancelled() const { return cancelled_; }

  // After a failure, the summary reports committed batches only: records of the batch in flight will be read
  // again by the next run, so counting them here would break in = written + unchanged + dropped + dead_lettered.
  void restore_committed() {
    if (!has_committed_) {
      for (auto& s : summary_.stages) {
        StageSummary fresh;
        fresh.name = s.name;
        fresh.role = s.role;
        fresh.kind = s.kind;
        s = std::move(fresh);
      }
      summary_.in = summary_.written = summary_.unchanged = summary_.dropped = summary_.dead_lettered = 0;
      return;
    }
    summary_.stages = committed_.stages;
    summary_.in = committed_.in;
    summary_.written = committed_.written;
    summary_.unchanged = committed_.unchanged;
    summary_.dropped = committed_.dropped;
    summary_.dead_lettered = committed_.dead_lettered;
  }

 private:
  void mark_committed() {
    committed_.stages = summary_.stages;
    committed_.in = summary_.in;
    committed_.written = summary_.written;
    committed_.unchanged = summary_.unchanged;
    committed_.dropped = summary_.dropped;
    committed_.dead_lettered = summary_.dead_lettered;
    has_committed_ = true;
  }

  StageSummary* add_summary(const std::string& name, const std::string& role, const std::string& kind) {
    summary_.stages.push_back(StageSummary{});
    StageSummary& s = summary_.stages.back();
    s.name = name;
    s.role = role;
    s.kind = kind;
    return &s;
  }

  bool limit_reached() const { return options_.limit && read_ >= *options_.limit; }
  bool stopped() {
    if (options_.cancel && options_.cancel->load()) cancelled_ = true;
    return cancelled_ || limit_reached();
  }

  Status run_source(size_t index) {
    SourceRuntime& source = plan_.sources[index];
    std::vector<std::string> streams = source.streams;
    if (streams.empty()) {
      auto offered = source.source->streams();
      if (!offered) return offered.status().with_context("source '" + source.name + "'");
      streams = *offered;
    }
    for (const std::string& stream : streams) {
      if (stopped()) return Status::ok();
      CONFLUX_RETURN_IF_ERROR(run_stream(index, stream));
    }
    return Status::ok();
  }

  Status run_stream(size_t index, const std::string& stream_name) {
    SourceRuntime& source = plan_.sources[index];
    state::CursorKey key{plan_.pipeline, source.name, stream_name};
    auto cursor = store_.load_cursor(key);
    if (!cursor) return cursor.status();
    // Mirror sync must see every record of every source to know what left them.
    std::string start = plan_.sink_sync.mirror ? std::string() : cursor->value_or("");
    log_->info("reading source '{}' stream '{}' {}", source.name, stream_name,
               start.empty() ? "from the start" : "after cursor " + start);
    auto opened = source.source->open(stream_name, start);
    if (!opened) return opened.status().with_context("source '" + source.name + "' stream '" + stream_name + "'");
    std::unique_ptr<SourceStream> stream = std::move(opened.value());

    BatchQueue queue(3);
    const uint64_t read_before = read_;
    std::atomic<uint64_t> produced{0};
    std::thread producer([&] {
      pthread_setname_np(pthread_self(), "cfx-read");
      while (true) {
        if (options_.cancel && options_.cancel->load()) break;
        size_t want = plan_.batch_size;
        if (options_.limit) {
          uint64_t already = read_before + produced.load();
          if (already >= *options_.limit) break;
          want = static_cast<size_t>(std::min<uint64_t>(want, *options_.limit - already));
        }
        BatchQueue::Item item;
        item.status = stream->read(want, item.batch);
        produced += item.batch.records.size() + item.batch.invalid.size();
        bool last = !item.status.is_ok() || item.batch.end;
        if (!queue.push(std::move(item)) || last) break;
      }
      queue.finish();
    });

    Status result = Status::ok();
    while (auto item = queue.pop()) {
      if (!item->status.is_ok()) {
        result = item->status.with_context("source '" + source.name + "' stream '" + stream_name + "'");
        break;
      }
      Status processed = process_source_batch(index, key, item->batch);
      if (!processed.is_ok()) {
        result = processed;
        break;
      }
      if (options_.progress) {
        options_.progress->on_progress({source.name, stream_name, read_, item->batch.progress_done,
                                        item->batch.progress_total,
                                        std::chrono::duration<double>(Clock::now() - start_).count()});
      }
      if (options_.cancel && options_.cancel->load()) {
        cancelled_ = true;
        break;
      }
    }
    queue.close();
    producer.join();
    stream.reset();
    // The state store is used by one thread at a time: the next stream's cursor is loaded after this one's commits.
    Status drained = drain();
    return result.is_ok() ? drained : result;
  }

  Status process_source_batch(size_t index, const state::CursorKey& key, SourceBatch& batch) {
    StageSummary& s = *source_summaries_[index];
    const uint64_t n = batch.records.size() + batch.invalid.size();
    s.in += n;
    s.out += batch.records.size();
    s.dead_lettered += batch.invalid.size();
    summary_.in += n;
    summary_.dead_lettered += batch.invalid.size();
    read_ += n;
    for (const InvalidInput& invalid : batch.invalid) {
      state::DeadLetter dl;
      dl.source = key.source;
      dl.stream = key.stream;
      dl.stage = plan_.sources[index].name;
      dl.reason = invalid.reason;
      dl.payload = invalid.raw;
      dl.payload_is_record = false;
      dl.position = invalid.position;
      pending_.letters.push_back(std::move(dl));
    }
    std::vector<Record>& records = batch.records;
    CONFLUX_RETURN_IF_ERROR(run_stages(source_stage_refs_[index], records, key));
    return process(records, key, shared_stage_refs_, batch.cursor);
  }

  // Shared stages, sink, commit.
  Status process(std::vector<Record>& records, const state::CursorKey& key, std::vector<StageRef>& stages,
                 const std::optional<std::string>& cursor) {
    CONFLUX_RETURN_IF_ERROR(run_stages(stages, records, key));
    return process_from_sink(records, key, cursor);
  }

  // Sink, then commit. In a plain streaming run the write and the commit of batch N run on their own thread while
  // the stages work on batch N+1 (one batch in flight, so order and "cursor after the sink accepted" both hold);
  // dry runs, replays and runs with a holding stage write in line.
  Status process_from_sink(std::vector<Record>& records, const state::CursorKey& key,
                           const std::optional<std::string>& cursor) {
    if (options_.dry_run || holding_ || replaying_) {
      CONFLUX_RETURN_IF_ERROR(drain());
      SinkTally tally;
      tally.in = records.size();
      if (options_.dry_run) {
        tally.created = records.size();  // nothing is written; records that reached the sink count as would-be writes
      } else {
        CONFLUX_RETURN_IF_ERROR(write_to_sink(records, key, tally, pending_));
      }
      apply_tally(tally, summary_);
      return commit(key, cursor);
    }
    // Keep at most kSinkDepth batches queued or in flight on the sink thread.
    while (in_flight_.size() >= kSinkDepth) CONFLUX_RETURN_IF_ERROR(drain_one());
    InFlight next;
    next.snapshot = summary_;  // what a successful commit of this batch makes durable, minus the sink's tally
    next.done = sink_worker_.submit<SinkDone>(
        [this, batch = std::move(records), key, cursor, output = std::move(pending_)]() mutable {
          return write_and_commit(batch, key, cursor, output);
        });
    in_flight_.push_back(std::move(next));
    records.clear();
    pending_ = SinkOutput();
    return Status::ok();
  }

  // Outcome counts of one sink write.
  struct SinkTally {
    uint64_t in = 0, created = 0, updated = 0, unchanged = 0, rejected = 0;
  };
  struct SinkDone {
    Status status;
    SinkTally tally;
  };

  static void apply_tally(const SinkTally& tally, RunSummary& summary) {
    StageSummary& sink = summary.stages.back();  // setup() adds the sink's summary last
    sink.in += tally.in;
    sink.created += tally.created;
    sink.updated += tally.updated;
    sink.unchanged += tally.unchanged;
    sink.dead_lettered += tally.rejected;
    summary.written += tally.created + tally.updated;
    summary.unchanged += tally.unchanged;
    summary.dead_lettered += tally.rejected;
  }

  // What a batch commits besides its cursor: dead letters (stages' and the sink's), ledger entries, record results.
  struct SinkOutput {
    std::vector<state::DeadLetter> letters;
    std::vector<state::LedgerEntry> ledger;
    std::vector<std::string> seen;  // ledger keys met unchanged
    std::vector<state::RecordResult> results;
  };

  // The record's sync key: its key fields' text joined by U+001F; empty when every part is blank.
  std::string sync_key(const Record& record) const {
    std::string key;
    bool any = false;
    for (size_t i = 0; i < plan_.sink_sync.key.size(); ++i) {
      if (i > 0) key += '\x1f';
      const Value* value = record.find(plan_.sink_sync.key[i]);
      if (value == nullptr || value->is_blank()) continue;
      key += value->to_text();
      any = true;
    }
    return any ? key : std::string();
  }

  // A hash of everything the sink would receive: field names, types and values, in order.
  static std::string content_hash(const Record& record) {
    thread_local std::string buffer;
    buffer.clear();
    for (const Field& field : record.fields()) {
      buffer += field.name;
      buffer += '\0';
      buffer += static_cast<char>('0' + static_cast<int>(field.value.type));
      buffer += field.value.to_text();
      buffer += '\0';
    }
    return to_hex(murmur3_128(buffer));
  }

  static const char* outcome_name(WriteOutcome outcome) {
    switch (outcome) {
      case WriteOutcome::kCreated: return "created";
      case WriteOutcome::kUpdated: return "updated";
      case WriteOutcome::kUnchanged: return "unchanged";
      case WriteOutcome::kRejected: return "rejected";
    }
    return "rejected";
  }

  // Writes and flushes `records` (consumed); rejected ones become dead letters in `out`. With a sync key, records
  // whose content the sink already accepted (ledger) are not sent and count as unchanged; every accepted record's
  // hash goes to the ledger and every outcome to the results. Uses the state store only for ledger lookups, on the
  // thread that also commits, and touches no other runner state but the sink (one thread at a time).
  Status write_to_sink(std::vector<Record>& records, const state::CursorKey& key, SinkTally& tally,
                       SinkOutput& out) const {
    if (records.empty()) return Status::ok();
    const engine::SinkSync& sync = plan_.sink_sync;
    const bool keyed = !sync.key.empty();
    std::vector<std::string> keys(keyed ? records.size() : 0);
    std::vector<std::string> hashes(keyed ? records.size() : 0);
    std::vector<size_t> sending;  // indexes into records, in order
    sending.reserve(records.size());
    if (keyed) {
      std::vector<std::string> lookup;
      for (size_t i = 0; i < records.size(); ++i) {
        keys[i] = sync_key(records[i]);
        hashes[i] = content_hash(records[i]);
        if (!keys[i].empty()) lookup.push_back(keys[i]);
      }
      std::map<std::string, std::string> known;
      if (sync.skip_unchanged && !lookup.empty()) {
        auto found = store_.ledger_lookup(plan_.pipeline, plan_.sink_name, lookup);
        if (!found) return found.status().with_context("sink ledger");
        known = std::move(found.value());
      }
      for (size_t i = 0; i < records.size(); ++i) {
        auto it = keys[i].empty() ? known.end() : known.find(keys[i]);
        if (it != known.end() && it->second == hashes[i]) {
          tally.unchanged++;
          out.seen.push_back(keys[i]);
          if (sync.record_results) {
            out.results.push_back({0, keys[i], records[i].position(), "unchanged", "unchanged since the last write"});
          }
          continue;
        }
        sending.push_back(i);
      }
    } else {
      for (size_t i = 0; i < records.size(); ++i) sending.push_back(i);
    }
    if (sending.empty()) return Status::ok();

    std::vector<Record> batch;
    batch.reserve(sending.size());
    for (size_t i : sending) batch.push_back(std::move(records[i]));
    std::vector<WriteResult> results;
    const std::string& stream = plan_.sink_stream.empty() ? key.stream : plan_.sink_stream;
    Status written = plan_.sink->write(stream, batch, results);
    if (!written.is_ok()) return written.with_context("sink '" + plan_.sink_name + "'");
    for (size_t j = 0; j < batch.size(); ++j) {
      const WriteResult& r = j < results.size() ? results[j] : WriteResult{WriteOutcome::kRejected, "no outcome"};
      switch (r.outcome) {
        case WriteOutcome::kCreated: tally.created++; break;
        case WriteOutcome::kUpdated: tally.updated++; break;
        case WriteOutcome::kUnchanged: tally.unchanged++; break;
        case WriteOutcome::kRejected:
          tally.rejected++;
          out.letters.push_back(dead_letter(batch[j], key, plan_.sink_name, r.message));
          break;
      }
      if (!keyed) continue;
      const size_t i = sending[j];
      if (r.outcome != WriteOutcome::kRejected && !keys[i].empty()) out.ledger.push_back({keys[i], hashes[i]});
      if (sync.record_results) {
        out.results.push_back({0, keys[i], batch[j].position(), outcome_name(r.outcome),
                               r.outcome == WriteOutcome::kRejected ? r.message : std::string()});
      }
    }
    Status flushed = plan_.sink->flush();
    if (!flushed.is_ok()) return flushed.with_context("sink '" + plan_.sink_name + "' flush");
    return Status::ok();
  }

  // The sink thread's half of process_from_sink. The records are destroyed here too, off the stages' thread.
  SinkDone write_and_commit(std::vector<Record>& records, const state::CursorKey& key,
                            const std::optional<std::string>& cursor, SinkOutput& output) {
    SinkDone done;
    if (sink_failed_.load()) {  // an earlier batch failed: later ones must not write or move the cursor past it
      done.status = ::conflux::cancelled("not written: an earlier batch failed");
      return done;
    }
    done.tally.in = records.size();
    done.status = write_to_sink(records, key, done.tally, output);
    if (done.status.is_ok()) {
      done.status = store_.commit_batch(summary_.run_id, batch_commit(key, cursor, std::move(output)));
    }
    if (!done.status.is_ok()) sink_failed_.store(true);
    std::vector<Record>().swap(records);
    return done;
  }

  // Waits for every batch in flight and accounts for them, oldest first; stops at the first failure.
  Status drain() {
    while (!in_flight_.empty()) CONFLUX_RETURN_IF_ERROR(drain_one());
    return Status::ok();
  }

  // Waits for the oldest batch in flight and accounts for it: on success it is committed, and the summary as of its
  // hand-off plus its sink tally becomes what a failed run reports.
  Status drain_one() {
    InFlight oldest = std::move(in_flight_.front());
    in_flight_.pop_front();
    SinkDone done = oldest.done.get();
    if (!done.status.is_ok()) {
      in_flight_.clear();  // later batches were refused by the sink thread; nothing of them is committed
      return done.status;
    }
    apply_tally(done.tally, summary_);
    // Later snapshots were taken before this tally existed: they need it too.
    apply_tally(done.tally, oldest.snapshot);
    for (InFlight& later : in_flight_) apply_tally(done.tally, later.snapshot);
    summary_.batches_committed++;
    committed_ = std::move(oldest.snapshot);
    has_committed_ = true;
    return Status::ok();
  }

  state::BatchCommit batch_commit(const state::CursorKey& key, const std::optional<std::string>& cursor,
                                  SinkOutput output) const {
    state::BatchCommit commit;
    commit.key = key;
    commit.cursor = cursor;
    commit.dead_letters = std::move(output.letters);
    commit.sink = plan_.sink_name;
    commit.ledger = std::move(output.ledger);
    commit.seen = std::move(output.seen);
    commit.results = std::move(output.results);
    for (auto& dl : commit.dead_letters) {
      dl.pipeline = plan_.pipeline;
      dl.run_id = summary_.run_id;
    }
    return commit;
  }

  Status commit(const state::CursorKey& key, const std::optional<std::string>& cursor) {
    if (options_.dry_run) {
      pending_ = SinkOutput();
      mark_committed();
      return Status::ok();
    }
    if (holding_) {
      // Nothing is durable until the held records are written: keep the newest cursor per stream for the end.
      if (cursor) held_cursors_[{key.source, key.stream}] = *cursor;
      return Status::ok();
    }
    state::BatchCommit commit = batch_commit(key, cursor, std::move(pending_));
    pending_ = SinkOutput();
    Status s = store_.commit_batch(summary_.run_id, commit);
    if (!s.is_ok()) return s;
    summary_.batches_committed++;
    mark_committed();
    return Status::ok();
  }

  Status commit_held() {
    CONFLUX_RETURN_IF_ERROR(drain());
    if (options_.dry_run) return Status::ok();
    bool first = true;
    for (auto& [where, cursor] : held_cursors_) {
      SinkOutput output;
      if (first) output = std::move(pending_);
      state::BatchCommit commit =
          batch_commit({plan_.pipeline, where.first, where.second}, cursor, std::move(output));
      CONFLUX_RETURN_IF_ERROR(store_.commit_batch(summary_.run_id, commit));
      summary_.batches_committed++;
      first = false;
    }
    if (first && (!pending_.letters.empty() || !pending_.ledger.empty() || !pending_.seen.empty() ||
                  !pending_.results.empty())) {
      state::BatchCommit commit = batch_commit({plan_.pipeline, plan_.sources.empty() ? "" : plan_.sources.front().name, ""},
                                               std::nullopt, std::move(pending_));
      CONFLUX_RETURN_IF_ERROR(store_.commit_batch(summary_.run_id, commit));
    }
    pending_ = SinkOutput();
    mark_committed();
    return Status::ok();
  }

  state::DeadLetter dead_letter(const Record& record, const state::CursorKey& key, const std::string& stage,
                                const std::string& reason) const {
    state::DeadLetter dl;
    dl.source = key.source;
    dl.stream = key.stream;
    dl.stage = stage;
    dl.reason = reason;
    dl.payload = record_to_json_text(record);
    dl.payload_is_record = true;
    dl.position = record.position();
    return dl;
  }

  // Applies one stage's rejections to the accounting, the dead letters, or the run (on_invalid: fail).
  Status settle(StageRef& ref, std::vector<Rejected>& rejected, const state::CursorKey& key) {
    StageSummary& s = *ref.summary;
    for (Rejected& r : rejected) {
      if (!r.invalid) {
        s.dropped++;
        summary_.dropped++;
        // Rules are meant to be few and stable; a stage that puts record values into its rule text would grow the
        // summary without bound, so past kMaxDropRules distinct rules the rest are counted together.
        auto rule = s.drop_rules.find(r.reason);
        if (rule != s.drop_rules.end()) {
          rule->second++;
        } else if (s.drop_rules.size() < kMaxDropRules) {
          s.drop_rules.emplace(r.reason, 1);
        } else {
          s.drop_rules["(other rules)"]++;
        }
        continue;
      }
      switch (ref.stage->on_invalid) {
        case config::OnInvalid::kDeadLetter:
          s.dead_lettered++;
          summary_.dead_lettered++;
          pending_.letters.push_back(dead_letter(r.record, key, ref.stage->name, r.reason));
          break;
        case config::OnInvalid::kDrop:
          s.dropped++;
          summary_.dropped++;
          s.drop_rules["on_invalid: drop"]++;
          break;
        case config::OnInvalid::kFail:
          return failed_precondition("stage '" + ref.stage->name + "' found an invalid record (on_invalid: fail) at " +
                                     "source '" + key.source + "' position " + std::to_string(r.record.position()) +
                                     ": " + r.reason);
      }
    }
    rejected.clear();
    return Status::ok();
  }

  // Runs `stages` over `records`: consecutive parallel-safe stages run together on slices of the batch.
  Status run_stages(std::vector<StageRef>& stages, std::vector<Record>& records, const state::CursorKey& key) {
    size_t i = 0;
    while (i < stages.size()) {
      size_t j = i;
      while (j < stages.size() && stages[j].stage->transform->parallel_safe()) ++j;
      if (j > i) {
        CONFLUX_RETURN_IF_ERROR(run_parallel_group(stages, i, j, records, key));
        i = j;
        continue;
      }
      StageRef& ref = stages[i];
      std::vector<Rejected> rejected;
      const uint64_t in = records.size();
      Status s = ref.stage->transform->apply(records, rejected);
      if (!s.is_ok()) return s.with_context("stage '" + ref.stage->name + "'");
      ref.summary->in += in;
      ref.summary->out += records.size();
      CONFLUX_RETURN_IF_ERROR(settle(ref, rejected, key));
      ++i;
    }
    return Status::ok();
  }

  Status run_parallel_group(std::vector<StageRef>& stages, size_t first, size_t last, std::vector<Record>& records,
                            const state::CursorKey& key) {
    const size_t stage_count = last - first;
    size_t slices = std::min<size_t>(threads_, std::max<size_t>(1, records.size() / 256));
    struct Slice {
      std::vector<Record> records;
      std::vector<std::vector<Rejected>> rejected;
      std::vector<uint64_t> in;
      Status status;
    };
    std::vector<Slice> work(slices);
    const size_t per = (records.size() + slices - 1) / std::max<size_t>(1, slices);
    for (size_t k = 0; k < slices; ++k) {
      size_t begin = std::min(records.size(), k * per), end = std::min(records.size(), begin + per);
      work[k].records.assign(std::make_move_iterator(records.begin() + begin), std::make_move_iterator(records.begin() + end));
      work[k].rejected.resize(stage_count);
      work[k].in.resize(stage_count);
    }
    auto run_slice = [&](Slice& slice) {
      for (size_t s = 0; s < stage_count; ++s) {
        slice.in[s] = slice.records.size();
        slice.status = stages[first + s].stage->transform->apply(slice.records, slice.rejected[s]);
        if (!slice.status.is_ok()) {
          slice.status = slice.status.with_context("stage '" + stages[first + s].stage->name + "'");
          return;
        }
      }
    };
    // Slice 0 runs here, the others on long-lived workers (their thread-local caches, e.g. the phone memo, stay
    // warm across batches, and no thread is started per batch).
    while (stage_workers_.size() + 1 < slices) stage_workers_.push_back(std::make_unique<OrderedWorker>("cfx-stage"));
    std::vector<std::future<void>> futures;
    for (size_t k = 1; k < slices; ++k) {
      Slice* slice = &work[k];
      futures.push_back(stage_workers_[k - 1]->submit<void>([&run_slice, slice] { run_slice(*slice); }));
    }
    if (slices > 0) run_slice(work[0]);
    for (auto& f : futures) f.get();

    records.clear();
    for (size_t s = 0; s < stage_count; ++s) {
      StageRef& ref = stages[first + s];
      for (Slice& slice : work) {
        if (!slice.status.is_ok()) return slice.status;
        ref.summary->in += slice.in[s];
        CONFLUX_RETURN_IF_ERROR(settle(ref, slice.rejected[s], key));
      }
    }
    for (Slice& slice : work) {
      for (auto& r : slice.records) records.push_back(std::move(r));
    }
    // out of each stage = in of the next; the last stage's out = what survived.
    for (size_t s = 0; s < stage_count; ++s) {
      StageRef& ref = stages[first + s];
      uint64_t out = 0;
      for (Slice& slice : work) out += (s + 1 < stage_count) ? slice.in[s + 1] : slice.records.size();
      ref.summary->out += out;
    }
    return Status::ok();
  }

  // finish() of every stage in order; what one releases flows through the stages after it.
  Status finish_stages(std::vector<StageRef>& stages, std::vector<Record>& released, const state::CursorKey& key) {
    for (size_t i = 0; i < stages.size(); ++i) {
      StageRef& ref = stages[i];
      std::vector<Record> out;
      std::vector<Rejected> rejected;
      // Records released earlier pass through this stage first.
      if (!released.empty()) {
        const uint64_t in = released.size();
        Status s = ref.stage->transform->apply(released, rejected);
        if (!s.is_ok()) return s.with_context("stage '" + ref.stage->name + "'");
        ref.summary->in += in;
        ref.summary->out += released.size();
        CONFLUX_RETURN_IF_ERROR(settle(ref, rejected, key));
      }
      Status s = ref.stage->transform->finish(out, rejected);
      if (!s.is_ok()) return s.with_context("stage '" + ref.stage->name + "'");
      ref.summary->out += out.size();
      CONFLUX_RETURN_IF_ERROR(settle(ref, rejected, key));
      for (auto& r : out) released.push_back(std::move(r));
    }
    return Status::ok();
  }

  Plan& plan_;
  state::StateStore& store_;
  const RunOptions& options_;
  RunSummary& summary_;
  std::shared_ptr<spdlog::logger> log_;
  size_t threads_;
  bool holding_ = false;
  bool cancelled_ = false;
  uint64_t read_ = 0;
  Clock::time_point start_;
  std::vector<StageSummary*> source_summaries_;
  std::vector<std::vector<StageRef>> source_stage_refs_;
  std::vector<StageRef> shared_stage_refs_;
  StageSummary* sink_summary_ = nullptr;
  SinkOutput pending_;  // what the batch being processed will commit besides its cursor
  RunSummary committed_;
  bool has_committed_ = false;
  bool replaying_ = false;
  // Batches handed to the sink thread and not yet accounted for, oldest first. Two let the stages run ahead while
  // the sink waits on fsync; more would only hold more records in memory.
  static constexpr size_t kSinkDepth = 2;
  struct InFlight {
    std::future<SinkDone> done;
    RunSummary snapshot;
  };
  std::deque<InFlight> in_flight_;
  std::atomic<bool> sink_failed_{false};
  std::vector<std::unique_ptr<OrderedWorker>> stage_workers_;  // slices 1.. of parallel stage groups
  OrderedWorker sink_worker_{"cfx-sink"};  // last member: destroyed (joined) first, while the rest still exists
  std::map<std::pair<std::string, std::string>, std::string> held_cursors_;
};

}  // namespace

namespace {
// Sets the final status. A failed or cancelled run reports its committed batches only, so that it still balances.
void finish_summary(Runner& runner, const Status& status, RunSummary& summary) {
  if (!status.is_ok() || runner.cancelled()) runner.restore_committed();
  if (status.code() == StatusCode::kResourceExhausted) {
    // A used-up platform quota ends the run like a cancel: what was committed stays, the rest is read next time.
    summary.status = "cancelled";
    summary.stop_reason = "quota";
    summary.error = logging::redact(status.message());
  } else if (!status.is_ok()) {
    summary.status = "failed";
    summary.error = logging::redact(status.message());
  } else if (runner.cancelled()) {
    summary.status = "cancelled";
    summary.stop_reason = "interrupted";
  } else {
    summary.status = "succeeded";
  }
}
}  // namespace

RunSummary run_pipeline(Plan& plan, state::StateStore& store, const RunOptions& options) {
  RunSummary summary;
  summary.pipeline = plan.pipeline;
  summary.dry_run = options.dry_run;
  auto started = Clock::now();
  if (!options.dry_run) {
    auto run_id = store.begin_run(plan.pipeline, false);
    if (!run_id) {
      summary.status = "failed";
      summary.error = run_id.status().to_string();
      return summary;
    }
    summary.run_id = *run_id;
  }
  Runner runner(plan, store, options, summary);
  Status status;
  try {
    status = runner.run();
  } catch (const std::exception& e) {
    status = internal_error(std::string("unexpected exception in the engine: ") + e.what());
  }
  summary.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  finish_summary(runner, status, summary);
  if (options.progress) options.progress->on_finish();
  if (!options.dry_run) {
    Status finished = store.finish_run(summary.run_id, summary.status, summary.to_json().dump());
    if (!finished.is_ok()) {
      logging::get("engine")->error("could not record the end of run {}: {}", summary.run_id, finished.message());
    }
  }
  return summary;
}

RunSummary replay_dead_letters(Plan& plan, state::StateStore& store, const std::vector<state::DeadLetter>& letters,
                               const RunOptions& options) {
  RunSummary summary;
  summary.pipeline = plan.pipeline;
  summary.dry_run = options.dry_run;
  auto started = Clock::now();
  if (!options.dry_run) {
    auto run_id = store.begin_run(plan.pipeline, false);
    if (!run_id) {
      summary.status = "failed";
      summary.error = run_id.status().to_string();
      return summary;
    }
    summary.run_id = *run_id;
  }
  Runner runner(plan, store, options, summary);
  Status status = runner.replay(letters);
  summary.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  finish_summary(runner, status, summary);
  if (!options.dry_run) (void)store.finish_run(summary.run_id, summary.status, summary.to_json().dump());
  return summary;
}

nlohmann::json RunSummary::to_json() const {
  nlohmann::json stages_json = nlohmann::json::array();
  for (const auto& s : stages) {
    stages_json.push_back({{"name", s.name}, {"role", s.role}, {"kind", s.kind}, {"in", s.in}, {"out", s.out},
                           {"created", s.created}, {"updated", s.updated}, {"unchanged", s.unchanged},
                           {"dropped", s.dropped}, {"dead_lettered", s.dead_lettered}, {"deleted", s.deleted},
                           {"drop_rules", s.drop_rules}});
  }
  return {{"pipeline", pipeline}, {"run_id", run_id}, {"status", status}, {"error", error},
          {"stop_reason", stop_reason}, {"dry_run", dry_run},
          {"seconds", seconds}, {"in", in}, {"written", written}, {"unchanged", unchanged}, {"dropped", dropped},
          {"dead_lettered", dead_lettered}, {"deleted", deleted}, {"balanced", balanced()}, {"stages", stages_json}};
}

std::string RunSummary::to_text() const {
  std::ostringstream out;
  char line[256];
  out << "run " << run_id << " of pipeline '" << pipeline << "': " << status << (dry_run ? " (dry run: nothing written)" : "");
  std::snprintf(line, sizeof line, " in %.2f s", seconds);
  out << line << "\n";
  std::snprintf(line, sizeof line, "  %-22s %-7s %10s %10s %10s %10s %10s %10s\n", "stage", "role", "in", "out",
                "written", "unchanged", "dropped", "dead");
  out << line;
  for (const auto& s : stages) {
    std::string written = s.role == "sink" ? std::to_string(s.created + s.updated) : "-";
    std::string unchanged = s.role == "sink" ? std::to_string(s.unchanged) : "-";
    std::string passed = s.role == "sink" ? "-" : std::to_string(s.out);
    std::snprintf(line, sizeof line, "  %-22s %-7s %10llu %10s %10s %10s %10llu %10llu\n", s.name.c_str(), s.role.c_str(),
                  static_cast<unsigned long long>(s.in), passed.c_str(), written.c_str(), unchanged.c_str(),
                  static_cast<unsigned long long>(s.dropped), static_cast<unsigned long long>(s.dead_lettered));
    out << line;
    for (const auto& [rule, n] : s.drop_rules) {
      out << "      dropped " << n << " by rule: " << rule << "\n";
    }
  }
  std::snprintf(line, sizeof line,
                "  total: in %llu = written %llu + unchanged %llu + dropped %llu + dead-lettered %llu  [%s]\n",
                static_cast<unsigned long long>(in), static_cast<unsigned long long>(written),
                static_cast<unsigned long long>(unchanged), static_cast<unsigned long long>(dropped),
                static_cast<unsigned long long>(dead_lettered), balanced() ? "balanced" : "NOT BALANCED");
  out << line;
  if (deleted > 0) {
    out << "  deleted " << deleted << " record(s) from the target (mirror sync: they left the sources; identity: "
        << "their profiles merged into others)\n";
  }
  if (stop_reason == "quota") {
    out << "  stopped: " << error << "\n  the committed batches are kept; the next run resumes from them once the quota resets\n";
  } else if (!error.empty()) {
    out << "  error: " << error << "\n";
  }
  return out.str();
}

}  // namespace conflux::engine
