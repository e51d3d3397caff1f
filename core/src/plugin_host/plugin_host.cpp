#include "conflux/plugin_host/plugin_host.hpp"

#include <dlfcn.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "call_thread.hpp"
#include "conflux/common/logging.hpp"
#include "handles.hpp"

namespace conflux::plugin_host {

namespace fs = std::filesystem;

std::string PluginManifest::kinds_text() const {
  std::string out;
  auto add = [&](const char* k) { out += out.empty() ? k : std::string(", ") + k; };
  if (is_source()) add("source");
  if (is_sink()) add("sink");
  if (is_transform()) add("transform");
  return out.empty() ? "none" : out;
}

namespace {

constexpr const char* kPluginPrefix = "conflux-";
constexpr const char* kPluginSuffix = ".so";

std::string version_text(uint32_t v) { return std::to_string(v >> 16) + "." + std::to_string(v & 0xffffu); }

// "plugin file '<path>': <problem>" - the one-line shape of every load error.
Status load_error(const std::string& path, const std::string& problem) {
  return failed_precondition("plugin file '" + path + "': " + problem);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// PluginHost

PluginHost::PluginHost(std::vector<std::string> extra_dirs) : search_dirs_(std::move(extra_dirs)) {
  if (const char* env = std::getenv("CONFLUX_PLUGIN_PATH")) {
    std::stringstream paths(env);
    std::string dir;
    while (std::getline(paths, dir, ':')) {
      if (!dir.empty()) search_dirs_.push_back(dir);
    }
  }
  search_dirs_.push_back(CONFLUX_BUILD_PLUGIN_DIR);
  search_dirs_.push_back(CONFLUX_INSTALL_PLUGIN_DIR);
}

std::string PluginHost::find(const std::string& name) const {
  for (const std::string& dir : search_dirs_) {
    fs::path candidate = fs::path(dir) / (kPluginPrefix + name + kPluginSuffix);
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
  }
  return {};
}

std::vector<std::string> PluginHost::available() const {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const std::string& dir : search_dirs_) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string file = it->path().filename().string();
      if (file.rfind(kPluginPrefix, 0) != 0 || file.size() <= std::strlen(kPluginPrefix) + 3 ||
          file.compare(file.size() - 3, 3, kPluginSuffix) != 0) {
        continue;
      }
      std::string name = file.substr(std::strlen(kPluginPrefix), file.size() - std::strlen(kPluginPrefix) - 3);
      if (seen.insert(name).second) names.push_back(name);
    }
  }
  return names;
}

Result<std::shared_ptr<LoadedPlugin>> PluginHost::load(const std::string& name) {
  for (const auto& [cached_name, plugin] : cache_) {
    if (cached_name == name) return plugin;
  }
  std::string path = find(name);
  if (path.empty()) {
    std::string dirs;
    for (const auto& d : search_dirs_) dirs += (dirs.empty() ? "" : ", ") + d;
    return not_found("no plugin named '" + name + "' (looked for " + kPluginPrefix + name + kPluginSuffix + " in " +
                     dirs + ")");
  }
  auto loaded = load_file(path);
  if (!loaded) return loaded.status();
  if ((*loaded)->manifest().name != name) {
    return load_error(path, "describes itself as '" + (*loaded)->manifest().name + "' but its file name says '" + name +
                                "'");
  }
  cache_.emplace_back(name, *loaded);
  return loaded;
}

