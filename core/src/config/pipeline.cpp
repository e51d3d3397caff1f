#include "conflux/config/pipeline.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "conflux/common/json_schema.hpp"

namespace conflux::config {

extern const char* const kPipelineSchemaText;

namespace fs = std::filesystem;

const char* on_invalid_name(OnInvalid value) {
  switch (value) {
    case OnInvalid::kDeadLetter: return "dead_letter";
    case OnInvalid::kDrop: return "drop";
    case OnInvalid::kFail: return "fail";
  }
  return "dead_letter";
}

const nlohmann::json& pipeline_schema() {
  static const nlohmann::json schema = nlohmann::json::parse(kPipelineSchemaText);
  return schema;
}

const std::vector<std::string>& builtin_sink_types() {
  static const std::vector<std::string> types = {"local_crm"};
  return types;
}

const std::vector<std::string>& builtin_source_types() {
  static const std::vector<std::string> types = {"rest"};
  return types;
}

namespace {

class Loader {
 public:
  Loader(YamlDocument& doc, std::vector<Diagnostic>& diagnostics) : doc_(doc), diagnostics_(diagnostics) {}

  void report(const std::string& pointer, const std::string& message, bool at_key = false) {
    diagnostics_.push_back({doc_.path, at_key ? doc_.locate_key(pointer) : doc_.locate(pointer), message});
  }

  // ${env:NAME} and ${file:PATH} anywhere in a string; "$${" stays a literal "${".
  void resolve_references(nlohmann::json& value, const std::string& pointer, std::vector<std::string>& secrets,
                          const fs::path& base) {
    if (value.is_object()) {
      for (auto it = value.begin(); it != value.end(); ++it) {
        resolve_references(it.value(), pointer_append(pointer, it.key()), secrets, base);
      }
    } else if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) {
        resolve_references(value[i], pointer_append(pointer, std::to_string(i)), secrets, base);
      }
    } else if (value.is_string()) {
      const std::string& text = value.get_ref<const std::string&>();
      if (text.find("${") == std::string::npos) return;
      std::string out;
      size_t i = 0;
      while (i < text.size()) {
        if (text.compare(i, 3, "$${") == 0) {
          out += "${";
          i += 3;
          continue;
        }
        if (text.compare(i, 2, "${") != 0) {
          out += text[i++];
          continue;
        }
        size_t close = text.find('}', i);
        if (close == std::string::npos) {
          report(pointer, "unterminated reference '" + text.substr(i) + "' (expected ${env:NAME} or ${file:PATH})");
          return;
        }
        std::string reference = text.substr(i + 2, close - i - 2);
        std::string resolved;
        if (reference.rfind("env:", 0) == 0) {
          std::string name = reference.substr(4);
          const char* env = std::getenv(name.c_str());
          if (env == nullptr) {
            report(pointer, "environment variable '" + name + "' is not set (referenced as ${env:" + name + "})");
            return;
          }
          resolved = env;
        } else if (reference.rfind("file:", 0) == 0) {
          fs::path file = reference.substr(5);
          if (file.is_relative()) file = base / file;
          std::ifstream in(file, std::ios::binary);
          if (!in) {
            report(pointer, "cannot read secret file '" + file.string() + "': " + std::strerror(errno));
            return;
          }
          std::stringstream buffer;
          buffer << in.rdbuf();
          resolved = buffer.str();
          while (!resolved.empty() && (resolved.back() == '\n' || resolved.back() == '\r')) resolved.pop_back();
        } else {
          report(pointer, "unknown reference '${" + reference + "}' (expected ${env:NAME} or ${file:PATH})");
          return;
        }
        if (!resolved.empty()) secrets.push_back(resolved);
        out += resolved;
        i = close + 1;
      }
      value = out;
    }
  }

