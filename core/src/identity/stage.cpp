#include "conflux/identity/stage.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <unordered_map>

#include "conflux/common/logging.hpp"
#include "conflux/identity/graph_store.hpp"
#include "conflux/identity/resolver.hpp"
#include "conflux/identity/survivorship.hpp"
#include "conflux/record/json.hpp"

namespace conflux::identity {

namespace {

using Json = nlohmann::json;

const std::vector<std::string>& stage_keys() {
  static const std::vector<std::string> kKeys = {"record_key", "source_field", "timestamp_field", "emit", "graph", "graph_name"};
  return kKeys;
}

// Logs how long each phase of a resolve took (info level: a resolve of a million records takes tens of seconds).
class PhaseTimer {
 public:
  PhaseTimer() : log_(logging::get("identity")), last_(std::chrono::steady_clock::now()) {}
  void done(const char* phase, size_t count) {
    const auto now = std::chrono::steady_clock::now();
    log_->info("{}: {} in {:.2f} s", phase, count, std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }

 private:
  std::shared_ptr<spdlog::logger> log_;
  std::chrono::steady_clock::time_point last_;
};

// Graph key of a record without record_key fields: the prefix and the record's JSON text.
constexpr const char* kAnonymousKeyPrefix = "_anonymous:";

std::string text_of(const Record& record, std::string_view field) {
  const Value* v = record.find(field);
  return v == nullptr || v->is_null() ? std::string() : v->to_text();
}

}  // namespace

void add_record(Prepared& prepared, const Record& record) {
  const ModelConfig& config = prepared.config();
  thread_local std::vector<std::string> texts;
  texts.clear();
  for (const auto& f : config.fields) texts.push_back(text_of(record, f.name));
  for (const auto& r : config.identifiers) texts.push_back(text_of(record, r.field));
  std::vector<std::string_view> compared(texts.begin(), texts.begin() + static_cast<std::ptrdiff_t>(config.fields.size()));
  std::vector<std::string_view> identifiers(texts.begin() + static_cast<std::ptrdiff_t>(config.fields.size()), texts.end());
  prepared.add(compared, identifiers);
}

std::string record_key(const StageConfig& config, const Record& record) {
  std::string key;
  bool any = false;
  for (const auto& field : config.record_key) {
    const std::string part = text_of(record, field);
    any = any || !part.empty();
    if (!key.empty()) key += ':';
    key += part;
  }
  return any ? key : std::string();
}

std::string model_to_json(const MatchModel& model) {
  Json j;
  j["prior"] = model.prior;
  j["m"] = model.m;
  j["u"] = model.u;
  j["iterations"] = model.iterations;
  return j.dump();
}

Result<MatchModel> model_from_json(const std::string& text, const ModelConfig& config) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return data_loss("identity graph: the stored model is not JSON");
  MatchModel model;
  try {
    model.prior = j.at("prior").get<double>();
    model.m = j.at("m").get<std::vector<std::vector<double>>>();
    model.u = j.at("u").get<std::vector<std::vector<double>>>();
    model.iterations = j.value("iterations", 0);
  } catch (const std::exception& e) {
    return data_loss(std::string("identity graph: the stored model is malformed: ") + e.what());
  }
  if (model.m.size() != config.fields.size() || model.u.size() != config.fields.size()) {
    return failed_precondition("the stored model has " + std::to_string(model.m.size()) +
                               " fields, the config " + std::to_string(config.fields.size()) +
                               "; run the pipeline again to store a model for this config");
  }
  for (size_t f = 0; f < config.fields.size(); ++f) {
    if (model.m[f].size() != config.fields[f].levels() + 1 || model.u[f].size() != config.fields[f].levels() + 1) {
      return failed_precondition("the stored model does not match the config's levels of '" + config.fields[f].name +
                                 "'; run the pipeline again");
    }
  }
  model.compute_weights();
  return model;
}

Result<StageConfig> parse_stage_config(const Json& config, const std::string& schema_dir) {
  StageConfig out;
  Json model = Json::object();
  if (!config.is_object()) return failed_precondition("identity: the stage config must be a mapping");
  for (auto it = config.begin(); it != config.end(); ++it) {
    const auto& keys = stage_keys();
    if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) model[it.key()] = it.value();
  }
  auto parsed = parse_model_config(model);
  if (!parsed) return parsed.status();
  out.model = std::move(parsed.value());
  if (config.contains("record_key")) {
    const Json& k = config["record_key"];
    out.record_key.clear();
    if (k.is_string()) out.record_key.push_back(k.get<std::string>());
    else if (k.is_array()) {
      for (const auto& part : k) {
        if (!part.is_string()) return failed_precondition("identity: record_key must be a field or a list of fields");
        out.record_key.push_back(part.get<std::string>());
      }
    }
    if (out.record_key.empty()) return failed_precondition("identity: record_key must name at least one field");
  }
  for (auto [key, target] : {std::pair<const char*, std::string*>{"source_field", &out.source_field},
                             {"timestamp_field", &out.timestamp_field}, {"graph", &out.graph_path},
                             {"graph_name", &out.graph_name}}) {
    if (!config.contains(key)) continue;
    if (!config[key].is_string()) return failed_precondition(std::string("identity: ") + key + " must be a string");
    *target = config[key].get<std::string>();
  }
  if (config.contains("emit")) {
    const std::string emit = config["emit"].is_string() ? config["emit"].get<std::string>() : "";
    if (emit != "profiles" && emit != "records") return failed_precondition("identity: emit must be 'profiles' or 'records'");
    out.emit_records = emit == "records";
  }
  if (!out.model.schema.empty()) {
    const std::string path = schema_dir + "/records/" + out.model.schema + ".json";
    std::ifstream in(path);
    if (!in) return failed_precondition("identity: schema: unknown record schema '" + out.model.schema + "' (" + path + ")");
    Json schema = Json::parse(in, nullptr, false);
    if (schema.is_discarded() || !schema.contains("properties")) {
      return failed_precondition("identity: schema: '" + path + "' is not a record schema");
    }
    std::vector<std::string> fields;
    for (const auto& f : out.model.fields) fields.push_back(f.name);
    for (const auto& r : out.model.identifiers) fields.push_back(r.field);
    for (const auto& field : fields) {
      if (!schema["properties"].contains(field)) {
        return failed_precondition("identity: field '" + field + "' is compared, but no " + out.model.schema +
                                   " record provides it (not in schemas/records/" + out.model.schema + ".json)");
      }
    }
  }
  return out;
}