Result<std::shared_ptr<LoadedPlugin>> PluginHost::load_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return load_error(path, "does not exist");
  // RTLD_LOCAL keeps each plugin's symbols to itself; RTLD_NOW surfaces missing symbols here, not mid-run.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return load_error(path, std::string("cannot be loaded: ") + (err ? err : "unknown dlopen error"));
  }
  auto close = [&] { dlclose(handle); };

  auto abi_version_fn =
      reinterpret_cast<conflux_plugin_abi_version_fn>(dlsym(handle, CONFLUX_PLUGIN_ABI_VERSION_SYMBOL));
  auto describe_fn = reinterpret_cast<conflux_plugin_describe_fn>(dlsym(handle, CONFLUX_PLUGIN_DESCRIBE_SYMBOL));
  if (abi_version_fn == nullptr || describe_fn == nullptr) {
    close();
    return load_error(path, std::string("missing entry symbol '") +
                                (abi_version_fn == nullptr ? CONFLUX_PLUGIN_ABI_VERSION_SYMBOL
                                                           : CONFLUX_PLUGIN_DESCRIBE_SYMBOL) +
                                "' (is it a Conflux plugin built with CONFLUX_PLUGIN(...)?)");
  }

  uint32_t version = 0;
  const conflux_plugin* described = nullptr;
  try {
    version = abi_version_fn();
  } catch (...) {
    close();
    return load_error(path, "threw an exception from conflux_plugin_abi_version");
  }
  if ((version >> 16) != CONFLUX_ABI_VERSION_MAJOR) {
    close();
    return load_error(path, "built for plugin ABI " + version_text(version) + ", but this host speaks ABI " +
                                version_text(CONFLUX_ABI_VERSION) + " (major versions must match; rebuild the plugin)");
  }
  if ((version & 0xffffu) > CONFLUX_ABI_VERSION_MINOR) {
    close();
    return load_error(path, "built for plugin ABI " + version_text(version) + ", newer than this host's " +
                                version_text(CONFLUX_ABI_VERSION) + " (upgrade conflux or rebuild the plugin)");
  }
  try {
    described = describe_fn(&host_api());
  } catch (...) {
    close();
    return load_error(path, "threw an exception from conflux_plugin_describe");
  }
  if (described == nullptr) {
    close();
    return load_error(path, "conflux_plugin_describe returned NULL (the plugin refused to load)");
  }
  if (described->struct_size < offsetof(conflux_plugin, create)) {
    close();
    return load_error(path, "conflux_plugin.struct_size " + std::to_string(described->struct_size) +
                                " is too small to hold even the plugin's name and kinds");
  }
  if (described->struct_size > sizeof(conflux_plugin)) {
    close();
    return load_error(path, "conflux_plugin.struct_size " + std::to_string(described->struct_size) +
                                " is larger than this host's " + std::to_string(sizeof(conflux_plugin)) +
                                " (the plugin claims an older ABI than it was built with)");
  }

  auto plugin = std::shared_ptr<LoadedPlugin>(new LoadedPlugin());
  plugin->handle_ = handle;
  // An older plugin's smaller struct: copy what it has; members it lacks stay NULL ("not provided").
  std::memcpy(&plugin->definition_, described, described->struct_size);
  const conflux_plugin& def = plugin->definition_;
  PluginManifest& m = plugin->manifest_;
  m.path = path;
  m.abi_version = version;
  m.name = def.name ? def.name : "";
  m.version = def.version ? def.version : "";
  m.description = def.description ? def.description : "";
  m.kinds = def.kinds;
  if (m.name.empty()) return load_error(path, "describes no name");
  if (def.create == nullptr || def.destroy == nullptr) return load_error(path, "has no create/destroy callbacks");
  if (m.is_source() && (def.open_stream == nullptr || def.read_batch == nullptr || def.close_stream == nullptr)) {
    return load_error(path, "declares kind source but lacks open_stream/read_batch/close_stream");
  }
  if (m.is_sink() && def.write_batch == nullptr) return load_error(path, "declares kind sink but lacks write_batch");
  if (m.is_transform() && def.transform_batch == nullptr) {
    return load_error(path, "declares kind transform but lacks transform_batch");
  }
  if (m.kinds == 0) return load_error(path, "declares no kind (source, sink or transform)");

  std::string schema_text = def.config_schema ? def.config_schema : "{\"type\":\"object\"}";
  m.config_schema = nlohmann::json::parse(schema_text, nullptr, false);
  if (m.config_schema.is_discarded()) return load_error(path, "config_schema is not valid JSON");
  auto schema = JsonSchema::compile(m.config_schema, m.name + " config");
  if (!schema) return load_error(path, schema.status().message());
  plugin->schema_ = *schema;
  if (def.streams != nullptr) {
    nlohmann::json streams = nlohmann::json::parse(def.streams, nullptr, false);
    if (!streams.is_array()) return load_error(path, "streams is not a JSON array of names");
    for (const auto& s : streams) {
      if (!s.is_string()) return load_error(path, "streams is not a JSON array of names");
      m.streams.push_back(s.get<std::string>());
    }
  }
  return plugin;
}

// ---------------------------------------------------------------------------------------------------------------
// LoadedPlugin

LoadedPlugin::~LoadedPlugin() {
  // A plugin whose call never returned may still be running its code: never unmap it.
  if (handle_ != nullptr && !any_plugin_abandoned()) dlclose(handle_);
}

