// The `identity` pipeline stage: holds every record until the end of the run, resolves them together with the
// records of earlier runs (from the identity graph in the state database), and emits one golden record per profile
// the run touched, with `profile_id`, the surviving values and their provenance. docs/identity.md documents it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conflux/common/status.hpp"
#include "conflux/engine/stage.hpp"
#include "conflux/identity/model_config.hpp"
#include "conflux/identity/prepared.hpp"
#include "conflux/record/record.hpp"

namespace conflux::identity {

struct StageConfig {
  ModelConfig model;
  std::vector<std::string> record_key = {"source", "source_id"};  // fields that identify a record across runs
  std::string source_field = "source";
  std::string timestamp_field = "updated_at";
  bool emit_records = false;  // true: emit every input record with profile_id; false: one golden record per profile
  std::string graph_path;     // the state database (the builder fills in the pipeline's)
  std::string graph_name;     // the pipeline's name: the graph's namespace in the database
};

// Reads the stage's keys (the model's keys plus record_key, source_field, timestamp_field, emit, graph,
// graph_name). With model.schema set, every compared and identifier field must be a property of
// <schema_dir>/records/<schema>.json: a field no record provides is a config error. kFailedPrecondition otherwise.
Result<StageConfig> parse_stage_config(const nlohmann::json& config, const std::string& schema_dir);

Result<std::unique_ptr<engine::Transform>> make_identity_stage(const nlohmann::json& config, const std::string& schema_dir);
nlohmann::ordered_json identity_stage_schema();

// The values a record contributes to `prepared` (compared fields, then identifiers), as text.
void add_record(Prepared& prepared, const Record& record);
// "<part>\x1f<part>" of the record_key fields; empty when they are all blank.
std::string record_key(const StageConfig& config, const Record& record);

// The model as stored in the graph (prior, m, u), and back.
std::string model_to_json(const struct MatchModel& model);
Result<struct MatchModel> model_from_json(const std::string& text, const ModelConfig& config);

}  // namespace conflux::identity