namespace {

class IdentityStage final : public engine::Transform {
 public:
  explicit IdentityStage(StageConfig config) : config_(std::move(config)) {}

  Status apply(std::vector<Record>& records, std::vector<engine::Rejected>& /*rejected*/) override {
    for (auto& r : records) held_.push_back(std::move(r));
    records.clear();
    return Status::ok();
  }

  bool holds_records() const override { return true; }

  void start(bool dry_run) override { dry_run_ = dry_run; }

  // Golden records of every profile merged into another: the engine deletes those the sink still holds. Only in
  // profile mode; in record mode the records themselves carry the surviving profile_id once re-emitted.
  std::vector<Record> withdrawn() override { return std::move(withdrawn_); }

  Status finish(std::vector<Record>& out, std::vector<engine::Rejected>& rejected) override {
    // A dry run reads the graph but never creates or changes it: with no graph yet it resolves against an empty one.
    const bool fresh = dry_run_ && !std::filesystem::exists(config_.graph_path);
    auto store = GraphStore::open(fresh ? std::string(":memory:") : config_.graph_path);
    if (!store) return store.status().with_context("identity graph");
    const std::string& pipeline = config_.graph_name;
    CONFLUX_RETURN_IF_ERROR(resolve_held(*store, out, rejected));
    if (!config_.emit_records) {
      auto merged = store->merged_profiles(pipeline);
      if (!merged) return merged.status();
      for (const std::string& id : *merged) {
        Record golden;
        golden.append("profile_id", Value::string(id));
        withdrawn_.push_back(std::move(golden));
      }
    }
    return Status::ok();
  }

