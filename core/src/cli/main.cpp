#include <csignal>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "cli.hpp"
#include "conflux/common/logging.hpp"
#include "conflux/config/diagnostics.hpp"
#include "conflux/plugin_host/plugin_host.hpp"
#include "conflux/state/sqlite_state_store.hpp"

namespace conflux::cli {

std::atomic<bool>& interrupt_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

int& exit_code() {
  static int code = kExitOk;
  return code;
}

std::optional<config::PipelineConfig> load_pipeline_or_report(const std::string& path) {
  std::vector<config::Diagnostic> diagnostics;
  auto loaded = config::load_pipeline(path, diagnostics);
  for (const auto& d : diagnostics) std::cerr << "error: " << d.to_string() << "\n";
  if (!loaded || !diagnostics.empty()) {
    if (diagnostics.empty()) std::cerr << "error: " << loaded.status().message() << "\n";
    exit_code() = kExitUsage;
    return std::nullopt;
  }
  for (const auto& secret : loaded->secrets) logging::add_secret(secret);
  return std::move(loaded.value());
}

std::unique_ptr<state::StateStore> open_state_or_report(const std::string& path) {
  auto store = state::open_sqlite_state_store(path);
  if (!store) {
    std::cerr << "error: " << store.status().message() << "\n";
    exit_code() = kExitFailed;
    return nullptr;
  }
  return std::move(store.value());
}

namespace {

void on_signal(int) {
  if (interrupt_flag().exchange(true)) {
    // Second Ctrl-C: the user insists. Nothing uncommitted is lost: the next run re-reads from the last commit.
    static const char kMessage[] = "\ninterrupted again: exiting now\n";
    (void)!write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    _exit(kExitInterrupted);
  }
  static const char kMessage[] = "\ninterrupt: finishing the current batch, then stopping (Ctrl-C again to abort)\n";
  (void)!write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}

}  // namespace
}  // namespace conflux::cli

int main(int argc, char** argv) {
  using namespace conflux::cli;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  CLI::App app{"conflux: plugin-based integration hub for marketing data"};
  app.set_version_flag("--version", std::string("conflux ") + CONFLUX_VERSION + " (plugin ABI " +
                                        std::to_string(CONFLUX_ABI_VERSION_MAJOR) + "." +
                                        std::to_string(CONFLUX_ABI_VERSION_MINOR) + ")");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "debug, info, warn, error or off")->envname("CONFLUX_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.require_subcommand(1);
  app.parse_complete_callback([&] { conflux::logging::set_level(log_level); });
  add_run_commands(app);
  add_state_commands(app);
  add_catalog_commands(app);
  add_identity_commands(app);
  add_profiles_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  if (conflux::plugin_host::any_plugin_abandoned()) {
    // A plugin thread is still inside plugin code: unloading or running destructors could crash under it.
    std::_Exit(exit_code());
  }
  return exit_code();
}
