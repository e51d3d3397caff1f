#include "conflux/identity/resolver.hpp"

#include <random>

#include <catch2/catch.hpp>

#include "conflux/identity/clustering.hpp"
#include "conflux/identity/evaluation.hpp"
#include "conflux/identity/survivorship.hpp"

using namespace conflux::identity;

namespace {

ModelConfig config_from(const nlohmann::json& j) {
  auto parsed = parse_model_config(j);
  REQUIRE(parsed.is_ok());
  return parsed.value();
}

// `entities` people with two records each; each of three exact fields is corrupted with probability `noise` in the
// second record, and values are drawn from `vocabulary` per field, so u(exact) is about 1/vocabulary.
struct Synthetic {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> truth;
};

Synthetic synthetic(int entities, double noise, int vocabulary, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> value(0, vocabulary - 1);
  std::bernoulli_distribution corrupt(noise);
  Synthetic out;
  for (int e = 0; e < entities; ++e) {
    std::vector<std::string> base = {"a" + std::to_string(value(rng)), "b" + std::to_string(value(rng)),
                                     "c" + std::to_string(value(rng)), "k" + std::to_string(e % (entities / 4))};
    out.rows.push_back(base);
    out.truth.push_back(std::to_string(e));
    for (size_t f = 0; f < 3; ++f) {
      if (corrupt(rng)) base[f] = "x" + std::to_string(value(rng)) + "_" + std::to_string(f);
    }
    out.rows.push_back(base);
    out.truth.push_back(std::to_string(e));
  }
  return out;
}

Prepared prepare(const ModelConfig& config, const std::vector<std::vector<std::string>>& rows) {
  Prepared prepared(config);
  for (const auto& row : rows) {
    std::vector<std::string_view> compared(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(config.fields.size()));
    prepared.add(compared, {});
  }
  prepared.finalise();
  return prepared;
}

}  // namespace

TEST_CASE("EM recovers m and u on synthetic data and resolves it", "[identity]") {
  const ModelConfig config = config_from({{"fields", {{{"name", "a"}}, {{"name", "b"}}, {{"name", "c"}}, {{"name", "k"}}}},
                                          {"blocking", {"k"}}});
  const Synthetic data = synthetic(2000, 0.1, 50, 7);
  const Prepared prepared = prepare(config, data.rows);
  ResolveOptions options;
  options.keep_matched_pairs = true;
  const Resolution resolution = resolve(prepared, options);
  REQUIRE(resolution.model.converged);
  for (size_t f = 0; f < 3; ++f) {
    // m(exact) = 1 - noise; u(exact) = 1/vocabulary for random values.
    CHECK(resolution.model.m[f][1] == Approx(0.9).margin(0.03));
    CHECK(resolution.model.u[f][1] == Approx(0.02).margin(0.01));
  }
  const Evaluation e = evaluate(prepared, resolution, data.truth);
  CHECK(e.pair_completeness == 1.0);
  CHECK(e.clusters.f1() > 0.95);
  CHECK(e.bcubed_precision > 0.95);
}

TEST_CASE("blocking: union of keys, deduplicated, oversize blocks skipped", "[identity]") {
  ModelConfig config = config_from({{"fields", {{{"name", "a"}}, {{"name", "b"}}}}, {"blocking", {"a", "b"}},
                                    {"max_block_size", 3}});
  const std::vector<std::vector<std::string>> rows = {{"x", "1"}, {"x", "1"}, {"y", "2"}, {"y", "3"},
                                                      {"z", "9"}, {"z", "9"}, {"z", "9"}, {"z", "9"}, {"", "2"}};
  const Prepared prepared = prepare(config, rows);
  BlockingStats stats;
  const auto pairs = candidate_pairs(prepared, stats);
  // a: x{0,1} y{2,3} z{4..7} (4 > 3: skipped); b: 1{0,1} 2{2,8} 3{3} 9{4..7} (skipped).
  CHECK(stats.skipped_blocks == std::vector<uint64_t>{1, 1});
  CHECK(pairs == std::vector<uint64_t>{pack_pair(0, 1), pack_pair(2, 3), pack_pair(2, 8)});
  CHECK(stats.candidate_pairs == 3);
}