std::vector<SchemaViolation> LoadedPlugin::check_config(const nlohmann::json& config) const {
  return schema_->validate(config);
}

struct PluginInstance::Impl {
  std::shared_ptr<LoadedPlugin> plugin;
  conflux_host_context context;
  conflux_instance* instance = nullptr;
  InstanceOptions options;
  CallThread calls;

  std::string what(const char* call) const {
    return "plugin '" + plugin->manifest().name + "' (" + plugin->manifest().path + "): " + call;
  }

  // Runs one plugin callback on the call thread, fenced, with the deadline; maps its code to a Status.
  Status invoke(const char* call, const std::function<conflux_code(conflux_error*)>& fn) {
    conflux_error error;
    conflux_code code = CONFLUX_OK;
    bool threw = false;
    Status ran = calls.run(
        [&] {
          try {
            code = fn(&error);
          } catch (...) {
            threw = true;  // an exception crossed the C ABI: caught here, never propagated further
          }
        },
        options.call_timeout_seconds, what(call));
    if (!ran.is_ok()) return ran;
    if (threw) return internal_error(what(call) + " threw a C++ exception across the plugin ABI");
    std::string message = error.message.empty() ? std::string("(no message)") : error.message;
    switch (code) {
      case CONFLUX_OK:
      case CONFLUX_END: return Status::ok();
      case CONFLUX_ERR_RETRY: return unavailable(what(call) + " failed (retryable): " + message);
      case CONFLUX_ERR_RECORD: return invalid_record(what(call) + " rejected a record: " + message);
      case CONFLUX_ERR_CONFIG: return failed_precondition(what(call) + " failed (fix the configuration): " + message);
      case CONFLUX_ERR_FATAL: return internal_error(what(call) + " failed: " + message);
      case CONFLUX_ERR_TIMEOUT: return deadline_exceeded(what(call) + " timed out: " + message);
      case CONFLUX_ERR_QUOTA: return resource_exhausted(what(call) + " stopped (platform quota used up): " + message);
      default: return internal_error(what(call) + " returned unknown code " + std::to_string(code) + ": " + message);
    }
  }

  // invoke() with retries and exponential back-off for retryable failures; `reset` undoes partial output first.
  Status invoke_with_retry(const char* call, const std::function<conflux_code(conflux_error*)>& fn,
                           const std::function<void()>& reset, conflux_code* code_out = nullptr) {
    double delay = 0.5;
    for (int attempt = 0;; ++attempt) {
      conflux_code code = CONFLUX_OK;
      Status status = invoke(call, [&](conflux_error* e) { return code = fn(e); });
      if (code_out) *code_out = code;
      bool hung = calls.abandoned();
      if (status.is_ok() || !status.retryable() || hung || attempt >= options.retries) return status;
      if (options.cancelled && options.cancelled->load()) return status;
      logging::get(options.logger_name)->warn("{} (attempt {} of {}), retrying in {} s", status.message(), attempt + 1,
                                              options.retries + 1, delay);
      reset();
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
      delay *= 2;
    }
  }

  ~Impl() {
    if (instance != nullptr && !calls.abandoned()) {
      auto destroy = plugin->definition().destroy;
      conflux_instance* inst = instance;
      (void)calls.run([&] { try { destroy(inst); } catch (...) {} }, options.call_timeout_seconds, what("destroy"));
    }
  }
};

Result<std::shared_ptr<PluginInstance>> LoadedPlugin::instantiate(const nlohmann::json& config,
                                                                  const InstanceOptions& options) {
  std::vector<SchemaViolation> violations = check_config(config);
  if (!violations.empty()) {
    return failed_precondition("plugin '" + manifest_.name + "' config is invalid: " + join_violations(violations));
  }
  auto instance = std::shared_ptr<PluginInstance>(new PluginInstance());
  instance->plugin_ = shared_from_this();
  instance->impl_ = std::make_unique<PluginInstance::Impl>();
  PluginInstance::Impl& impl = *instance->impl_;
  impl.plugin = shared_from_this();
  impl.options = options;
  impl.context.logger = logging::get(options.logger_name.empty() ? manifest_.name : options.logger_name);
  impl.context.cancelled = options.cancelled;
  const std::string text = config.dump();
  Status created = impl.invoke("create", [&](conflux_error* e) {
    return definition_.create(&impl.context, text.data(), text.size(), &impl.instance, e);
  });
  if (!created.is_ok()) return created;
  if (impl.instance == nullptr) return internal_error(impl.what("create") + " returned OK but no instance");
  return instance;
}

