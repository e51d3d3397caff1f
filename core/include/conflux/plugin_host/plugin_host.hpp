// Finding, verifying and loading plugins, and adapting them to the engine's stage interfaces.
//
// A plugin named N is the file conflux-N.so in one of the search directories, in this order: the pipeline's
// settings.plugin_dirs, then each entry of CONFLUX_PLUGIN_PATH (colon-separated), then the build tree's plugin
// directory, then the install directory. Loading checks, in order: the file opens, both entry symbols exist, the ABI
// major matches and the minor is no newer than the host's, the description struct is usable, and its name matches the
// file. Every failure is one line naming the file and the problem.
//
// Every call into a plugin runs on the instance's own call thread with a deadline, and is fenced with
// try/catch(...): a plugin that throws becomes an error, and one that never returns fails the run with a timeout
// (its thread is abandoned; the CLI then exits without unloading it).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conflux/abi/conflux_abi.h"
#include "conflux/common/json_schema.hpp"
#include "conflux/common/status.hpp"
#include "conflux/engine/stage.hpp"

namespace conflux::plugin_host {

struct PluginManifest {
  std::string name;
  std::string version;
  std::string description;
  std::string path;
  uint32_t kinds = 0;
  uint32_t abi_version = 0;
  std::vector<std::string> streams;  // empty: discovered at run time
  nlohmann::json config_schema;      // the plugin's config JSON Schema

  bool is_source() const { return kinds & CONFLUX_KIND_SOURCE; }
  bool is_sink() const { return kinds & CONFLUX_KIND_SINK; }
  bool is_transform() const { return kinds & CONFLUX_KIND_TRANSFORM; }
  // "source, sink" etc.
  std::string kinds_text() const;
};

struct InstanceOptions {
  std::string logger_name;            // "<pipeline>/<step>/<plugin>"
  double call_timeout_seconds = 300;  // per plugin call
  int retries = 3;                    // extra attempts after CONFLUX_ERR_RETRY / CONFLUX_ERR_TIMEOUT
  const std::atomic<bool>* cancelled = nullptr;
};

class PluginInstance;

// A loaded shared library. Shared by every instance created from it; unloaded when the last owner goes.
class LoadedPlugin : public std::enable_shared_from_this<LoadedPlugin> {
 public:
  ~LoadedPlugin();
  const PluginManifest& manifest() const { return manifest_; }
  const conflux_plugin& definition() const { return definition_; }

  // Problems of `config` against the plugin's config schema (empty when valid).
  std::vector<SchemaViolation> check_config(const nlohmann::json& config) const;
  // Validates the config, then creates an instance.
  Result<std::shared_ptr<PluginInstance>> instantiate(const nlohmann::json& config, const InstanceOptions& options);

 private:
  friend class PluginHost;
  LoadedPlugin() = default;
  void* handle_ = nullptr;
  conflux_plugin definition_{};
  PluginManifest manifest_;
  std::shared_ptr<const JsonSchema> schema_;
};

class PluginHost {
 public:
  // `extra_dirs` come first, then CONFLUX_PLUGIN_PATH, the build tree's and the install directory.
  explicit PluginHost(std::vector<std::string> extra_dirs = {});

  const std::vector<std::string>& search_dirs() const { return search_dirs_; }
  // Loads plugin `name` (cached: a second call returns the same library).
  Result<std::shared_ptr<LoadedPlugin>> load(const std::string& name);
  // Loads a plugin file by path, whatever its name.
  Result<std::shared_ptr<LoadedPlugin>> load_file(const std::string& path);
  // Names of every conflux-*.so in the search directories (first directory wins on duplicates).
  std::vector<std::string> available() const;
  // Path of plugin `name`, or "" when no directory has it.
  std::string find(const std::string& name) const;

 private:
  std::vector<std::string> search_dirs_;
  std::vector<std::pair<std::string, std::shared_ptr<LoadedPlugin>>> cache_;
};

// One created plugin instance. Thread-compatible: used by one engine thread at a time.
class PluginInstance : public std::enable_shared_from_this<PluginInstance> {
 public:
  ~PluginInstance();
  const PluginManifest& manifest() const { return plugin_->manifest(); }

  Status check();
  Result<std::string> discover();
  // Adapters for the engine. They keep the instance alive.
  std::unique_ptr<engine::Source> as_source();
  std::unique_ptr<engine::Sink> as_sink();
  std::unique_ptr<engine::Transform> as_transform();

  struct Impl;

 private:
  friend class LoadedPlugin;
  PluginInstance() = default;
  std::shared_ptr<LoadedPlugin> plugin_;
  std::unique_ptr<Impl> impl_;
};

// True when some plugin call never returned: the process must exit without unloading plugins (std::_Exit).
bool any_plugin_abandoned();

// The host function table handed to plugins.
const conflux_host_api& host_api();

}  // namespace conflux::plugin_host