 private:
  Status resolve_held(GraphStore& graph, std::vector<Record>& out, std::vector<engine::Rejected>& rejected) {
    if (held_.empty()) return Status::ok();
    PhaseTimer timer;
    GraphStore* store = &graph;
    const std::string& pipeline = config_.graph_name;
    auto stored = store->records(pipeline);
    if (!stored) return stored.status();
    auto live = store->live_profiles(pipeline);
    if (!live) return live.status();
    auto pins = store->pins(pipeline);
    if (!pins) return pins.status();
    auto next = store->next_seq(pipeline);
    if (!next) return next.status();
    int64_t next_seq = *next;

    // All records: the stored ones first, then this run's (replacing a stored record with the same key).
    std::vector<Record> all;
    std::vector<std::string> keys;
    std::vector<std::string> previous;  // profile id per record; empty for new records
    std::vector<char> touched;
    std::unordered_map<std::string, size_t> by_key;
    for (const StoredRecord& s : *stored) {
      Json j = Json::parse(s.record_json, nullptr, false);
      if (j.is_discarded()) return data_loss("identity graph: record '" + s.key + "' is not JSON");
      by_key.emplace(s.key, all.size());
      all.push_back(record_from_json(nlohmann::ordered_json::parse(s.record_json)));
      keys.push_back(s.key);
      previous.push_back(s.profile_id);
      touched.push_back(0);
    }
    for (Record& r : held_) {
      std::string key = record_key(config_, r);
      if (key.empty()) key = kAnonymousKeyPrefix + record_to_json_text(r);  // no key fields: the content is the key
      auto it = by_key.find(key);
      if (it != by_key.end()) {
        all[it->second] = std::move(r);
        touched[it->second] = 1;
        continue;
      }
      by_key.emplace(key, all.size());
      all.push_back(std::move(r));
      keys.push_back(std::move(key));
      previous.emplace_back();
      touched.push_back(1);
    }
    held_.clear();
    timer.done("records keyed (stored and this run's)", all.size());

    Prepared prepared(config_.model);
    for (const Record& r : all) add_record(prepared, r);
    prepared.finalise();
    timer.done("records prepared", all.size());
    ResolveOptions options;
    std::map<std::string, uint32_t> group_of;
    options.previous_group.resize(all.size(), 0);
    for (size_t i = 0; i < all.size(); ++i) {
      if (previous[i].empty()) continue;
      auto [it, inserted] = group_of.emplace(previous[i], static_cast<uint32_t>(group_of.size() + 1));
      options.previous_group[i] = it->second;
    }
    options.pins.resize(all.size(), {0, 0});
    for (const StoredPin& pin : *pins) {
      auto it = by_key.find(pin.record_key);
      if (it != by_key.end()) options.pins[it->second] = {static_cast<uint32_t>(pin.unmerge_id), static_cast<uint32_t>(pin.part)};
    }
    const Resolution resolution = resolve(prepared, options);
    timer.done("records resolved into profiles", resolution.clusters);

    // Profile ids per cluster: the oldest earlier profile survives; a cluster without one gets a new id.
    std::vector<std::vector<uint32_t>> members(resolution.clusters);
    for (uint32_t r = 0; r < all.size(); ++r) members[resolution.cluster[r]].push_back(r);
    GraphUpdate update;
    update.pipeline = pipeline;
    std::vector<std::string> profile_of(resolution.clusters);
    for (size_t c = 0; c < members.size(); ++c) {
      std::set<std::string> earlier;
      for (uint32_t r : members[c]) {
        if (!previous[r].empty()) earlier.insert(previous[r]);
      }
      std::string surviving;
      int64_t best = INT64_MAX;
      for (const auto& id : earlier) {
        auto it = live->find(id);
        const int64_t seq = it == live->end() ? INT64_MAX - 1 : it->second;
        if (seq < best) {
          best = seq;
          surviving = id;
        }
      }
      if (surviving.empty()) {
        surviving = format_profile_id(next_seq);
        update.new_profiles.emplace_back(surviving, next_seq++);
      }
      profile_of[c] = surviving;
      for (const auto& id : earlier) {
        if (id == surviving) continue;
        update.absorbed.emplace_back(id, surviving);
        update.merges.push_back({surviving, id, evidence(resolution, prepared, keys, previous, c, id, surviving), ""});
      }
    }

    // Records whose profile is new or changed, and every record of a touched profile for the golden record.
    std::vector<char> cluster_touched(resolution.clusters, 0);
    for (uint32_t r = 0; r < all.size(); ++r) {
      if (touched[r]) cluster_touched[resolution.cluster[r]] = 1;
    }
    // The graph's changes are built and saved on a second thread while this one builds the output. Until the save
    // is joined both only read the run's records; the folded records are moved out after it.
    std::future<Status> saved = std::async(std::launch::async, [&]() -> Status {
      PhaseTimer save_timer;
      for (uint32_t r = 0; r < all.size(); ++r) {
        const std::string& profile = profile_of[resolution.cluster[r]];
        if (!touched[r] && previous[r] == profile) continue;
        update.records.push_back({keys[r], profile, text_of(all[r], config_.source_field),
                                  text_of(all[r], config_.timestamp_field), record_to_json_text(all[r])});
      }
      for (uint32_t r = 0; r < all.size(); ++r) {
        if (!cluster_touched[resolution.cluster[r]]) continue;
        for (size_t rule = 0; rule < config_.model.identifiers.size(); ++rule) {
          const std::string_view value = prepared.identifier(rule, r);
          if (!value.empty()) {
            update.identifiers.emplace_back(config_.model.identifiers[rule].field, std::string(value),
                                            profile_of[resolution.cluster[r]]);
          }
        }
      }
      update.model_json = model_to_json(resolution.model);
      save_timer.done("graph changes prepared (records)", update.records.size());
      Status status = dry_run_ ? Status::ok() : store->save(update);
      save_timer.done("graph saved (records)", update.records.size());
      return status;
    });

    // Output: one golden record per touched profile (the other records of the run are counted as folded into it),
    // or every record of the run with its profile_id.
    std::vector<uint32_t> folded;
    for (size_t c = 0; c < members.size(); ++c) {
      if (!cluster_touched[c]) continue;
      bool emitted = false;
      for (uint32_t r : members[c]) {
        if (!touched[r]) continue;
        if (config_.emit_records) {
          Record copy = all[r];
          copy.set("profile_id", Value::string(profile_of[c]));
          out.push_back(std::move(copy));
        } else if (!emitted) {
          out.push_back(golden_record(all, keys, members[c], profile_of[c]));
          emitted = true;
        } else {
          folded.push_back(r);
        }
      }
    }
    timer.done("records emitted", out.size());
    CONFLUX_RETURN_IF_ERROR(saved.get());
    rejected.reserve(rejected.size() + folded.size());
    for (uint32_t r : folded) rejected.push_back({std::move(all[r]), "identity: folded into its profile's golden record", false});
    return Status::ok();
  }

