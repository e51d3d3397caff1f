#include "conflux/pipeline/builder.hpp"

#include <algorithm>
#include <filesystem>

#include "conflux/crm/local_crm.hpp"
#include "conflux/rest/rest_source.hpp"
#include "conflux/transforms/builtin.hpp"

namespace conflux::pipeline {

namespace {

class Builder {
 public:
  Builder(const config::PipelineConfig& config, plugin_host::PluginHost& host,
          std::vector<config::Diagnostic>& diagnostics, const BuildOptions& options)
      : config_(config), host_(host), diagnostics_(diagnostics), options_(options) {}

  void report(const std::string& pointer, const std::string& message, bool at_key = false) {
    const auto& doc = config_.document;
    diagnostics_.push_back({doc.path, at_key ? doc.locate_key(pointer) : doc.locate(pointer), message});
  }

  void report_violations(const std::string& config_pointer, const std::string& what,
                         const std::vector<SchemaViolation>& violations) {
    for (const auto& v : violations) report(config_pointer + v.pointer, what + ": " + v.message);
  }

  plugin_host::InstanceOptions instance_options(const std::string& step, const std::string& plugin) const {
    plugin_host::InstanceOptions o;
    o.logger_name = config_.name + "/" + step + "/" + plugin;
    o.call_timeout_seconds = config_.settings.call_timeout_seconds;
    o.retries = config_.settings.retries;
    o.cancelled = options_.cancel;
    return o;
  }

  // Loads plugin `name` for a step that needs `kind`; reports and returns null on any problem.
  std::shared_ptr<plugin_host::LoadedPlugin> load_plugin(const std::string& name, uint32_t kind, const char* kind_name,
                                                         const std::string& pointer) {
    if (host_.find(name).empty()) {
      report(pointer + "/plugin", "unknown plugin '" + name + "'" + config::did_you_mean(name, host_.available()) +
                                      "; plugins are searched in settings.plugin_dirs, CONFLUX_PLUGIN_PATH and the "
                                      "build and install directories (see `conflux plugins list`)");
      return nullptr;
    }
    auto loaded = host_.load(name);
    if (!loaded) {
      report(pointer + "/plugin", loaded.status().message());
      return nullptr;
    }
    if (((*loaded)->manifest().kinds & kind) == 0) {
      report(pointer + "/plugin", "plugin '" + name + "' is a " + (*loaded)->manifest().kinds_text() + " plugin, not a " +
                                      kind_name);
      return nullptr;
    }
    return *loaded;
  }

  std::shared_ptr<plugin_host::PluginInstance> instantiate(const std::shared_ptr<plugin_host::LoadedPlugin>& plugin,
                                                           const nlohmann::json& config, const std::string& pointer,
                                                           const std::string& step) {
    auto violations = plugin->check_config(config);
    if (!violations.empty()) {
      report_violations(pointer + "/config",
                        "plugin '" + plugin->manifest().name + "' (" + plugin->manifest().path + ") config", violations);
      return nullptr;
    }
    if (!options_.instantiate) return nullptr;
    auto instance = plugin->instantiate(config, instance_options(step, plugin->manifest().name));
    if (!instance) {
      report(pointer + "/config", instance.status().message());
      return nullptr;
    }
    return *instance;
  }

