// StateStore: everything a pipeline remembers between runs - cursors, run history and dead letters.
//
// The engine talks only to this interface; SQLite (sqlite_state_store.hpp) is the embedded default and a PostgreSQL
// backend can implement the same contract. Contract for every implementation:
//   - commit_batch is atomic: the cursor and that batch's dead letters are stored together or not at all.
//   - A locked store yields kUnavailable, a corrupt one kDataLoss, a full disk kUnavailable with "disk full" in the
//     message; every message names the store's location.
//   - Instances are used from one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conflux/common/status.hpp"

namespace conflux::state {

struct CursorKey {
  std::string pipeline;
  std::string source;
  std::string stream;
};

struct CursorEntry {
  CursorKey key;
  std::string cursor;
  std::string updated_at;  // ISO-8601 UTC
};

struct DeadLetter {
  int64_t id = 0;  // assigned by the store
  std::string pipeline;
  int64_t run_id = 0;
  std::string source;
  std::string stream;
  std::string stage;        // the step that rejected it: the source's, a stage's or the sink's name
  std::string reason;       // why, in words a user can act on
  std::string payload;      // the record as JSON, or the raw input text when it never became a record
  bool payload_is_record = true;
  uint64_t position = 0;    // position in the source (line number for files); 0 when unknown
  std::string created_at;   // ISO-8601 UTC, set by the store
  bool replayed = false;
};

struct DeadLetterFilter {
  std::string pipeline;               // empty: all pipelines
  std::optional<std::string> stage;
  bool include_replayed = false;
  size_t limit = 100;
  size_t offset = 0;
};

struct RunRecord {
  int64_t id = 0;
  std::string pipeline;
  std::string started_at;
  std::string finished_at;  // empty while running (or when the run crashed)
  std::string status;       // running, succeeded, failed, cancelled
  std::string summary_json; // the run summary (per-stage counters)
  bool dry_run = false;
};

// The sink ledger: what a pipeline's sink last accepted for one record of the target, by the record's key (the
// sink's sync key, e.g. the e-mail), as a hash of the record's content. A record whose hash is unchanged is not sent
// again.
struct LedgerEntry {
  std::string key;
  std::string hash;
};

// One record's outcome at the sink, kept in the run history.
struct RecordResult {
  int64_t run_id = 0;         // set by the store when read back
  std::string key;            // the sync key's value; empty when the record had none
  uint64_t position = 0;      // position in its source
  std::string outcome;        // created, updated, unchanged, rejected
  std::string message;        // why it was rejected, or empty
};

// Everything that becomes durable when a batch is accepted by the sink.
struct BatchCommit {
  CursorKey key;
  std::optional<std::string> cursor;  // nullopt: the cursor does not move (e.g. a stage holds records back)
  std::vector<DeadLetter> dead_letters;
  std::string sink;                   // the sink's name: scopes `ledger`
  std::vector<LedgerEntry> ledger;    // upserted, and marked seen by this run
  std::vector<std::string> seen;      // ledger keys this run met unchanged: marked seen by this run
  std::vector<RecordResult> results;  // appended to the run's history
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // Where the store lives, for messages.
  virtual std::string location() const = 0;

  virtual Result<std::optional<std::string>> load_cursor(const CursorKey& key) = 0;
  virtual Result<std::vector<CursorEntry>> list_cursors(const std::string& pipeline) = 0;
  // Removes the cursors of `pipeline` (only of `source`/`stream` when given); returns how many were removed.
  virtual Result<size_t> reset_cursors(const std::string& pipeline, const std::optional<std::string>& source,
                                       const std::optional<std::string>& stream) = 0;

  virtual Result<int64_t> begin_run(const std::string& pipeline, bool dry_run) = 0;
  virtual Status commit_batch(int64_t run_id, const BatchCommit& commit) = 0;
  virtual Status finish_run(int64_t run_id, const std::string& status, const std::string& summary_json) = 0;
  virtual Result<std::vector<RunRecord>> list_runs(const std::string& pipeline, size_t limit) = 0;

  virtual Result<std::vector<DeadLetter>> list_dead_letters(const DeadLetterFilter& filter) = 0;
  virtual Result<std::optional<DeadLetter>> get_dead_letter(int64_t id) = 0;
  virtual Result<size_t> count_dead_letters(const std::string& pipeline, bool include_replayed) = 0;
  virtual Status mark_replayed(const std::vector<int64_t>& ids) = 0;

  // The ledger hashes stored for `keys` of `pipeline`'s sink `sink`; keys never accepted are absent.
  virtual Result<std::map<std::string, std::string>> ledger_lookup(const std::string& pipeline, const std::string& sink,
                                                                   const std::vector<std::string>& keys) = 0;
  // Mirror sync: the ledger keys of the sink that run `run_id` did not see, and removing keys from the ledger.
  virtual Result<std::vector<std::string>> ledger_unseen(const std::string& pipeline, const std::string& sink,
                                                         int64_t run_id) = 0;
  virtual Status ledger_remove(const std::string& pipeline, const std::string& sink,
                               const std::vector<std::string>& keys) = 0;
  // Per-record results of a run, in the order they were committed; `outcome` filters when given.
  virtual Result<std::vector<RecordResult>> list_results(int64_t run_id, const std::optional<std::string>& outcome,
                                                         size_t limit, size_t offset) = 0;
};

}  // namespace conflux::state
