// conflux identity eval: resolves a labelled file with a committed model config and prints the accuracy figures.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli.hpp"
#include "conflux/config/yaml_document.hpp"
#include "conflux/identity/evaluation.hpp"
#include "conflux/identity/model_config.hpp"

namespace conflux::cli {

namespace {

std::optional<identity::ModelConfig> load_model_or_report(const std::string& path) {
  auto doc = config::load_yaml_file(path);
  if (!doc) {
    std::cerr << "error: " << doc.status().message() << "\n";
    exit_code() = kExitUsage;
    return std::nullopt;
  }
  // A model file may hold the model at the top level or under `identity:`.
  const nlohmann::json& root = doc->root.contains("identity") ? doc->root["identity"] : doc->root;
  auto model = identity::parse_model_config(root);
  if (!model) {
    std::cerr << "error: " << path << ": " << model.status().message() << "\n";
    exit_code() = kExitUsage;
    return std::nullopt;
  }
  return std::move(model.value());
}

void print_metrics(const char* label, const identity::PairMetrics& m) {
  std::printf("%-28s precision %.4f  recall %.4f  F1 %.4f  (predicted %llu, true %llu, correct %llu)\n", label,
              m.precision(), m.recall(), m.f1(), static_cast<unsigned long long>(m.predicted_pairs),
              static_cast<unsigned long long>(m.true_pairs), static_cast<unsigned long long>(m.true_positives));
}

void run_eval(const std::string& data, const std::string& format, const std::string& config_path,
              const std::string& truth_column, bool show_model) {
  auto model_config = load_model_or_report(config_path);
  if (!model_config) return;
  const identity::LabelledFormat fmt = format == "febrl"    ? identity::LabelledFormat::kFebrl
                                       : format == "splink" ? identity::LabelledFormat::kSplink
                                                            : identity::LabelledFormat::kGeneric;
  auto table = identity::load_labelled(data, fmt, truth_column);
  if (!table) {
    std::cerr << "error: " << table.status().message() << "\n";
    exit_code() = table.status().code() == StatusCode::kNotFound ? kExitFailed : kExitUsage;
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  auto prepared = identity::prepare_table(*model_config, *table);
  if (!prepared) {
    std::cerr << "error: " << config_path << ": " << prepared.status().message() << "\n";
    exit_code() = kExitUsage;
    return;
  }
  identity::ResolveOptions options;
  options.keep_matched_pairs = true;
  const identity::Resolution resolution = identity::resolve(*prepared, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const identity::Evaluation e = identity::evaluate(*prepared, resolution, table->truth);

  std::printf("data                         %s (%zu records, %zu true entities)\n", data.c_str(), e.records, e.true_entities);
  std::printf("config                       %s (match probability >= %.3g)\n", config_path.c_str(),
              model_config->match_probability);
  std::printf("model                        prior %.6f, EM %d iterations (%s), %zu comparison patterns\n",
              resolution.model.prior, resolution.model.iterations, resolution.model.converged ? "converged" : "not converged",
              resolution.model.patterns);
  std::printf("blocking                     %llu candidate pairs, pair completeness %.4f, reduction ratio %.6f\n",
              static_cast<unsigned long long>(e.candidate_pairs), e.pair_completeness, e.reduction_ratio);
  print_metrics("pairwise (profiles)", e.clusters);
  print_metrics("pairwise (scored pairs)", e.scored_pairs);
  std::printf("b-cubed                      precision %.4f  recall %.4f  F1 %.4f\n", e.bcubed_precision, e.bcubed_recall,
              e.bcubed_precision + e.bcubed_recall == 0
                  ? 0.0
                  : 2 * e.bcubed_precision * e.bcubed_recall / (e.bcubed_precision + e.bcubed_recall));
  std::printf("profiles                     %zu (identifier links %llu, refused merges %llu, records without evidence %zu)\n",
              e.profiles, static_cast<unsigned long long>(resolution.identifier_links),
              static_cast<unsigned long long>(resolution.refused_merges), resolution.records_without_evidence);
  std::printf("time                         %.3f s (blocking %.3f, model %.3f, scoring %.3f, clustering %.3f)\n", seconds,
              resolution.seconds_blocking, resolution.seconds_model, resolution.seconds_scoring,
              resolution.seconds_clustering);
  if (show_model) {
    for (size_t f = 0; f < model_config->fields.size(); ++f) {
      const auto& spec = model_config->fields[f];
      for (size_t l = 1; l <= spec.levels(); ++l) {
        std::printf("  %-16s %-36s m %.5f  u %.6f  weight %+.2f\n", spec.name.c_str(), spec.level_label(l).c_str(),
                    resolution.model.m[f][l], resolution.model.u[f][l], resolution.model.weight[f][l]);
      }
    }
  }
}

// Times the scoring loop on one thread over candidate pairs and over random pairs, then a full resolution.
void run_bench(const std::string& data, const std::string& format, const std::string& config_path,
               const std::string& truth_column, size_t random_pairs, unsigned threads) {
  auto model_config = load_model_or_report(config_path);
  if (!model_config) return;
  const identity::LabelledFormat fmt = format == "febrl"    ? identity::LabelledFormat::kFebrl
                                       : format == "splink" ? identity::LabelledFormat::kSplink
                                                            : identity::LabelledFormat::kGeneric;
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); };
  auto start = Clock::now();
  auto table = identity::load_labelled(data, fmt, truth_column);
  if (!table) {
    std::cerr << "error: " << table.status().message() << "\n";
    exit_code() = kExitFailed;
    return;
  }
  const double load_seconds = seconds(start);
  start = Clock::now();
  auto prepared = identity::prepare_table(*model_config, *table);
  if (!prepared) {
    std::cerr << "error: " << prepared.status().message() << "\n";
    exit_code() = kExitUsage;
    return;
  }
  const double prepare_seconds = seconds(start);
  const size_t n = prepared->size();
  std::printf("records                      %zu, %zu compared fields\n", n, model_config->fields.size());
  std::printf("load csv                     %.3f s\n", load_seconds);
  std::printf("prepare (normalise once)     %.3f s\n", prepare_seconds);

  start = Clock::now();
  identity::ResolveOptions options;
  options.threads = threads;
  const identity::Resolution resolution = identity::resolve(*prepared, options);
  const double resolve_seconds = seconds(start);
  std::printf("resolve                      %.3f s (blocking %.3f, model %.3f, scoring %.3f on %u thread(s), clustering %.3f)\n",
              resolve_seconds, resolution.seconds_blocking, resolution.seconds_model, resolution.seconds_scoring,
              threads == 0 ? std::max(1U, std::thread::hardware_concurrency()) : threads, resolution.seconds_clustering);
  std::printf("candidate pairs              %llu; profiles %zu\n", static_cast<unsigned long long>(resolution.scored_pairs),
              resolution.clusters);
  std::printf("end to end                   %.3f s for %zu records (load + prepare + resolve)\n",
              load_seconds + prepare_seconds + resolve_seconds, n);

  // Single-thread scoring rate: full Fellegi-Sunter score of every pair (every field compared and weighted).
  identity::BlockingStats stats;
  std::vector<uint64_t> pairs = identity::candidate_pairs(*prepared, stats);
  double sink = 0;
  start = Clock::now();
  for (uint64_t p : pairs) sink += identity::match_log2_odds(*prepared, resolution.model, identity::pair_first(p), identity::pair_second(p));
  const double candidate_seconds = seconds(start);
  std::vector<uint64_t> random(random_pairs);
  uint64_t state = model_config->seed;
  for (auto& p : random) {  // xorshift: cheap and reproducible
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const auto a = static_cast<uint32_t>(state % n);
    const auto b = static_cast<uint32_t>((state >> 32) % n);
    p = (uint64_t{a} << 32) | b;
  }
  start = Clock::now();
  for (uint64_t p : random) sink += identity::match_log2_odds(*prepared, resolution.model, identity::pair_first(p), identity::pair_second(p));
  const double random_seconds = seconds(start);
  std::printf("scoring, 1 thread            candidate pairs: %.2f M comparisons/s (%zu pairs); random pairs: %.2f M comparisons/s (%zu pairs)  [checksum %.0f]\n",
              static_cast<double>(pairs.size()) / candidate_seconds / 1e6, pairs.size(),
              static_cast<double>(random.size()) / random_seconds / 1e6, random.size(), sink);
}

}  // namespace

void add_identity_commands(CLI::App& app) {
  auto* identity_cmd = app.add_subcommand("identity", "Identity resolution tools");
  identity_cmd->require_subcommand(1);
  auto* cmd = identity_cmd->add_subcommand("eval", "Resolve a labelled file and print pairwise, blocking and B-cubed metrics");
  auto data = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("generic");
  auto config_path = std::make_shared<std::string>();
  auto truth = std::make_shared<std::string>("truth");
  auto show_model = std::make_shared<bool>(false);
  cmd->add_option("--data", *data, "Labelled CSV file")->required();
  cmd->add_option("--format", *format, "febrl, splink or generic")->check(CLI::IsMember({"febrl", "splink", "generic"}));
  cmd->add_option("--config", *config_path, "Model config (YAML)")->required();
  cmd->add_option("--truth", *truth, "generic: the column holding the true entity id");
  cmd->add_flag("--show-model", *show_model, "Print m, u and the weight of every comparison level");
  cmd->callback([=] { run_eval(*data, *format, *config_path, *truth, *show_model); });

  auto* bench = identity_cmd->add_subcommand("bench", "Time preparation, resolution and the scoring loop (comparisons/s per core)");
  auto bench_data = std::make_shared<std::string>();
  auto bench_format = std::make_shared<std::string>("generic");
  auto bench_config = std::make_shared<std::string>();
  auto bench_truth = std::make_shared<std::string>("truth");
  auto random_pairs = std::make_shared<size_t>(2000000);
  auto threads = std::make_shared<unsigned>(0);
  bench->add_option("--data", *bench_data, "CSV file")->required();
  bench->add_option("--format", *bench_format, "febrl, splink or generic")->check(CLI::IsMember({"febrl", "splink", "generic"}));
  bench->add_option("--config", *bench_config, "Model config (YAML)")->required();
  bench->add_option("--truth", *bench_truth, "generic: the column holding the true entity id");
  bench->add_option("--random-pairs", *random_pairs, "Random pairs to score for the per-core rate");
  bench->add_option("--threads", *threads, "Scoring threads in the resolution (0: one per core)");
  bench->callback([=] { run_bench(*bench_data, *bench_format, *bench_config, *bench_truth, *random_pairs, *threads); });
}

}  // namespace conflux::cli