// ---------------------------------------------------------------------------------------------------------------
// PluginInstance

PluginInstance::~PluginInstance() = default;

Status PluginInstance::check() {
  const conflux_plugin& def = plugin_->definition();
  if (def.check == nullptr) return Status::ok();
  return impl_->invoke("check", [&](conflux_error* e) { return def.check(impl_->instance, e); });
}

Result<std::string> PluginInstance::discover() {
  const conflux_plugin& def = plugin_->definition();
  if (def.discover == nullptr) {
    nlohmann::json catalog = {{"streams", nlohmann::json::array()}};
    for (const auto& s : manifest().streams) catalog["streams"].push_back({{"name", s}});
    return catalog.dump();
  }
  conflux_text text;
  Status s = impl_->invoke("discover", [&](conflux_error* e) { return def.discover(impl_->instance, &text, e); });
  if (!s.is_ok()) return s;
  // A catalog without streams from a plugin that declared some: list the declared ones rather than nothing.
  nlohmann::json catalog = nlohmann::json::parse(text.value, nullptr, false);
  if (catalog.is_discarded() || !catalog.is_object()) {
    return internal_error(impl_->what("discover") + " returned text that is not a JSON object");
  }
  if ((!catalog.contains("streams") || catalog["streams"].empty()) && !manifest().streams.empty()) {
    catalog["streams"] = nlohmann::json::array();
    for (const auto& name : manifest().streams) catalog["streams"].push_back({{"name", name}});
  }
  return catalog.dump();
}

namespace {

class PluginSourceStream : public engine::SourceStream {
 public:
  PluginSourceStream(std::shared_ptr<PluginInstance> owner, PluginInstance::Impl* impl, conflux_stream* stream)
      : owner_(std::move(owner)), impl_(impl), stream_(stream) {}
  ~PluginSourceStream() override {
    if (stream_ != nullptr && !impl_->calls.abandoned()) {
      auto close = impl_->plugin->definition().close_stream;
      (void)impl_->calls.run([&] { try { close(stream_); } catch (...) {} }, impl_->options.call_timeout_seconds,
                             impl_->what("close_stream"));
    }
  }

  Status read(size_t max_records, engine::SourceBatch& out) override {
    const size_t records_before = out.records.size();
    const size_t invalid_before = out.invalid.size();
    out.records.reserve(records_before + std::min<size_t>(max_records, 65536));
    conflux_emitter emitter;
    emitter.mode = conflux_emitter::Mode::kSource;
    emitter.source_batch = &out;
    auto read_batch = impl_->plugin->definition().read_batch;
    conflux_code code = CONFLUX_OK;
    Status status = impl_->invoke_with_retry(
        "read_batch", [&](conflux_error* e) { return read_batch(stream_, max_records, &emitter, e); },
        [&] {
          out.records.resize(records_before);
          out.invalid.resize(invalid_before);
          out.cursor.reset();
          emitter = conflux_emitter();
          emitter.mode = conflux_emitter::Mode::kSource;
          emitter.source_batch = &out;
        },
        &code);
    if (!status.is_ok()) {
      out.records.resize(records_before);
      out.invalid.resize(invalid_before);
      out.cursor.reset();
      return status;
    }
    if (!emitter.misuse.empty()) return internal_error(impl_->what("read_batch") + " broke the ABI contract: " + emitter.misuse);
    if (emitter.open) return internal_error(impl_->what("read_batch") + " returned with a record still open");
    out.end = code == CONFLUX_END;
    return Status::ok();
  }

 private:
  std::shared_ptr<PluginInstance> owner_;
  PluginInstance::Impl* impl_;
  conflux_stream* stream_;
};

class PluginSource : public engine::Source {
 public:
  PluginSource(std::shared_ptr<PluginInstance> owner, PluginInstance::Impl* impl) : owner_(std::move(owner)), impl_(impl) {}

  Result<std::vector<std::string>> streams() override {
    if (!owner_->manifest().streams.empty()) return owner_->manifest().streams;
    auto catalog = owner_->discover();
    if (!catalog) return catalog.status();
    nlohmann::json parsed = nlohmann::json::parse(*catalog, nullptr, false);
    std::vector<std::string> names;
    if (parsed.is_object() && parsed.contains("streams") && parsed["streams"].is_array()) {
      for (const auto& s : parsed["streams"]) {
        if (s.is_object() && s.contains("name") && s["name"].is_string()) names.push_back(s["name"].get<std::string>());
      }
    }
    if (names.empty()) return failed_precondition(impl_->what("discover") + " reported no streams");
    return names;
  }