  // Why the records of `absorbed` joined `surviving`: the links of the cluster that cross between records of
  // different earlier profiles or reach this run's records, as JSON (at most 20).
  std::string evidence(const Resolution& resolution, const Prepared& prepared, const std::vector<std::string>& keys,
                       const std::vector<std::string>& previous, size_t cluster, const std::string& absorbed,
                       const std::string& surviving) const {
    Json links = Json::array();
    for (const Link& link : resolution.links) {
      if (resolution.cluster[link.a] != cluster) continue;
      if (!previous[link.a].empty() && previous[link.a] == previous[link.b]) continue;
      Json j;
      j["a"] = keys[link.a];
      j["b"] = keys[link.b];
      j["kind"] = link_kind_name(link.kind);
      if (link.kind == LinkKind::kIdentifier) {
        j["identifier"] = config_.model.identifiers[link.rule].field;
        j["value"] = std::string(prepared.identifier(link.rule, link.a));
      }
      if (link.kind == LinkKind::kScore) {
        j["log2_odds"] = link.log2_odds;
        j["probability"] = odds_to_probability(link.log2_odds);
      }
      links.push_back(std::move(j));
      if (links.size() >= 20) break;
    }
    Json out;
    out["surviving"] = surviving;
    out["absorbed"] = absorbed;
    out["links"] = std::move(links);
    return out.dump();
  }