  // Below a built-in source's config, what the pipeline schema does not allow, said the way check_keys says it:
  // unknown keys with a suggestion, and enum values with the nearest allowed one. Follows $ref, properties, items
  // and map values. Enum problems are shape problems (counted in `shape_problems`); every pointer reported goes to
  // `reported`, so the schema's own, vaguer message for it is dropped.
  void check_by_schema(const nlohmann::json& value, const nlohmann::json& node, const std::string& pointer,
                       const std::string& what, std::set<std::string>& reported, size_t& shape_problems) {
    const nlohmann::json* schema = &node;
    std::string name = what;
    while (schema->is_object() && schema->contains("$ref") && (*schema)["$ref"].is_string()) {
      const std::string ref = (*schema)["$ref"].get<std::string>();
      const std::string prefix = "#/definitions/";
      if (ref.rfind(prefix, 0) != 0 || !pipeline_schema()["definitions"].contains(ref.substr(prefix.size()))) return;
      const std::string definition = ref.substr(prefix.size());
      if (definition == "rest") name = "the rest source's config";
      else if (definition == "rest_stream") name = "a stream";
      schema = &pipeline_schema()["definitions"][definition];
    }
    if (!schema->is_object()) return;
    if (value.is_object() && schema->contains("properties")) {
      const nlohmann::json& properties = (*schema)["properties"];
      std::vector<std::string> known;
      for (auto it = properties.begin(); it != properties.end(); ++it) known.push_back(it.key());
      for (auto it = value.begin(); it != value.end(); ++it) {
        const std::string at = pointer_append(pointer, it.key());
        if (properties.contains(it.key())) {
          // An enum value is named after its object: "unknown paginator type 'ofset'".
          const bool leaf = properties[it.key()].is_object() && properties[it.key()].contains("enum");
          check_by_schema(it.value(), properties[it.key()], at, leaf ? what + " " + it.key() : it.key(), reported,
                          shape_problems);
        } else if (schema->value("additionalProperties", nlohmann::json(true)) == false) {
          report(at, "unknown key '" + it.key() + "' in " + name + did_you_mean(it.key(), known), true);
          reported.insert(at);
        }
      }
    } else if (value.is_object() && schema->contains("additionalProperties") &&
               (*schema)["additionalProperties"].is_object()) {
      for (auto it = value.begin(); it != value.end(); ++it) {
        check_by_schema(it.value(), (*schema)["additionalProperties"], pointer_append(pointer, it.key()), it.key(),
                        reported, shape_problems);
      }
    } else if (value.is_array() && schema->contains("items")) {
      for (size_t i = 0; i < value.size(); ++i) {
        check_by_schema(value[i], (*schema)["items"], pointer_append(pointer, std::to_string(i)), name, reported,
                        shape_problems);
      }
    } else if (value.is_string() && schema->contains("enum") && (*schema)["enum"].is_array()) {
      std::vector<std::string> allowed;
      for (const auto& e : (*schema)["enum"]) {
        if (e.is_string()) allowed.push_back(e.get<std::string>());
      }
      const std::string text = value.get<std::string>();
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), text) == allowed.end()) {
        std::string list;
        for (size_t i = 0; i < allowed.size(); ++i) list += (i ? ", " : "") + allowed[i];
        report(pointer, "unknown " + name + " '" + text + "'" + did_you_mean(text, allowed) + "; one of: " + list);
        reported.insert(pointer);
        ++shape_problems;
      }
    }
  }

  // Unknown keys with a suggestion; the schema then checks types and required keys.
  void check_keys(const nlohmann::json& object, const std::string& pointer, const std::vector<std::string>& known,
                  const std::string& what) {
    if (!object.is_object()) return;
    for (auto it = object.begin(); it != object.end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
        report(pointer_append(pointer, it.key()), "unknown key '" + it.key() + "' in " + what + did_you_mean(it.key(), known),
               true);
      }
    }
  }

 private:
  YamlDocument& doc_;
  std::vector<Diagnostic>& diagnostics_;
};

OnInvalid parse_on_invalid(const nlohmann::json& stage) {
  std::string value = stage.value("on_invalid", "dead_letter");
  if (value == "drop") return OnInvalid::kDrop;
  if (value == "fail") return OnInvalid::kFail;
  return OnInvalid::kDeadLetter;
}

bool is_path_key(const std::string& key) {
  auto ends_with = [&](const char* suffix) {
    size_t n = std::strlen(suffix);
    return key.size() >= n && key.compare(key.size() - n, n, suffix) == 0;
  };
  return key == "path" || ends_with("_path") || ends_with("_file") || ends_with("_dir");
}

