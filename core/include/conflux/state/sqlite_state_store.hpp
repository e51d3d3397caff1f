// The embedded default StateStore: one SQLite file (WAL, synchronous=FULL) per deployment.
//
// Schema and error messages: docs/state.md. Beyond the StateStore contract this implementation promises:
//   - list_cursors / list_runs / list_dead_letters / count_dead_letters take an empty pipeline to mean "all";
//     a limit of 0 means "no limit"; runs are listed newest first, dead letters and cursors oldest/alphabetical first.
//   - commit_batch stores each dead letter under `run_id` (its own run_id field is ignored), and fills an empty
//     pipeline/source/stream from the commit's key; run_id 0 stores no run; any other run_id must come from begin_run.
//   - finish_run accepts "succeeded", "failed" or "cancelled"; an unknown run id is kNotFound.
//   - mark_replayed is all or nothing: an unknown id is kNotFound and marks none.
// Several processes may open the same file: writers wait up to busy_timeout_ms, then get kUnavailable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "conflux/common/status.hpp"
#include "conflux/state/sqlite.hpp"
#include "conflux/state/state_store.hpp"

namespace conflux::state {

// Opens the state database at `path`, creating it and its parent directories when missing (unless
// options.create_if_missing is false: then kNotFound), and brings its schema up to date.
// Errors: kFailedPrecondition (cannot create/open/write, or not a Conflux state database), kUnavailable (locked),
// kDataLoss (corrupt). The returned store owns its connection; use it from one thread at a time.
Result<std::unique_ptr<StateStore>> open_sqlite_state_store(const std::string& path, const SqliteOptions& options = {});

// The state database's schema, for other stores that keep tables in the same file (the identity graph opens it with
// sqlite::open_with_schema(path, "state database", options, state_application_id(), state_schema_migrations())).
const std::vector<sqlite::Migration>& state_schema_migrations();
int32_t state_application_id();

}  // namespace conflux::state
