// Turns a loaded pipeline file into a runnable engine::Plan: finds and loads plugins, checks every plugin and stage
// config, creates built-in stages and the sink. The one place that knows both the config model and the parts that
// implement it; the engine itself knows neither YAML nor plugins.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "conflux/config/pipeline.hpp"
#include "conflux/engine/engine.hpp"
#include "conflux/plugin_host/plugin_host.hpp"

namespace conflux::pipeline {

struct BuildOptions {
  // false: check only (conflux validate): nothing is created, no file is opened.
  bool instantiate = true;
  const std::atomic<bool>* cancel = nullptr;
  // A dry run leaves every file as it was: a local CRM that does not exist yet is opened in memory.
  bool dry_run = false;
};

// Every problem goes to `diagnostics` with the file:line:col of the offending key; returns the plan when none.
Result<engine::Plan> build_plan(const config::PipelineConfig& config, plugin_host::PluginHost& host,
                                std::vector<config::Diagnostic>& diagnostics, const BuildOptions& options);

// A PluginHost searching the pipeline's plugin_dirs first.
plugin_host::PluginHost make_plugin_host(const config::PipelineConfig& config);

}  // namespace conflux::pipeline