// Relative paths in plugin and stage configs resolve against the pipeline file's directory (keys named path or
// ending in _path, _file, _dir), so a pipeline runs the same from any working directory.
void resolve_config_paths(nlohmann::json& config, const fs::path& base) {
  if (!config.is_object()) return;
  for (auto it = config.begin(); it != config.end(); ++it) {
    if (it.value().is_string() && is_path_key(it.key())) {
      fs::path p = it.value().get<std::string>();
      if (!p.empty() && p.is_relative()) it.value() = (base / p).lexically_normal().string();
    }
  }
}

StageConfig make_stage(const nlohmann::json& stage, const std::string& pointer, const fs::path& base) {
  StageConfig out;
  out.pointer = pointer;
  out.name = stage.value("name", "");
  out.type = stage.value("type", "");
  out.plugin = stage.value("plugin", "");
  out.on_invalid = parse_on_invalid(stage);
  if (!out.plugin.empty()) {
    out.config = stage.value("config", nlohmann::json::object());
  } else {
    for (auto it = stage.begin(); it != stage.end(); ++it) {
      if (it.key() != "name" && it.key() != "type" && it.key() != "on_invalid") out.config[it.key()] = it.value();
    }
  }
  resolve_config_paths(out.config, base);
  return out;
}

}  // namespace

