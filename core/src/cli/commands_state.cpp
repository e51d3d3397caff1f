// conflux state show|results|reset, conflux dlq list|show|replay
#include <iostream>

#include "cli.hpp"
#include "conflux/engine/engine.hpp"
#include "conflux/pipeline/builder.hpp"

namespace conflux::cli {
namespace {

std::string one_line(std::string text, size_t max) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() > max) text = text.substr(0, max - 3) + "...";
  return text;
}

nlohmann::ordered_json letter_json(const state::DeadLetter& d) {
  nlohmann::ordered_json payload =
      d.payload_is_record ? nlohmann::ordered_json::parse(d.payload, nullptr, false) : nlohmann::ordered_json(d.payload);
  if (payload.is_discarded()) payload = d.payload;
  nlohmann::ordered_json out;
  out["id"] = d.id;
  out["pipeline"] = d.pipeline;
  out["run_id"] = d.run_id;
  out["source"] = d.source;
  out["stream"] = d.stream;
  out["position"] = d.position;
  out["stage"] = d.stage;
  out["reason"] = d.reason;
  out["created_at"] = d.created_at;
  out["replayed"] = d.replayed;
  out[d.payload_is_record ? "record" : "raw"] = payload;
  return out;
}

}  // namespace

void add_state_commands(CLI::App& app) {
  auto* state_cmd = app.add_subcommand("state", "Show or reset a pipeline's cursors and run history");
  state_cmd->require_subcommand(1);
  {
    auto* cmd = state_cmd->add_subcommand("show", "Cursors and recent runs of a pipeline");
    auto file = std::make_shared<std::string>();
    auto runs = std::make_shared<size_t>(10);
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->add_option("--runs", *runs, "How many recent runs to list");
    cmd->callback([=] {
      auto config = load_pipeline_or_report(*file);
      if (!config) return;
      auto store = open_state_or_report(config->state_path);
      if (!store) return;
      auto cursors = store->list_cursors(config->name);
      auto history = store->list_runs(config->name, *runs);
      auto dead = store->count_dead_letters(config->name, false);
      if (!cursors || !history || !dead) {
        std::cerr << "error: " << (!cursors ? cursors.status() : !history ? history.status() : dead.status()).message() << "\n";
        exit_code() = kExitFailed;
        return;
      }
      std::cout << "pipeline " << config->name << " (state: " << config->state_path << ")\n";
      std::cout << "cursors:\n";
      if (cursors->empty()) std::cout << "  (none: the next run reads every source from the start)\n";
      for (const auto& c : *cursors) {
        std::cout << "  " << c.key.source << "/" << c.key.stream << "  " << c.cursor << "  (" << c.updated_at << ")\n";
      }
      std::cout << "recent runs:\n";
      for (const auto& r : *history) {
        auto s = nlohmann::json::parse(r.summary_json.empty() ? "{}" : r.summary_json, nullptr, false);
        std::cout << "  #" << r.id << " " << r.started_at << " " << r.status;
        if (s.is_object() && s.contains("in")) {
          std::cout << "  in " << s["in"] << " written " << s["written"] << " unchanged " << s["unchanged"]
                    << " dropped " << s["dropped"] << " dead " << s["dead_lettered"];
        }
        std::cout << "\n";
      }
      std::cout << "dead letters waiting: " << *dead << "\n";
    });
  }
  {
    auto* cmd = state_cmd->add_subcommand(
        "results", "Per-record sink outcomes of a run (sinks with sync.key), as JSON lines");
    auto file = std::make_shared<std::string>();
    auto run = std::make_shared<int64_t>(0);
    auto outcome = std::make_shared<std::string>();
    auto limit = std::make_shared<size_t>(100);
    auto offset = std::make_shared<size_t>(0);
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->add_option("--run", *run, "Run id (default: the latest run)");
    cmd->add_option("--outcome", *outcome, "Only this outcome")
        ->check(CLI::IsMember({"created", "updated", "unchanged", "rejected"}));
    cmd->add_option("--limit", *limit, "At most this many (0: all)");
    cmd->add_option("--offset", *offset, "Skip this many first");
    cmd->callback([=] {
      auto config = load_pipeline_or_report(*file);
      if (!config) return;
      auto store = open_state_or_report(config->state_path);
      if (!store) return;
      int64_t run_id = *run;
      if (run_id == 0) {
        auto latest = store->list_runs(config->name, 1);
        if (!latest) {
          std::cerr << "error: " << latest.status().message() << "\n";
          exit_code() = kExitFailed;
          return;
        }
        if (latest->empty()) {
          std::cerr << "error: pipeline '" << config->name << "' has no runs yet\n";
          exit_code() = kExitFailed;
          return;
        }
        run_id = latest->front().id;
      }
      auto results = store->list_results(run_id, outcome->empty() ? std::nullopt : std::optional(*outcome), *limit,
                                         *offset);
      if (!results) {
        std::cerr << "error: " << results.status().message() << "\n";
        exit_code() = kExitFailed;
        return;
      }
      for (const auto& r : *results) {
        nlohmann::ordered_json line;
        line["run_id"] = r.run_id;
        line["key"] = r.key;
        line["position"] = r.position;
        line["outcome"] = r.outcome;
        if (!r.message.empty()) line["message"] = r.message;
        std::cout << line.dump() << "\n";
      }
    });
  }
  {
    auto* cmd = state_cmd->add_subcommand("reset", "Forget cursors so the next run reads from the start");
    auto file = std::make_shared<std::string>();
    auto source = std::make_shared<std::string>();
    auto stream = std::make_shared<std::string>();
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->add_option("--source", *source, "Only this source");
    cmd->add_option("--stream", *stream, "Only this stream (with --source)");
    cmd->callback([=] {
      auto config = load_pipeline_or_report(*file);
      if (!config) return;
      auto store = open_state_or_report(config->state_path);
      if (!store) return;
      auto removed = store->reset_cursors(config->name, source->empty() ? std::nullopt : std::optional(*source),
                                          stream->empty() ? std::nullopt : std::optional(*stream));
      if (!removed) {
        std::cerr << "error: " << removed.status().message() << "\n";
        exit_code() = kExitFailed;
        return;
      }
      std::cout << "removed " << *removed << " cursor(s)\n";
    });
  }

  auto* dlq = app.add_subcommand("dlq", "Inspect and replay dead letters");
  dlq->require_subcommand(1);
  {
    auto* cmd = dlq->add_subcommand("list", "List dead letters of a pipeline");
    auto file = std::make_shared<std::string>();
    auto stage = std::make_shared<std::string>();
    auto all = std::make_shared<bool>(false);
    auto limit = std::make_shared<size_t>(50);
    auto json = std::make_shared<bool>(false);
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->add_option("--stage", *stage, "Only letters rejected by this stage");
    cmd->add_flag("--all", *all, "Include letters already replayed");
    cmd->add_option("--limit", *limit, "At most this many (0: all)");
    cmd->add_flag("--json", *json, "One JSON object per line");
    cmd->callback([=] {
      auto config = load_pipeline_or_report(*file);
      if (!config) return;
      auto store = open_state_or_report(config->state_path);
      if (!store) return;
      state::DeadLetterFilter filter;
      filter.pipeline = config->name;
      if (!stage->empty()) filter.stage = *stage;
      filter.include_replayed = *all;
      filter.limit = *limit;
      auto letters = store->list_dead_letters(filter);
      if (!letters) {
        std::cerr << "error: " << letters.status().message() << "\n";
        exit_code() = kExitFailed;
        return;
      }
      for (const auto& d : *letters) {
        if (*json) {
          std::cout << letter_json(d).dump() << "\n";
        } else {
          std::cout << d.id << "\t" << d.source << "/" << d.stream << ":" << d.position << "\t" << d.stage << "\t"
                    << one_line(d.reason, 100) << (d.replayed ? "\t(replayed)" : "") << "\n";
        }
      }
    });
  }
  {
    auto* cmd = dlq->add_subcommand("show", "Show one dead letter in full");
    auto file = std::make_shared<std::string>();
    auto id = std::make_shared<int64_t>(0);
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->add_option("id", *id, "Dead letter id (from dlq list)")->required();
    cmd->callback([=] {
      auto config = load_pipeline_or_report(*file);
      if (!config) return;
      auto store = open_state_or_report(config->state_path);
      if (!store) return;
      auto letter = store->get_dead_letter(*id);
      if (!letter || !letter->has_value()) {
        std::cerr << "error: " << (letter ? "no dead letter with id " + std::to_string(*id) : letter.status().message()) << "\n";
        exit_code() = kExitFailed;
        return;
      }
      std::cout << letter_json(**letter).dump(2) << "\n";
    });
  }
  {
    auto* cmd = dlq->add_subcommand("replay", "Send dead-lettered records back in at the stage that rejected them");
    auto file = std::make_shared<std::string>();
    auto ids = std::make_shared<std::vector<int64_t>>();
    auto stage = std::make_shared<std::string>();
    auto dry_run = std::make_shared<bool>(false);
    cmd->add_option("file", *file, "Pipeline YAML file")->required();
    cmd->add_option("--id", *ids, "Only these letters");
    cmd->add_option("--stage", *stage, "Only letters rejected by this stage");
    cmd->add_flag("--dry-run", *dry_run, "Show what would happen; write and mark nothing");
    cmd->callback([=] {
      auto config = load_pipeline_or_report(*file);
      if (!config) return;
      auto host = pipeline::make_plugin_host(*config);
      std::vector<config::Diagnostic> diagnostics;
      auto plan = pipeline::build_plan(*config, host, diagnostics, {true, &interrupt_flag()});
      for (const auto& d : diagnostics) std::cerr << "error: " << d.to_string() << "\n";
      if (!plan) {
        exit_code() = kExitUsage;
        return;
      }
      auto store = open_state_or_report(config->state_path);
      if (!store) return;
      std::vector<state::DeadLetter> letters;
      if (!ids->empty()) {
        for (int64_t id : *ids) {
          auto letter = store->get_dead_letter(id);
          if (!letter || !letter->has_value() || (*letter)->pipeline != config->name) {
            std::cerr << "error: no dead letter " << id << " in pipeline '" << config->name << "'\n";
            exit_code() = kExitFailed;
            return;
          }
          letters.push_back(**letter);
        }
      } else {
        state::DeadLetterFilter filter;
        filter.pipeline = config->name;
        if (!stage->empty()) filter.stage = *stage;
        filter.limit = 0;
        auto listed = store->list_dead_letters(filter);
        if (!listed) {
          std::cerr << "error: " << listed.status().message() << "\n";
          exit_code() = kExitFailed;
          return;
        }
        letters = std::move(listed.value());
      }
      size_t raw = 0;
      for (const auto& l : letters) raw += l.payload_is_record ? 0 : 1;
      engine::RunOptions options;
      options.dry_run = *dry_run;
      options.cancel = &interrupt_flag();
      auto summary = engine::replay_dead_letters(*plan, *store, letters, options);
      std::cout << summary.to_text();
      if (raw > 0) {
        std::cout << raw << " letter(s) hold raw input that never became a record and were left as they are: fix the "
                  << "input, then `conflux state reset` to let the source read it again\n";
      }
      if (summary.status != "succeeded") {
        std::cerr << "error: " << summary.error << "\n";
        exit_code() = kExitFailed;
      }
    });
  }
}

}  // namespace conflux::cli