TEST_CASE("clustering refuses merges that break a per-type limit or an unmerge", "[identity]") {
  ConstrainedUnionFind clusters(5, {1, 0});
  clusters.add_identifier(0, 0, 10);  // record 0 has CRM id 10
  clusters.add_identifier(1, 0, 11);  // record 1 has CRM id 11
  clusters.add_identifier(2, 1, 5);   // rule 1 has no limit
  clusters.add_identifier(3, 1, 6);
  std::string reason;
  CHECK(clusters.join(0, 2) == ConstrainedUnionFind::Join::kJoined);
  CHECK(clusters.join(1, 2, &reason) == ConstrainedUnionFind::Join::kRefused);
  CHECK(reason.find("at most 1") != std::string::npos);
  CHECK(clusters.join(2, 3) == ConstrainedUnionFind::Join::kJoined);
  CHECK(clusters.join(0, 3) == ConstrainedUnionFind::Join::kAlreadyTogether);
  clusters.add_pin(4, 1, 2);
  clusters.add_pin(0, 1, 1);
  CHECK(clusters.join(4, 0, &reason) == ConstrainedUnionFind::Join::kRefused);
  size_t count = 0;
  const auto ids = clusters.clusters(&count);
  CHECK(count == 3);
  CHECK(ids[0] == ids[2]);
  CHECK(ids[0] == ids[3]);
  CHECK(ids[1] != ids[0]);
}

TEST_CASE("identifier rules link, blocked values and limits do not", "[identity]") {
  const ModelConfig config = config_from(
      {{"identifiers",
        {{{"field", "crm"}, {"max_per_profile", 1}},
         {{"field", "email"}, {"type", "email"}, {"blocked", {"info@firm.ru"}}},
         {{"field", "phone"}, {"type", "phone"}}}}});
  Prepared prepared(config);
  // 0 and 1 share an e-mail (case and blanks differ); 2 and 3 share only a blocked role address; 4 and 5 share a
  // phone but carry different CRM ids, so the limit refuses; 6 has nothing usable.
  const std::vector<std::vector<std::string>> rows = {
      {"", "P.Ivanov@Mail.ru ", ""}, {"", "p.ivanov@mail.ru", ""}, {"", "info@firm.ru", ""}, {"", "INFO@firm.ru", ""},
      {"c1", "", "+7 912 345-67-89"}, {"c2", "", "89123456789"}, {"null", "unknown", "+7 000 000-00-00"}};
  for (const auto& row : rows) prepared.add({}, {row[0], row[1], row[2]});
  prepared.finalise();
  const Resolution r = resolve(prepared);
  CHECK(r.cluster[0] == r.cluster[1]);
  CHECK(r.cluster[2] != r.cluster[3]);
  CHECK(r.cluster[4] != r.cluster[5]);
  CHECK(r.refused_merges == 1);
  CHECK(r.records_without_evidence == 3);  // 2 and 3 (blocked) and 6 (placeholders)
  CHECK(r.clusters == 6);
}

TEST_CASE("config errors name the key", "[identity]") {
  CHECK(parse_model_config({{"fields", {{{"name", "a"}, {"comparator", "fuzzy"}}}}, {"blocking", {"a"}}})
            .status().message().find("unknown comparator 'fuzzy'") != std::string::npos);
  CHECK(parse_model_config({{"fields", {{{"name", "a"}}}}, {"blocking", {"b"}}}).status().message().find(
            "not a compared field") != std::string::npos);
  CHECK(parse_model_config({{"fields", {{{"name", "a"}}}}}).status().message().find("blocking") != std::string::npos);
  CHECK(parse_model_config({{"match_probability", 1.5}, {"identifiers", {{{"field", "x"}}}}}).status().message().find(
            "match_probability") != std::string::npos);
  CHECK(parse_model_config({{"fields", {{{"name", "a"}, {"comparator", "jaro_winkler"}, {"thresholds", {0.8, 0.9}}}}},
                            {"blocking", {"a"}}})
            .status().message().find("descending") != std::string::npos);
}

TEST_CASE("survivorship rules", "[identity]") {
  const std::vector<CandidateValue> values = {
      {"Petr", "mailchimp", "2024-01-01", "m:1"},
      {"Пётр", "amocrm", "2023-01-01", "a:1"},
      {"", "meta", "2025-01-01", "f:1"},
      {"petr ", "calltouch", "2024-06-01", "c:1"},
      {"Pyotr Alekseevich", "meta", "2022-01-01", "f:2"},
  };
  SurvivorshipSpec spec;
  spec.rule = SurvivorRule::kMostRecent;
  CHECK(choose_survivor(spec, values) == 3u);  // the blank 2025 value never survives
  spec.rule = SurvivorRule::kSourcePriority;
  spec.sources = {"amocrm", "mailchimp"};
  CHECK(choose_survivor(spec, values) == 1u);
  spec.rule = SurvivorRule::kMostComplete;
  CHECK(choose_survivor(spec, values) == 4u);
  spec.rule = SurvivorRule::kMostFrequent;  // "Petr" and "petr " agree; the more recent of them wins
  CHECK(choose_survivor(spec, values) == 3u);
  CHECK_FALSE(choose_survivor(spec, {{"", "x", "", ""}}));
}