  // The profile's golden record: per field the survivor of its rule, then record_count and _provenance (per
  // field: the surviving value's source, record key, time and rule; keys sorted, as a JSON object). Runs once per
  // touched profile, so it copies no record values and builds no JSON tree.
  Record golden_record(const std::vector<Record>& all, const std::vector<std::string>& keys,
                       const std::vector<uint32_t>& members, const std::string& profile) {
    std::vector<std::string_view> fields;  // first-seen order; a profile has a few dozen fields at most
    for (uint32_t r : members) {
      for (const Field& f : all[r].fields()) {
        if (f.name == "profile_id" || f.name == "_provenance" || f.name == "record_count") continue;
        if (std::find(fields.begin(), fields.end(), f.name) == fields.end()) fields.push_back(f.name);
      }
    }
    const size_t n = members.size();
    std::vector<std::string> sources(n), times(n), texts(n);
    std::vector<std::string_view> record_keys(n);  // "" for a record without key fields
    for (size_t i = 0; i < n; ++i) {
      sources[i] = text_of(all[members[i]], config_.source_field);
      times[i] = text_of(all[members[i]], config_.timestamp_field);
      const std::string& key = keys[members[i]];
      if (key.rfind(kAnonymousKeyPrefix, 0) != 0) record_keys[i] = key;
    }
    Record golden;
    golden.append("profile_id", Value::string(profile));
    std::vector<std::pair<std::string_view, std::string>> provenance;  // field -> its JSON object text
    std::vector<CandidateValue> candidates(n);
    for (const std::string_view field : fields) {
      for (size_t i = 0; i < n; ++i) {
        const Value* v = all[members[i]].find(field);
        std::string_view value;
        if (v != nullptr && v->type == ValueType::kString) {
          value = v->text;
        } else if (v != nullptr && !v->is_null()) {
          texts[i] = v->to_text();
          value = texts[i];
        }
        candidates[i] = {value, sources[i], times[i], record_keys[i]};
      }
      const SurvivorshipSpec& spec = spec_for(field);
      auto chosen = choose_survivor(spec, candidates);
      if (!chosen) continue;
      const Value* value = all[members[*chosen]].find(field);
      golden.append(std::string(field), value != nullptr ? *value : Value::null());
      std::string entry = "{\"at\":";
      append_json_string(entry, times[*chosen]);
      entry += ",\"record\":";
      append_json_string(entry, record_keys[*chosen]);
      entry += ",\"rule\":";
      append_json_string(entry, survivor_rule_name(spec.rule));
      entry += ",\"source\":";
      append_json_string(entry, sources[*chosen]);
      entry += '}';
      provenance.emplace_back(field, std::move(entry));
    }
    std::sort(provenance.begin(), provenance.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string text = "{";
    for (const auto& [field, entry] : provenance) {
      if (text.size() > 1) text += ',';
      append_json_string(text, field);
      text += ':';
      text += entry;
    }
    text += '}';
    golden.append("record_count", Value::integer(static_cast<int64_t>(n)));
    golden.append("_provenance", Value::json(std::move(text)));
    return golden;
  }

  // The survivorship rule of a field, looked up once per field name.
  const SurvivorshipSpec& spec_for(std::string_view field) {
    auto it = specs_.find(field);
    if (it == specs_.end()) {
      it = specs_.emplace(std::string(field), survivorship_for(config_.model, std::string(field))).first;
    }
    return it->second;
  }

  StageConfig config_;
  bool dry_run_ = false;
  std::map<std::string, SurvivorshipSpec, std::less<>> specs_;
  std::vector<Record> held_;
  std::vector<Record> withdrawn_;
};

}  // namespace

Result<std::unique_ptr<engine::Transform>> make_identity_stage(const Json& config, const std::string& schema_dir) {
  auto parsed = parse_stage_config(config, schema_dir);
  if (!parsed) return parsed.status();
  // The pipeline builder always sets the pipeline's state database; a stage made on its own uses the default file.
  if (parsed->graph_path.empty()) parsed->graph_path = ".conflux/state.db";
  if (parsed->graph_name.empty()) parsed->graph_name = "default";
  return std::unique_ptr<engine::Transform>(new IdentityStage(std::move(parsed.value())));
}

nlohmann::ordered_json identity_stage_schema() {
  using OJ = nlohmann::ordered_json;
  OJ schema = OJ::object();
  schema["$schema"] = "http://json-schema.org/draft-07/schema#";
  schema["title"] = "identity";
  schema["description"] =
      "Resolves records into profiles (deterministic identifier rules, then Fellegi-Sunter scoring) and emits one "
      "golden record per profile the run touched; keeps the identity graph in the state database.";
  schema["type"] = "object";
  OJ props = OJ::object();
  props["match_probability"] = {{"type", "number"}, {"exclusiveMinimum", 0}, {"exclusiveMaximum", 1}};
  props["clustering"] = {{"enum", OJ::array({"average", "transitive"})}};
  props["prior"] = {{"type", "number"}};
  props["em"] = {{"type", "object"}};
  props["max_block_size"] = {{"type", "integer"}, {"minimum", 2}};
  props["seed"] = {{"type", "integer"}, {"minimum", 0}};
  props["schema"] = {{"type", "string"}};
  props["fields"] = {{"type", "array"}, {"items", {{"type", "object"}}}};
  props["blocking"] = {{"type", "array"}};
  props["identifiers"] = {{"type", "array"}, {"items", {{"type", "object"}}}};
  props["survivorship"] = {{"type", "object"}};
  props["record_key"] = {{"oneOf", OJ::array({{{"type", "string"}}, {{"type", "array"}, {"items", {{"type", "string"}}}}})}};
  props["source_field"] = {{"type", "string"}};
  props["timestamp_field"] = {{"type", "string"}};
  props["emit"] = {{"enum", OJ::array({"profiles", "records"})}};
  props["graph"] = {{"type", "string"}, {"description", "State database holding the identity graph (default: the pipeline's)."}};
  props["graph_name"] = {{"type", "string"}, {"description", "Namespace in the graph (default: the pipeline's name)."}};
  schema["properties"] = std::move(props);
  schema["additionalProperties"] = false;
  return schema;
}

}  // namespace conflux::identity