  bool build_stage(const config::StageConfig& stage, std::vector<engine::StageRuntime>& out) {
    engine::StageRuntime runtime;
    runtime.name = stage.name;
    runtime.on_invalid = stage.on_invalid;
    if (!stage.plugin.empty()) {
      runtime.kind = "plugin:" + stage.plugin;
      // A plugin stage's settings live under config:, so any other key is a mistake (e.g. "confg").
      static const std::vector<std::string> kPluginStageKeys = {"name", "plugin", "config", "on_invalid"};
      const nlohmann::json& raw = config_.document.root.at(nlohmann::json::json_pointer(stage.pointer));
      bool keys_ok = true;
      for (auto it = raw.begin(); it != raw.end(); ++it) {
        if (std::find(kPluginStageKeys.begin(), kPluginStageKeys.end(), it.key()) == kPluginStageKeys.end()) {
          report(stage.pointer + "/" + it.key(), "unknown key '" + it.key() + "' in a plugin stage" +
                                                     config::did_you_mean(it.key(), kPluginStageKeys) +
                                                     "; plugin settings go under config:", true);
          keys_ok = false;
        }
      }
      if (!keys_ok) return false;
      auto plugin = load_plugin(stage.plugin, CONFLUX_KIND_TRANSFORM, "transform", stage.pointer);
      if (!plugin) return false;
      auto instance = instantiate(plugin, stage.config, stage.pointer, stage.name);
      if (!instance) return false;  // reported, or not created in check-only mode
      runtime.transform = instance->as_transform();
    } else {
      runtime.kind = stage.type;
      const auto& types = transforms::builtin_transform_types();
      if (std::find(types.begin(), types.end(), stage.type) == types.end()) {
        report(stage.pointer + "/type", "unknown stage type '" + stage.type + "'" + config::did_you_mean(stage.type, types));
        return false;
      }
      const nlohmann::json schemas = nlohmann::json::parse(transforms::builtin_transform_schemas().dump());
      if (schemas.contains(stage.type)) {
        auto compiled = JsonSchema::compile(schemas[stage.type], stage.type + " stage");
        if (compiled) {
          auto violations = (*compiled)->validate(stage.config);
          for (const auto& v : violations) {
            // An unknown key gets a suggestion drawn from the stage type's own keys.
            std::string message = v.message;
            if (v.message.find("could not be validated") != std::string::npos ||
                v.message.find("additional") != std::string::npos) {
              std::vector<std::string> known;
              if (schemas[stage.type].contains("properties")) {
                for (auto it = schemas[stage.type]["properties"].begin(); it != schemas[stage.type]["properties"].end(); ++it) {
                  known.push_back(it.key());
                }
              }
              known.insert(known.end(), {"name", "type", "on_invalid"});
              for (auto it = stage.config.begin(); it != stage.config.end(); ++it) {
                if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
                  report(stage.pointer + "/" + it.key(),
                         "unknown key '" + it.key() + "' in a " + stage.type + " stage" + config::did_you_mean(it.key(), known),
                         true);
                }
              }
              continue;
            }
            report(stage.pointer + v.pointer, stage.type + " stage: " + message);
          }
          if (!violations.empty()) return false;
        }
      }
      nlohmann::ordered_json stage_config = nlohmann::ordered_json::parse(stage.config.dump());
      if (stage.type == "identity") {
        // The identity graph lives in the pipeline's state database, namespaced by the pipeline's name.
        if (!stage_config.contains("graph")) stage_config["graph"] = config_.state_path;
        if (!stage_config.contains("graph_name")) stage_config["graph_name"] = config_.name;
      }
      auto made = transforms::make_transform(stage.type, stage_config);
      if (!made) {
        report(stage.pointer, "stage '" + stage.name + "': " + made.status().message());
        return false;
      }
      runtime.transform = std::move(made.value());
    }
    out.push_back(std::move(runtime));
    return true;
  }