  Result<std::unique_ptr<engine::SourceStream>> open(const std::string& stream, const std::string& cursor) override {
    conflux_stream* handle = nullptr;
    auto open_stream = impl_->plugin->definition().open_stream;
    Status status = impl_->invoke_with_retry(
        "open_stream",
        [&](conflux_error* e) {
          return open_stream(impl_->instance, stream.data(), stream.size(), cursor.data(), cursor.size(), &handle, e);
        },
        [] {});
    if (!status.is_ok()) return status;
    if (handle == nullptr) return internal_error(impl_->what("open_stream") + " returned OK but no stream");
    return std::unique_ptr<engine::SourceStream>(new PluginSourceStream(owner_, impl_, handle));
  }

  Status check() override { return owner_->check(); }
  Result<std::string> discover() override { return owner_->discover(); }

 private:
  std::shared_ptr<PluginInstance> owner_;
  PluginInstance::Impl* impl_;
};

class PluginSink : public engine::Sink {
 public:
  PluginSink(std::shared_ptr<PluginInstance> owner, PluginInstance::Impl* impl) : owner_(std::move(owner)), impl_(impl) {}

  Status write(const std::string& stream, const std::vector<Record>& records,
               std::vector<engine::WriteResult>& results) override {
    results.assign(records.size(), engine::WriteResult{});
    conflux_batch batch{&stream, &records};
    conflux_results handle;
    handle.results = &results;
    handle.seen.assign(records.size(), 0);
    auto write_batch = impl_->plugin->definition().write_batch;
    Status status = impl_->invoke_with_retry(
        "write_batch", [&](conflux_error* e) { return write_batch(impl_->instance, &batch, &handle, e); },
        [&] {
          results.assign(records.size(), engine::WriteResult{});
          handle.seen.assign(records.size(), 0);
          handle.misuse.clear();
        });
    // CONFLUX_ERR_RECORD for a whole batch: the records the sink gave no outcome are its fault, not the run's.
    std::string batch_reason;
    if (status.code() == StatusCode::kInvalidRecord) {
      batch_reason = status.message();
      status = Status::ok();
    }
    if (!status.is_ok()) return status;
    if (!handle.misuse.empty()) return internal_error(impl_->what("write_batch") + " broke the ABI contract: " + handle.misuse);
    for (size_t i = 0; i < records.size(); ++i) {
      if (!handle.seen[i]) {
        results[i] = {engine::WriteOutcome::kRejected,
                      batch_reason.empty() ? "sink plugin reported no outcome for this record" : batch_reason};
      }
    }
    return Status::ok();
  }

  Status flush() override {
    auto flush = impl_->plugin->definition().flush;
    if (flush == nullptr) return Status::ok();
    return impl_->invoke_with_retry("flush", [&](conflux_error* e) { return flush(impl_->instance, e); }, [] {});
  }

  Status check() override { return owner_->check(); }

  bool can_delete() const override { return delete_batch() != nullptr; }

  // Sends the keys in batches of the engine's usual size; the first rejected delete fails the mirror step, so the
  // ledger keeps every key and the next mirror run tries again (keys already gone then come back UNCHANGED).
  Status remove(const std::vector<std::string>& key_fields, const std::vector<std::vector<std::string>>& keys,
                std::vector<bool>& deleted) override {
    auto call = delete_batch();
    if (call == nullptr) return failed_precondition(impl_->what("sink") + " cannot delete records (no delete_batch)");
    static const std::string kStream;
    constexpr size_t kDeleteBatch = 500;
    deleted.assign(keys.size(), false);
    for (size_t begin = 0; begin < keys.size(); begin += kDeleteBatch) {
      const size_t end = std::min(keys.size(), begin + kDeleteBatch);
      std::vector<Record> records(end - begin);
      for (size_t i = begin; i < end; ++i) {
        for (size_t f = 0; f < key_fields.size() && f < keys[i].size(); ++f) {
          records[i - begin].set(key_fields[f], Value::string(keys[i][f]));
        }
        records[i - begin].set_position(i);
      }
      std::vector<engine::WriteResult> results;
      conflux_batch batch{&kStream, &records};
      conflux_results handle;
      handle.results = &results;
      handle.deleting = true;
      auto reset = [&] {
        results.assign(records.size(), engine::WriteResult{});
        handle.seen.assign(records.size(), 0);
        handle.misuse.clear();
      };
      reset();
      CONFLUX_RETURN_IF_ERROR(impl_->invoke_with_retry(
          "delete_batch", [&](conflux_error* e) { return call(impl_->instance, &batch, &handle, e); }, reset));
      if (!handle.misuse.empty()) {
        return internal_error(impl_->what("delete_batch") + " broke the ABI contract: " + handle.misuse);
      }
      for (size_t i = 0; i < records.size(); ++i) {
        if (!handle.seen[i]) return internal_error(impl_->what("delete_batch") + " reported no outcome for a record");
        if (results[i].outcome == engine::WriteOutcome::kRejected) {
          return failed_precondition("the target refused to delete a record: " + results[i].message);
        }
        deleted[begin + i] = results[i].outcome == engine::WriteOutcome::kUpdated;  // kUpdated marks DELETED
      }
    }
    return Status::ok();
  }

