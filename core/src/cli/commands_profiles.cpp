// conflux profiles show|explain|unmerge: read and correct the identity graph of a pipeline with an identity stage.
#include <cstdio>
#include <iostream>
#include <set>

#include "cli.hpp"
#include "conflux/identity/fellegi_sunter.hpp"
#include "conflux/identity/graph_store.hpp"
#include "conflux/identity/stage.hpp"
#include "conflux/record/json.hpp"
#include "conflux/transforms/builtin.hpp"

namespace conflux::cli {

namespace {

// The pipeline's identity stage config and its graph; prints the problem and sets the exit code on failure.
struct IdentityContext {
  identity::StageConfig stage;
  std::optional<identity::GraphStore> graph;
};

std::optional<IdentityContext> open_identity_or_report(const std::string& file) {
  auto config = load_pipeline_or_report(file);
  if (!config) return std::nullopt;
  const config::StageConfig* found = nullptr;
  for (const auto& stage : config->stages) {
    if (stage.type == "identity") found = &stage;
  }
  for (const auto& source : config->sources) {
    for (const auto& stage : source.stages) {
      if (stage.type == "identity" && found == nullptr) found = &stage;
    }
  }
  if (found == nullptr) {
    std::cerr << "error: pipeline '" << config->name << "' has no identity stage\n";
    exit_code() = kExitUsage;
    return std::nullopt;
  }
  nlohmann::json stage_json = found->config;
  if (!stage_json.contains("graph")) stage_json["graph"] = config->state_path;
  if (!stage_json.contains("graph_name")) stage_json["graph_name"] = config->name;
  auto parsed = identity::parse_stage_config(stage_json, transforms::schema_dir());
  if (!parsed) {
    std::cerr << "error: " << parsed.status().message() << "\n";
    exit_code() = kExitUsage;
    return std::nullopt;
  }
  auto graph = identity::GraphStore::open(parsed->graph_path, /*create=*/false);
  if (!graph) {
    std::cerr << "error: " << graph.status().message() << "\n";
    exit_code() = graph.status().code() == StatusCode::kNotFound ? kExitFailed : kExitFailed;
    return std::nullopt;
  }
  IdentityContext context{std::move(parsed.value()), std::move(graph.value())};
  return context;
}

void fail(const Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  exit_code() = kExitFailed;
}

void show(const std::string& file, const std::string& id, bool json) {
  auto context = open_identity_or_report(file);
  if (!context) return;
  const std::string& pipeline = context->stage.graph_name;
  auto resolved = context->graph->resolve_profile(pipeline, id);
  if (!resolved) return fail(resolved.status());
  if (!*resolved) return fail(not_found("unknown profile '" + id + "' in pipeline '" + pipeline + "'"));
  auto records = context->graph->profile_records(pipeline, **resolved);
  if (!records) return fail(records.status());
  auto merges = context->graph->merges(pipeline, **resolved);
  if (!merges) return fail(merges.status());
  if (json) {
    nlohmann::ordered_json out;
    out["profile_id"] = **resolved;
    if (**resolved != id) out["merged_from"] = id;
    out["records"] = nlohmann::ordered_json::array();
    for (const auto& r : *records) {
      out["records"].push_back({{"record", r.key}, {"source", r.source}, {"seen_at", r.seen_at},
                                {"values", nlohmann::ordered_json::parse(r.record_json)}});
    }
    out["merges"] = nlohmann::ordered_json::array();
    for (const auto& m : *merges) {
      out["merges"].push_back({{"surviving", m.surviving}, {"absorbed", m.absorbed}, {"at", m.merged_at},
                               {"evidence", nlohmann::ordered_json::parse(m.evidence_json)}});
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << "profile " << **resolved;
  if (**resolved != id) std::cout << " (" << id << " was merged into it)";
  std::cout << ": " << records->size() << " record(s)\n";
  for (const auto& r : *records) {
    std::cout << "  record " << r.key << "  source " << (r.source.empty() ? "-" : r.source) << "  at "
              << (r.seen_at.empty() ? "-" : r.seen_at) << "\n";
    auto values = nlohmann::ordered_json::parse(r.record_json, nullptr, false);
    if (values.is_object()) {
      for (auto it = values.begin(); it != values.end(); ++it) {
        if (it->is_null()) continue;
        std::cout << "    " << it.key() << ": " << (it->is_string() ? it->get<std::string>() : it->dump()) << "\n";
      }
    }
  }
  for (const auto& m : *merges) {
    std::cout << "  merge " << m.absorbed << " -> " << m.surviving << " at " << m.merged_at << ": " << m.evidence_json << "\n";
  }
}

void explain(const std::string& file, const std::string& key_a, const std::string& key_b) {
  auto context = open_identity_or_report(file);
  if (!context) return;
  const std::string& pipeline = context->stage.graph_name;
  auto records = context->graph->records(pipeline);
  if (!records) return fail(records.status());
  auto model_text = context->graph->model_json(pipeline);
  if (!model_text) return fail(model_text.status());
  if (model_text->empty()) return fail(not_found("pipeline '" + pipeline + "' has no stored identity model; run it first"));
  auto model = identity::model_from_json(*model_text, context->stage.model);
  if (!model) return fail(model.status());
  identity::Prepared prepared(context->stage.model);
  int64_t a = -1;
  int64_t b = -1;
  for (size_t i = 0; i < records->size(); ++i) {
    const auto& r = (*records)[i];
    identity::add_record(prepared, record_from_json(nlohmann::ordered_json::parse(r.record_json)));
    if (r.key == key_a) a = static_cast<int64_t>(i);
    if (r.key == key_b) b = static_cast<int64_t>(i);
  }
  prepared.finalise();
  for (auto [index, key] : {std::pair<int64_t, std::string>{a, key_a}, {b, key_b}}) {
    if (index < 0) return fail(not_found("unknown record '" + key + "' in pipeline '" + pipeline + "' (record keys: `conflux profiles show`)"));
  }
  const auto& ra = (*records)[static_cast<size_t>(a)];
  const auto& rb = (*records)[static_cast<size_t>(b)];
  std::cout << "records " << key_a << " (profile " << ra.profile_id << ") and " << key_b << " (profile " << rb.profile_id
            << "): " << (ra.profile_id == rb.profile_id ? "same profile" : "different profiles") << "\n";
  const auto& model_config = context->stage.model;
  bool rule_match = false;
  for (size_t rule = 0; rule < model_config.identifiers.size(); ++rule) {
    const auto va = prepared.identifier(rule, static_cast<size_t>(a));
    const auto vb = prepared.identifier(rule, static_cast<size_t>(b));
    const bool same = !va.empty() && va == vb;
    rule_match = rule_match || same;
    std::printf("  rule %zu  %-14s %-28s %-28s %s\n", rule + 1, model_config.identifiers[rule].field.c_str(),
                std::string(va.empty() ? "-" : va).c_str(), std::string(vb.empty() ? "-" : vb).c_str(),
                same ? "SHARED: deterministic link" : "no link");
  }
  const auto ua = static_cast<uint32_t>(a);
  const auto ub = static_cast<uint32_t>(b);
  for (const auto& e : identity::explain_pair(prepared, *model, ua, ub)) {
    std::printf("  field %-16s %-24s %-24s %-36s %+7.2f\n", e.field.c_str(), e.value_a.empty() ? "-" : e.value_a.c_str(),
                e.value_b.empty() ? "-" : e.value_b.c_str(), e.level_label.c_str(), e.weight);
  }
  const double odds = identity::match_log2_odds(prepared, *model, ua, ub);
  const double probability = identity::odds_to_probability(odds);
  std::printf("  prior log2 odds %+.2f, total %+.2f, match probability %.4f (threshold %.3g): %s\n", model->log2_prior_odds(),
              odds, probability, model_config.match_probability,
              rule_match ? "linked by rule" : probability >= model_config.match_probability ? "scored as a match" : "not a match by score");
}

void unmerge(const std::string& file, const std::string& id, const std::vector<std::string>& keys) {
  auto context = open_identity_or_report(file);
  if (!context) return;
  auto made = context->graph->unmerge(context->stage.graph_name, id, keys);
  if (!made) {
    std::cerr << "error: " << made.status().message() << "\n";
    exit_code() = made.status().code() == StatusCode::kNotFound ? kExitFailed : kExitUsage;
    return;
  }
  std::cout << "split " << keys.size() << " record(s) of " << id << " into " << *made
            << "; later runs keep them apart\n";
}

}  // namespace

void add_profiles_commands(CLI::App& app) {
  auto* profiles = app.add_subcommand("profiles", "Inspect and correct the identity graph of a pipeline");
  profiles->require_subcommand(1);
  {
    auto* cmd = profiles->add_subcommand("show", "A profile's records and values with their sources, and its merges");
    auto file = std::make_shared<std::string>();
    auto id = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->add_option("id", *id, "Profile id (an absorbed id shows the profile it was merged into)")->required();
    cmd->add_flag("--json", *json, "Print JSON");
    cmd->callback([=] { show(*file, *id, *json); });
  }
  {
    auto* cmd = profiles->add_subcommand("explain", "Why two records matched or did not: rule or score per field");
    auto file = std::make_shared<std::string>();
    auto a = std::make_shared<std::string>();
    auto b = std::make_shared<std::string>();
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->add_option("a", *a, "Record key (record_key fields joined by ':')")->required();
    cmd->add_option("b", *b, "Record key")->required();
    cmd->callback([=] { explain(*file, *a, *b); });
  }
  {
    auto* cmd = profiles->add_subcommand("unmerge", "Split records off a profile; later runs keep the split");
    auto file = std::make_shared<std::string>();
    auto id = std::make_shared<std::string>();
    auto keys = std::make_shared<std::vector<std::string>>();
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->add_option("id", *id, "Profile id")->required();
    cmd->add_option("--records", *keys, "Record keys to move into a new profile")->required()->delimiter(',');
    cmd->callback([=] { unmerge(*file, *id, *keys); });
  }
}

}  // namespace conflux::cli