Result<PipelineConfig> load_pipeline(const std::string& path, std::vector<Diagnostic>& diagnostics) {
  const size_t diagnostics_before = diagnostics.size();
  auto failed = [&]() -> Result<PipelineConfig> {
    return failed_precondition(std::to_string(diagnostics.size() - diagnostics_before) + " problem(s) in '" + path + "'");
  };

  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  Result<YamlDocument> loaded = load_yaml_file(absolute.string());
  if (!loaded) {
    diagnostics.push_back({"", {}, loaded.status().message()});
    return failed();
  }
  PipelineConfig config;
  config.document = std::move(loaded.value());
  config.path = absolute.string();
  config.directory = absolute.parent_path().string();
  const fs::path base = config.directory;
  YamlDocument& doc = config.document;
  Loader loader(doc, diagnostics);

  if (!doc.root.is_object()) {
    loader.report("", "a pipeline file must be a mapping with version, pipeline, sources and sink");
    return failed();
  }

  loader.resolve_references(doc.root, "", config.secrets, base);

  loader.check_keys(doc.root, "", {"version", "pipeline", "description", "state", "settings", "sources", "stages", "sink"},
                    "the pipeline");
  if (doc.root.contains("state")) loader.check_keys(doc.root["state"], "/state", {"path"}, "state");
  if (doc.root.contains("settings")) {
    loader.check_keys(doc.root["settings"], "/settings",
                      {"batch_size", "plugin_dirs", "call_timeout_seconds", "retries", "threads"}, "settings");
  }
  if (doc.root.contains("sources") && doc.root["sources"].is_array()) {
    for (size_t i = 0; i < doc.root["sources"].size(); ++i) {
      loader.check_keys(doc.root["sources"][i], "/sources/" + std::to_string(i),
                        {"name", "type", "plugin", "config", "streams", "stages"}, "a source");
    }
  }
  if (doc.root.contains("sink")) {
    loader.check_keys(doc.root["sink"], "/sink", {"name", "type", "plugin", "config", "stream", "sync"}, "the sink");
  }
  // Built-in sources' configs are part of the pipeline schema: their keys and enum values get the same treatment.
  std::set<std::string> reported;
  size_t enum_problems = 0;
  if (doc.root.contains("sources") && doc.root["sources"].is_array()) {
    for (size_t i = 0; i < doc.root["sources"].size(); ++i) {
      const nlohmann::json& s = doc.root["sources"][i];
      if (!s.is_object() || s.value("type", nlohmann::json()) != "rest" || !s.contains("config")) continue;
      loader.check_by_schema(s["config"], {{"$ref", "#/definitions/rest"}}, "/sources/" + std::to_string(i) + "/config",
                             "config", reported, enum_problems);
    }
  }

  static const auto schema = JsonSchema::compile(pipeline_schema(), "pipeline.schema.json");
  if (!schema) return schema.status();
  const size_t shape_problems_before = diagnostics.size();
  for (const SchemaViolation& v : (*schema)->validate(doc.root)) {
    // Unknown keys were reported above with a suggestion; the schema's version of that message adds nothing.
    if (v.message.find("could not be validated") != std::string::npos || reported.count(v.pointer)) continue;
    loader.report(v.pointer, v.message);
  }
  // Unknown keys and unresolved references leave a usable shape, so later checks still run and report too; a schema
  // violation (wrong type, missing key, a value not in an enum) does not.
  if (diagnostics.size() != shape_problems_before || enum_problems > 0) return failed();

  const nlohmann::json& root = doc.root;
  config.name = root["pipeline"].get<std::string>();
  config.description = root.value("description", "");
  fs::path state_path = ".conflux/state.db";
  if (root.contains("state") && root["state"].contains("path")) state_path = root["state"]["path"].get<std::string>();
  config.state_path = (state_path.is_relative() ? base / state_path : state_path).lexically_normal().string();

  if (root.contains("settings")) {
    const nlohmann::json& s = root["settings"];
    config.settings.batch_size = s.value("batch_size", config.settings.batch_size);
    config.settings.call_timeout_seconds = s.value("call_timeout_seconds", config.settings.call_timeout_seconds);
    config.settings.retries = s.value("retries", config.settings.retries);
    config.settings.threads = s.value("threads", config.settings.threads);
    for (const auto& dir : s.value("plugin_dirs", nlohmann::json::array())) {
      fs::path p = dir.get<std::string>();
      config.settings.plugin_dirs.push_back((p.is_relative() ? base / p : p).lexically_normal().string());
    }
  }

  std::set<std::string> names;
  auto claim_name = [&](const std::string& name, const std::string& pointer) {
    if (!names.insert(name).second) {
      loader.report(pointer + "/name", "duplicate name '" + name + "': sources, stages and the sink need unique names");
    }
  };
  for (size_t i = 0; i < root["sources"].size(); ++i) {
    const nlohmann::json& s = root["sources"][i];
    const std::string pointer = "/sources/" + std::to_string(i);
    SourceConfig source;
    source.pointer = pointer;
    source.name = s["name"].get<std::string>();
    source.type = s.value("type", "");
    source.plugin = s.value("plugin", "");
    source.config = s.value("config", nlohmann::json::object());
    resolve_config_paths(source.config, base);
    for (const auto& stream : s.value("streams", nlohmann::json::array())) source.streams.push_back(stream.get<std::string>());
    claim_name(source.name, pointer);
    const nlohmann::json stages = s.value("stages", nlohmann::json::array());
    for (size_t j = 0; j < stages.size(); ++j) {
      const std::string stage_pointer = pointer + "/stages/" + std::to_string(j);
      source.stages.push_back(make_stage(stages[j], stage_pointer, base));
      claim_name(source.stages.back().name, stage_pointer);
    }
    config.sources.push_back(std::move(source));
  }
  const nlohmann::json stages = root.value("stages", nlohmann::json::array());
  for (size_t j = 0; j < stages.size(); ++j) {
    const std::string stage_pointer = "/stages/" + std::to_string(j);
    config.stages.push_back(make_stage(stages[j], stage_pointer, base));
    claim_name(config.stages.back().name, stage_pointer);
  }
  const nlohmann::json& sink = root["sink"];
  config.sink.pointer = "/sink";
  config.sink.name = sink["name"].get<std::string>();
  config.sink.type = sink.value("type", "");
  config.sink.plugin = sink.value("plugin", "");
  config.sink.config = sink.value("config", nlohmann::json::object());
  config.sink.stream = sink.value("stream", "");
  if (sink.contains("sync")) {
    const nlohmann::json& sync = sink["sync"];
    const nlohmann::json& sync_key = sync["key"];
    if (sync_key.is_string()) {
      config.sink.sync_key.push_back(sync_key.get<std::string>());
    } else {
      for (const auto& part : sync_key) config.sink.sync_key.push_back(part.get<std::string>());
    }
    config.sink.skip_unchanged = sync.value("skip_unchanged", true);
    config.sink.record_results = sync.value("results", true);
    config.sink.mirror = sync.value("mirror", false);
  }
  resolve_config_paths(config.sink.config, base);
  claim_name(config.sink.name, "/sink");

  return config;
}

}  // namespace conflux::config