  Result<crm::LocalCrmConfig> local_crm_config(const nlohmann::json& c, const std::string& pointer) {
    crm::LocalCrmConfig out;
    static const std::vector<std::string> kKeys = {"path", "entity", "match_key", "fallback_key", "mode", "fields"};
    bool ok = true;
    for (auto it = c.begin(); it != c.end(); ++it) {
      if (std::find(kKeys.begin(), kKeys.end(), it.key()) == kKeys.end()) {
        report(pointer + "/" + it.key(), "unknown key '" + it.key() + "' in local_crm config" +
                                             config::did_you_mean(it.key(), kKeys), true);
        ok = false;
      }
    }
    out.path = (std::filesystem::path(config_.directory) / ".conflux/crm.db").string();
    if (c.contains("path")) {
      if (c["path"].is_string() && !c["path"].get<std::string>().empty()) {
        out.path = c["path"].get<std::string>();
      } else {
        report(pointer + "/path", "local_crm path must be a non-empty file name");
        ok = false;
      }
    }
    if (c.contains("entity")) {
      auto entity = c["entity"].is_string() ? crm::parse_entity(c["entity"].get<std::string>()) : std::nullopt;
      if (!entity) {
        report(pointer + "/entity", "local_crm entity must be contact, company or deal");
        ok = false;
      } else {
        out.entity = *entity;
      }
    }
    if (c.contains("match_key")) {
      crm::MatchKey key;
      const auto& m = c["match_key"];
      bool all_strings = m.is_string() || (m.is_array() && !m.empty());
      if (m.is_string()) {
        key.fields.push_back(m.get<std::string>());
      } else if (m.is_array()) {
        for (const auto& f : m) {
          if (f.is_string()) key.fields.push_back(f.get<std::string>());
          else all_strings = false;
        }
      }
      if (key.fields.empty() || !all_strings) {
        report(pointer + "/match_key", "local_crm match_key must be a field name or a list of field names");
        ok = false;
      }
      out.match_key = key;
    }
    if (c.contains("fallback_key")) {
      if (!out.match_key) out.match_key = crm::default_match_key(out.entity);
      const auto& f = c["fallback_key"];
      if (f.is_string()) {
        out.match_key->fallback.push_back(f.get<std::string>());
      } else if (f.is_array()) {
        for (const auto& x : f) {
          if (!x.is_string()) {
            out.match_key->fallback.clear();
            break;
          }
          out.match_key->fallback.push_back(x.get<std::string>());
        }
      }
      if (out.match_key->fallback.empty()) {
        report(pointer + "/fallback_key", "local_crm fallback_key must be a field name or a list of field names");
        ok = false;
      }
    }
    if (c.contains("mode")) {
      auto mode = c["mode"].is_string() ? crm::parse_sync_mode(c["mode"].get<std::string>()) : std::nullopt;
      if (!mode) {
        report(pointer + "/mode", "local_crm mode must be upsert, update_only or insert_only");
        ok = false;
      } else {
        out.mode = *mode;
      }
    }
    if (c.contains("fields")) {
      const auto& fields = c["fields"];
      if (!fields.is_object()) {
        report(pointer + "/fields", "local_crm fields must map field names to overwrite, only_if_empty or never");
        ok = false;
      } else {
        for (auto it = fields.begin(); it != fields.end(); ++it) {
          auto rule = it.value().is_string() ? crm::parse_field_rule(it.value().get<std::string>()) : std::nullopt;
          if (!rule) {
            report(pointer + "/fields/" + it.key(), "the rule for field '" + it.key() +
                                                        "' must be overwrite, only_if_empty or never");
            ok = false;
          } else {
            out.field_rules[it.key()] = *rule;
          }
        }
      }
    }
    if (!ok) return failed_precondition("invalid local_crm config");
    return out;
  }

  // The built-in rest source: its config's own checks, the stream names the pipeline asks for, then the source.
  std::unique_ptr<engine::Source> rest_source(const config::SourceConfig& source) {
    std::vector<rest::ConfigProblem> problems;
    auto parsed = rest::parse_rest_config(source.config, config_.directory, problems);
    for (const auto& p : problems) {
      report(source.pointer + "/config" + p.pointer, "rest source '" + source.name + "': " + p.message, p.at_key);
    }
    if (!parsed) return nullptr;
    std::vector<std::string> offered;
    for (const auto& stream : parsed->streams) offered.push_back(stream.name);
    bool streams_ok = true;
    for (size_t i = 0; i < source.streams.size(); ++i) {
      if (std::find(offered.begin(), offered.end(), source.streams[i]) == offered.end()) {
        report(source.pointer + "/streams/" + std::to_string(i),
               "rest source '" + source.name + "' has no stream '" + source.streams[i] + "'" +
                   config::did_you_mean(source.streams[i], offered));
        streams_ok = false;
      }
    }
    if (!streams_ok || !options_.instantiate) return nullptr;
    rest::SourceOptions options;
    options.logger_name = config_.name + "/" + source.name + "/rest";
    options.cancel = options_.cancel;
    options.body_retries = config_.settings.retries;
    return rest::make_rest_source(std::move(*parsed), options);
  }

