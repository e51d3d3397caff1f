// The engine: runs a built plan batch by batch with bounded memory and proves every record's fate.
//
// Per source stream: load the committed cursor, read batches on a producer thread into a bounded queue (so memory
// is at most a few batches whatever the input size), pass each batch through the source's stages and the shared
// stages (parallel-safe stages split a batch across worker threads, order kept), write it to the sink, flush, then
// commit the cursor together with the batch's dead letters. A crash at any point re-reads from the last commit; sinks
// upsert, so a re-read creates no duplicates.
//
// Accounting: every record read ends written, unchanged, dropped (by a named rule) or dead-lettered (with its
// reason); RunSummary::balanced() checks in = written + unchanged + dropped + dead_lettered.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conflux/config/pipeline.hpp"
#include "conflux/engine/stage.hpp"
#include "conflux/state/state_store.hpp"

namespace conflux::engine {

struct StageRuntime {
  std::string name;
  std::string kind;  // built-in type or "plugin:<name>"
  config::OnInvalid on_invalid = config::OnInvalid::kDeadLetter;
  std::unique_ptr<Transform> transform;
};

struct SourceRuntime {
  std::string name;
  std::string kind;  // plugin name
  std::unique_ptr<Source> source;
  std::vector<std::string> streams;  // empty: ask the source
  std::vector<StageRuntime> stages;
};

// The sink's sync settings (pipeline file: sink.sync).
struct SinkSync {
  std::vector<std::string> key;  // fields identifying a record in the target; empty: no ledger, no results
  bool skip_unchanged = true;    // the sink ledger: records whose content hash is unchanged are not sent again
  bool record_results = true;    // each record's outcome goes into the run history
  bool mirror = false;           // read everything each run; delete from the target what the sources no longer have
};

struct Plan {
  std::string pipeline;
  std::vector<SourceRuntime> sources;
  std::vector<StageRuntime> stages;
  std::string sink_name;
  std::string sink_kind;
  std::string sink_stream;  // fixed stream for the sink, or empty: the source stream
  std::unique_ptr<Sink> sink;
  SinkSync sink_sync;
  size_t batch_size = 1000;
  int threads = 0;  // 0: one per core
};

struct StageSummary {
  std::string name;
  std::string role;  // "source", "stage" or "sink"
  std::string kind;
  uint64_t in = 0;
  uint64_t out = 0;  // passed on to the next stage
  uint64_t created = 0;
  uint64_t updated = 0;
  uint64_t unchanged = 0;
  uint64_t dropped = 0;
  uint64_t dead_lettered = 0;
  uint64_t deleted = 0;  // sink only: records deleted from the target by mirror sync (not part of the balance)
  std::map<std::string, uint64_t> drop_rules;  // rule -> count
};

struct RunSummary {
  std::string pipeline;
  int64_t run_id = 0;
  std::string status = "running";  // succeeded, failed, cancelled
  std::string error;               // why it failed, or why it stopped early
  // Why a cancelled run stopped early: "interrupted" (Ctrl-C, SIGTERM) or "quota" (a platform's daily quota is used
  // up: the committed batches stay, and the next run resumes from them once the quota resets).
  std::string stop_reason;
  bool dry_run = false;
  double seconds = 0;
  uint64_t in = 0;
  uint64_t written = 0;
  uint64_t unchanged = 0;
  uint64_t dropped = 0;
  uint64_t dead_lettered = 0;
  uint64_t deleted = 0;  // records deleted from the target by mirror sync (not part of the balance)
  uint64_t batches_committed = 0;
  std::vector<StageSummary> stages;

  bool balanced() const { return in == written + unchanged + dropped + dead_lettered; }
  nlohmann::json to_json() const;
  std::string to_text() const;
};

struct ProgressEvent {
  std::string source;
  std::string stream;
  uint64_t records = 0;  // read so far in this run, all streams
  uint64_t done = 0;     // the source's own progress units
  uint64_t total = 0;    // 0: unknown
  double seconds = 0;
};

class ProgressListener {
 public:
  virtual ~ProgressListener() = default;
  virtual void on_progress(const ProgressEvent& event) = 0;
  virtual void on_finish() {}
};

struct RunOptions {
  bool dry_run = false;                       // write nothing, commit nothing
  std::optional<uint64_t> limit;              // stop after this many source records
  const std::atomic<bool>* cancel = nullptr;  // set by Ctrl-C: stop after the current batch is committed
  ProgressListener* progress = nullptr;
};

// Runs `plan`. Never throws; failures end up in RunSummary::status/error. The run is recorded in `store` (except
// in dry-run mode, where the store is only read).
RunSummary run_pipeline(Plan& plan, state::StateStore& store, const RunOptions& options);

// Sends dead-lettered records back in at the stage that rejected them (after the stage's fix, say) and marks the
// letters replayed; a record that fails again becomes a new dead letter. Raw-input letters (never a record) are
// skipped: fix the input and let the source read it again (conflux state reset).
RunSummary replay_dead_letters(Plan& plan, state::StateStore& store, const std::vector<state::DeadLetter>& letters,
                               const RunOptions& options);

}  // namespace conflux::engine
