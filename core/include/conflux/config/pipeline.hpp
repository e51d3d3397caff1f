// The pipeline file: its model and its loader.
//
// load_pipeline reads YAML, resolves ${env:NAME} / ${file:PATH} references, checks the document against the
// embedded schemas/pipeline.schema.json and the rules a schema cannot state (unique names, known keys with "did
// you mean"), and resolves relative paths. Checks that need plugins or built-in stage factories live in
// conflux/pipeline/builder.hpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conflux/config/diagnostics.hpp"
#include "conflux/config/yaml_document.hpp"

namespace conflux::config {

enum class OnInvalid { kDeadLetter, kDrop, kFail };
const char* on_invalid_name(OnInvalid value);

struct StageConfig {
  std::string name;
  std::string type;    // built-in stage type, or empty for a plugin stage
  std::string plugin;  // transform plugin name, or empty for a built-in stage
  // Built-in: the stage's own keys (everything but name/type/on_invalid). Plugin: its `config` object.
  nlohmann::json config = nlohmann::json::object();
  OnInvalid on_invalid = OnInvalid::kDeadLetter;
  std::string pointer;  // JSON pointer of the stage in the file, for diagnostics
};

struct SourceConfig {
  std::string name;
  std::string type;    // built-in source ("rest") or empty
  std::string plugin;  // source plugin or empty
  nlohmann::json config = nlohmann::json::object();
  std::vector<std::string> streams;  // empty: every stream the plugin offers
  std::vector<StageConfig> stages;
  std::string pointer;
};

struct SinkConfig {
  std::string name;
  std::string type;    // built-in sink ("local_crm") or empty
  std::string plugin;  // sink plugin or empty
  nlohmann::json config = nlohmann::json::object();
  std::string stream;  // fixed stream name for the sink, or empty: the batch's source stream
  std::vector<std::string> sync_key;  // sync.key; empty: no ledger and no per-record results
  bool skip_unchanged = true;         // sync.skip_unchanged
  bool record_results = true;         // sync.results
  bool mirror = false;                // sync.mirror
  std::string pointer;
};

struct Settings {
  size_t batch_size = 1000;
  std::vector<std::string> plugin_dirs;  // absolute
  double call_timeout_seconds = 300;
  int retries = 3;
  int threads = 0;  // 0: one per core
};

struct PipelineConfig {
  std::string path;       // the file, absolute
  std::string directory;  // its directory: relative paths resolve here
  std::string name;
  std::string description;
  std::string state_path;  // absolute
  Settings settings;
  std::vector<SourceConfig> sources;
  std::vector<StageConfig> stages;
  SinkConfig sink;
  // Values that came from ${env:..}/${file:..}: never logged (the logger redacts them).
  std::vector<std::string> secrets;
  YamlDocument document;  // for locating later diagnostics
};

// Every problem goes to `diagnostics`. Returns the config whenever the document's shape allowed building one, even
// if `diagnostics` holds problems (unknown keys, unset ${env:..}), so that later checks can report theirs as well:
// callers must treat a non-empty `diagnostics` as failure. kFailedPrecondition when no config could be built.
Result<PipelineConfig> load_pipeline(const std::string& path, std::vector<Diagnostic>& diagnostics);

// The pipeline JSON Schema (schemas/pipeline.schema.json, embedded at build time).
const nlohmann::json& pipeline_schema();

// Built-in sink types, for suggestions.
const std::vector<std::string>& builtin_sink_types();
// Built-in source types, for suggestions.
const std::vector<std::string>& builtin_source_types();

}  // namespace conflux::config