  Result<engine::Plan> build() {
    const size_t before = diagnostics_.size();
    engine::Plan plan;
    plan.pipeline = config_.name;
    plan.batch_size = config_.settings.batch_size;
    plan.threads = config_.settings.threads;

    for (const auto& source : config_.sources) {
      engine::SourceRuntime runtime;
      runtime.name = source.name;
      runtime.kind = source.type.empty() ? source.plugin : source.type;
      runtime.streams = source.streams;
      if (source.type == "rest") {
        runtime.source = rest_source(source);
      } else if (auto plugin = load_plugin(source.plugin, CONFLUX_KIND_SOURCE, "source", source.pointer)) {
        if (auto instance = instantiate(plugin, source.config, source.pointer, source.name)) {
          runtime.source = instance->as_source();
        }
        const auto& offered = plugin->manifest().streams;
        if (!offered.empty()) {
          for (size_t i = 0; i < source.streams.size(); ++i) {
            if (std::find(offered.begin(), offered.end(), source.streams[i]) == offered.end()) {
              report(source.pointer + "/streams/" + std::to_string(i),
                     "plugin '" + source.plugin + "' has no stream '" + source.streams[i] + "'" +
                         config::did_you_mean(source.streams[i], offered));
            }
          }
        }
      }
      for (const auto& stage : source.stages) build_stage(stage, runtime.stages);
      plan.sources.push_back(std::move(runtime));
    }
    for (const auto& stage : config_.stages) build_stage(stage, plan.stages);

    const config::SinkConfig& sink = config_.sink;
    plan.sink_name = sink.name;
    plan.sink_stream = sink.stream;
    plan.sink_sync.key = sink.sync_key;
    plan.sink_sync.skip_unchanged = sink.skip_unchanged;
    plan.sink_sync.record_results = sink.record_results;
    plan.sink_sync.mirror = sink.mirror;
    if (!sink.type.empty()) {
      plan.sink_kind = sink.type;
      auto crm_config = local_crm_config(sink.config, sink.pointer + "/config");
      if (crm_config && options_.instantiate) {
        if (options_.dry_run && !std::filesystem::exists(crm_config->path)) crm_config->path = ":memory:";
        auto crm = crm::open_local_crm(*crm_config);
        if (!crm) {
          report(sink.pointer + "/config", "sink '" + sink.name + "': " + crm.status().message());
        } else {
          plan.sink = std::move(crm.value());
        }
      }
    } else {
      plan.sink_kind = sink.plugin;
      if (auto plugin = load_plugin(sink.plugin, CONFLUX_KIND_SINK, "sink", sink.pointer)) {
        if (auto instance = instantiate(plugin, sink.config, sink.pointer, sink.name)) plan.sink = instance->as_sink();
      }
    }
    if (sink.mirror && plan.sink && !plan.sink->can_delete()) {
      report(sink.pointer + "/sync/mirror", "sink '" + sink.name + "' cannot delete records, so it cannot mirror; " +
                                                "mirror sync needs a sink that deletes (local_crm)");
    }
    if (diagnostics_.size() != before) {
      return failed_precondition(std::to_string(diagnostics_.size() - before) + " problem(s) in '" + config_.path + "'");
    }
    return plan;
  }

 private:
  const config::PipelineConfig& config_;
  plugin_host::PluginHost& host_;
  std::vector<config::Diagnostic>& diagnostics_;
  const BuildOptions& options_;
};

}  // namespace

Result<engine::Plan> build_plan(const config::PipelineConfig& config, plugin_host::PluginHost& host,
                                std::vector<config::Diagnostic>& diagnostics, const BuildOptions& options) {
  return Builder(config, host, diagnostics, options).build();
}

plugin_host::PluginHost make_plugin_host(const config::PipelineConfig& config) {
  return plugin_host::PluginHost(config.settings.plugin_dirs);
}

}  // namespace conflux::pipeline
