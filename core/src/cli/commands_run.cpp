// conflux run | validate | check | discover
#include <unistd.h>

#include <filesystem>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "conflux/common/logging.hpp"
#include "conflux/engine/engine.hpp"
#include "conflux/pipeline/builder.hpp"
#include "conflux/state/sqlite_state_store.hpp"

namespace conflux::cli {
namespace {

// Progress on a terminal: one line redrawn in place (records/s; percent and ETA when the source knows its size).
// Elsewhere: a plain log line every 10 s, so CI logs and journald stay readable.
class ProgressDisplay : public engine::ProgressListener {
 public:
  explicit ProgressDisplay(bool terminal) : terminal_(terminal) {}

  void on_progress(const engine::ProgressEvent& e) override {
    auto now = std::chrono::steady_clock::now();
    double since = std::chrono::duration<double>(now - last_).count();
    if (since < (terminal_ ? 0.2 : 10.0)) return;
    last_ = now;
    double rate = e.seconds > 0 ? e.records / e.seconds : 0;
    char line[256];
    int n = std::snprintf(line, sizeof line, "%s/%s: %llu records, %.0f records/s", e.source.c_str(), e.stream.c_str(),
                          static_cast<unsigned long long>(e.records), rate);
    if (e.total > 0 && e.done <= e.total) {
      double fraction = static_cast<double>(e.done) / e.total;
      double eta = fraction > 0 ? e.seconds * (1 - fraction) / fraction : 0;
      std::snprintf(line + n, sizeof line - n, ", %.0f%%, ETA %d:%02d", fraction * 100, static_cast<int>(eta) / 60,
                    static_cast<int>(eta) % 60);
    }
    if (terminal_) {
      std::fprintf(stderr, "\r\033[K%s", line);
      drew_ = true;
    } else {
      std::fprintf(stderr, "progress: %s\n", line);
    }
  }
  void on_finish() override {
    if (drew_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool terminal_;
  bool drew_ = false;
  std::chrono::steady_clock::time_point last_{};
};

void print_diagnostics(const std::vector<config::Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics) std::cerr << "error: " << logging::redact(d.to_string()) << "\n";
}

// Loads, checks and (when `instantiate`) creates everything a pipeline needs.
std::optional<std::pair<config::PipelineConfig, engine::Plan>> prepare(const std::string& file, bool instantiate,
                                                                      bool dry_run = false) {
  std::vector<config::Diagnostic> diagnostics;
  auto config = config::load_pipeline(file, diagnostics);
  if (!config) {
    print_diagnostics(diagnostics);
    if (diagnostics.empty()) std::cerr << "error: " << config.status().message() << "\n";
    exit_code() = kExitUsage;
    return std::nullopt;
  }
  for (const auto& secret : config->secrets) logging::add_secret(secret);
  // Problems found so far do not stop the plugin and stage checks: the user sees every problem in one pass.
  auto host = pipeline::make_plugin_host(*config);
  pipeline::BuildOptions options;
  // With problems already found, only check: creating plugins from a broken config could reach out with it.
  options.instantiate = instantiate && diagnostics.empty();
  options.cancel = &interrupt_flag();
  options.dry_run = dry_run;
  auto plan = pipeline::build_plan(*config, host, diagnostics, options);
  print_diagnostics(diagnostics);
  if (!plan || !diagnostics.empty()) {
    if (diagnostics.empty()) std::cerr << "error: " << plan.status().message() << "\n";
    exit_code() = kExitUsage;
    return std::nullopt;
  }
  return std::make_pair(std::move(*config), std::move(plan.value()));
}

}  // namespace

void add_run_commands(CLI::App& app) {
  // run
  {
    auto* cmd = app.add_subcommand("run", "Run a pipeline: read sources, apply stages, write the sink");
    auto file = std::make_shared<std::string>();
    auto dry_run = std::make_shared<bool>(false);
    auto limit = std::make_shared<uint64_t>(0);
    auto progress = std::make_shared<std::string>("auto");
    auto json = std::make_shared<bool>(false);
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->add_flag("--dry-run", *dry_run, "Read and transform, but write nothing and commit no state");
    cmd->add_option("--limit", *limit, "Stop after N source records")->check(CLI::PositiveNumber);
    cmd->add_option("--progress", *progress, "auto (on a terminal), always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
    cmd->add_flag("--json", *json, "Print the run summary as JSON");
    cmd->callback([=] {
      auto prepared = prepare(*file, true, *dry_run);
      if (!prepared) return;
      auto& [config, plan] = *prepared;
      // A dry run creates no state database: with none yet it runs against an empty one in memory.
      auto store = open_state_or_report(*dry_run && !std::filesystem::exists(config.state_path) ? std::string(":memory:")
                                                                                              : config.state_path);
      if (!store) return;
      bool terminal = isatty(STDERR_FILENO);
      ProgressDisplay display(terminal && *progress != "never");
      engine::RunOptions options;
      options.dry_run = *dry_run;
      if (*limit > 0) options.limit = *limit;
      options.cancel = &interrupt_flag();
      if (*progress == "always" || (*progress == "auto" && terminal)) options.progress = &display;
      engine::RunSummary summary = engine::run_pipeline(plan, *store, options);
      std::cout << logging::redact(*json ? summary.to_json().dump(2) + "\n" : summary.to_text());
      if (summary.status == "failed") {
        std::cerr << "error: " << logging::redact(summary.error) << "\n";
        exit_code() = kExitFailed;
      } else if (summary.status == "cancelled" && summary.stop_reason == "quota") {
        std::cerr << "stopped: " << logging::redact(summary.error) << "\n";
        exit_code() = kExitQuota;
      } else if (summary.status == "cancelled") {
        exit_code() = kExitInterrupted;
      } else if (!summary.balanced()) {
        std::cerr << "error: the run summary does not balance; this is a bug, please report it\n";
        exit_code() = kExitFailed;
      }
    });
  }
  // validate
  {
    auto* cmd = app.add_subcommand("validate", "Check a pipeline file without running it; every problem with file:line:col");
    auto file = std::make_shared<std::string>();
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->callback([=] {
      if (!prepare(*file, false)) return;
      std::cout << *file << ": ok\n";
    });
  }
  // check
  {
    auto* cmd = app.add_subcommand("check", "Validate, create every plugin, and check each reaches what it names");
    auto file = std::make_shared<std::string>();
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->callback([=] {
      auto prepared = prepare(*file, true);
      if (!prepared) return;
      auto& [config, plan] = *prepared;
      bool ok = true;
      auto report = [&](const std::string& what, const Status& s) {
        std::cout << (s.is_ok() ? "ok     " : "FAILED ") << what << (s.is_ok() ? "" : ": " + s.message()) << "\n";
        ok &= s.is_ok();
      };
      for (auto& source : plan.sources) report("source " + source.name, source.source->check());
      report("sink " + plan.sink_name, plan.sink->check());
      auto store = state::open_sqlite_state_store(config.state_path);
      report("state " + config.state_path, store ? Status::ok() : store.status());
      if (!ok) exit_code() = kExitFailed;
    });
  }
  // discover
  {
    auto* cmd = app.add_subcommand("discover", "Print the streams and fields each source offers, as JSON");
    auto file = std::make_shared<std::string>();
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->callback([=] {
      auto prepared = prepare(*file, true);
      if (!prepared) return;
      nlohmann::json out = nlohmann::json::object();
      for (auto& source : prepared->second.sources) {
        auto catalog = source.source->discover();
        if (!catalog) {
          std::cerr << "error: source '" << source.name << "': " << catalog.status().message() << "\n";
          exit_code() = kExitFailed;
          continue;
        }
        nlohmann::json parsed = nlohmann::json::parse(*catalog, nullptr, false);
        out[source.name] = parsed.is_discarded() ? nlohmann::json(*catalog) : parsed;
      }
      std::cout << out.dump(2) << "\n";
    });
  }
}

}  // namespace conflux::cli
