// The conflux command line. Each commands_*.cpp registers its subcommands on the CLI11 app.
//
// Exit codes (docs/cli.md):
//   0  success (a run may still have dead-lettered records; the summary says how many)
//   1  the run or command failed (source, sink, plugin or state error; a timeout)
//   2  usage or configuration error: nothing ran
//   130 interrupted (Ctrl-C) after committing what the sink had accepted
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "conflux/config/pipeline.hpp"
#include "conflux/state/state_store.hpp"

namespace conflux::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitQuota = 75;  // EX_TEMPFAIL: a platform quota stopped the run; run again once it resets
constexpr int kExitInterrupted = 130;

// Set by SIGINT/SIGTERM; checked between batches.
std::atomic<bool>& interrupt_flag();

// The result of a subcommand: set by its callback, returned by main.
int& exit_code();

// Loads a pipeline, printing its diagnostics to stderr; nullopt (and exit code 2) on problems.
std::optional<config::PipelineConfig> load_pipeline_or_report(const std::string& path);
// Opens the pipeline's state store, printing the error (and setting exit code 1) on failure.
std::unique_ptr<state::StateStore> open_state_or_report(const std::string& path);

void add_run_commands(CLI::App& app);      // run, validate, check, discover
void add_state_commands(CLI::App& app);    // state, dlq
void add_catalog_commands(CLI::App& app);  // plugins, crm
void add_identity_commands(CLI::App& app);  // identity eval|bench
void add_profiles_commands(CLI::App& app);  // profiles show|explain|unmerge

}  // namespace conflux::cli