 private:
  // ABI 1.2 member: null for plugins whose conflux_plugin predates it (the host zero-fills what they did not give).
  decltype(conflux_plugin::delete_batch) delete_batch() const { return impl_->plugin->definition().delete_batch; }

  std::shared_ptr<PluginInstance> owner_;
  PluginInstance::Impl* impl_;
};

class PluginTransform : public engine::Transform {
 public:
  PluginTransform(std::shared_ptr<PluginInstance> owner, PluginInstance::Impl* impl) : owner_(std::move(owner)), impl_(impl) {}

  Status apply(std::vector<Record>& records, std::vector<engine::Rejected>& rejected) override {
    static const std::string kStream;
    conflux_batch batch{&kStream, &records};
    conflux_emitter emitter;
    auto reset = [&] {
      emitter = conflux_emitter();
      emitter.mode = conflux_emitter::Mode::kTransform;
      emitter.input_count = records.size();
    };
    reset();
    auto transform_batch = impl_->plugin->definition().transform_batch;
    Status status = impl_->invoke_with_retry(
        "transform_batch", [&](conflux_error* e) { return transform_batch(impl_->instance, &batch, &emitter, e); }, reset);
    // CONFLUX_ERR_RECORD for a whole batch: inputs without an outcome are invalid records, the run goes on.
    std::string batch_reason = "transform plugin gave no outcome for this record";
    if (status.code() == StatusCode::kInvalidRecord) {
      batch_reason = status.message();
      status = Status::ok();
    }
    if (!status.is_ok()) return status;
    if (!emitter.misuse.empty()) {
      return internal_error(impl_->what("transform_batch") + " broke the ABI contract: " + emitter.misuse);
    }
    // Exactly one outcome per input record; a record without one is dead-lettered, never lost.
    std::vector<int8_t> outcome(records.size(), 0);
    for (const auto& [index, record] : emitter.outputs) outcome[index]++;
    for (const auto& reject : emitter.rejects) outcome[reject.index]++;
    for (size_t i = 0; i < outcome.size(); ++i) {
      if (outcome[i] > 1) {
        return internal_error(impl_->what("transform_batch") + " gave input record " + std::to_string(i) +
                              " more than one outcome");
      }
    }
    std::vector<Record> kept;
    kept.reserve(emitter.outputs.size());
    for (auto& [index, record] : emitter.outputs) {
      record.set_position(records[index].position());
      kept.push_back(std::move(record));
    }
    for (auto& reject : emitter.rejects) {
      rejected.push_back({std::move(records[reject.index]), std::move(reject.reason), reject.invalid});
    }
    for (size_t i = 0; i < outcome.size(); ++i) {
      if (outcome[i] == 0) {
        rejected.push_back({std::move(records[i]), batch_reason, true});
      }
    }
    records = std::move(kept);
    return Status::ok();
  }

 private:
  std::shared_ptr<PluginInstance> owner_;
  PluginInstance::Impl* impl_;
};

}  // namespace

std::unique_ptr<engine::Source> PluginInstance::as_source() {
  return std::make_unique<PluginSource>(shared_from_this(), impl_.get());
}
std::unique_ptr<engine::Sink> PluginInstance::as_sink() { return std::make_unique<PluginSink>(shared_from_this(), impl_.get()); }
std::unique_ptr<engine::Transform> PluginInstance::as_transform() {
  return std::make_unique<PluginTransform>(shared_from_this(), impl_.get());
}

}  // namespace conflux::plugin_host
