#include "conflux/identity/fellegi_sunter.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <unordered_map>

#include "conflux/identity/blocking.hpp"

namespace conflux::identity {

namespace {

constexpr double kFloor = 1e-6;  // no level is impossible: keeps weights finite

void normalise(std::vector<double>& p) {
  double sum = 0;
  for (size_t l = 1; l < p.size(); ++l) sum += p[l] = std::max(p[l], kFloor);
  for (size_t l = 1; l < p.size(); ++l) p[l] /= sum;
}

// m starts high on the agreeing levels and low on "different"; EM moves it from there.
std::vector<double> initial_m(size_t levels) {
  std::vector<double> m(levels + 1, 0.0);
  double share = 0.9;
  for (size_t l = 1; l <= levels; ++l) {
    m[l] = l == levels ? 0.02 : share;
    share *= 0.15;
  }
  normalise(m);
  return m;
}

}  // namespace

double MatchModel::log2_prior_odds() const { return std::log2(prior / (1 - prior)); }

void MatchModel::compute_weights() {
  weight.assign(m.size(), {});
  for (size_t f = 0; f < m.size(); ++f) {
    weight[f].assign(m[f].size(), 0.0F);
    for (size_t l = 1; l < m[f].size(); ++l) weight[f][l] = static_cast<float>(std::log2(m[f][l] / u[f][l]));
  }
}

uint64_t comparison_pattern(const Prepared& records, uint32_t a, uint32_t b) {
  uint64_t pattern = 0;
  const size_t fields = records.config().fields.size();
  for (size_t f = 0; f < fields; ++f) pattern |= uint64_t{records.level(f, a, b)} << (4 * f);
  return pattern;
}

MatchModel estimate_model(const Prepared& records, const std::vector<uint64_t>& pairs) {
  const ModelConfig& config = records.config();
  const size_t fields = config.fields.size();
  MatchModel model;
  model.m.resize(fields);
  model.u.resize(fields);

  // u from random pairs: nearly all random pairs are non-matches.
  std::vector<std::vector<double>> random_counts(fields);
  for (size_t f = 0; f < fields; ++f) random_counts[f].assign(config.fields[f].levels() + 1, 1.0);
  if (records.size() >= 2) {
    std::mt19937_64 rng(config.seed);
    std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(records.size() - 1));
    for (size_t s = 0; s < config.u_sample_pairs; ++s) {
      const uint32_t a = pick(rng);
      const uint32_t b = pick(rng);
      if (a == b) continue;
      for (size_t f = 0; f < fields; ++f) random_counts[f][records.level(f, a, b)] += 1.0;
    }
  }
  for (size_t f = 0; f < fields; ++f) {
    const FieldSpec& spec = config.fields[f];
    if (!spec.m.empty()) {
      model.m[f].assign(1, 0.0);
      model.m[f].insert(model.m[f].end(), spec.m.begin(), spec.m.end());
      model.u[f].assign(1, 0.0);
      model.u[f].insert(model.u[f].end(), spec.u.begin(), spec.u.end());
      continue;
    }
    model.m[f] = initial_m(spec.levels());
    model.u[f] = random_counts[f];
    model.u[f][0] = 0;
    normalise(model.u[f]);
  }
  model.prior = config.prior >= 0 ? config.prior : 0.1;

  // EM over distinct comparison vectors: thousands of patterns stand for millions of pairs.
  std::unordered_map<uint64_t, double> counts;
  for (uint64_t p : pairs) counts[comparison_pattern(records, pair_first(p), pair_second(p))] += 1.0;
  std::vector<std::pair<uint64_t, double>> patterns(counts.begin(), counts.end());
  std::sort(patterns.begin(), patterns.end());
  model.patterns = patterns.size();
  model.training_pairs = pairs.size();
  if (patterns.empty() || config.em_max_iterations == 0) {
    model.compute_weights();
    return model;
  }
  std::vector<std::vector<double>> m_sum(fields);
  std::vector<std::vector<double>> u_sum(fields);
  for (int iteration = 1; iteration <= config.em_max_iterations; ++iteration) {
    for (size_t f = 0; f < fields; ++f) {
      m_sum[f].assign(model.m[f].size(), 0.0);
      u_sum[f].assign(model.u[f].size(), 0.0);
    }
    double matched = 0;
    double total = 0;
    for (const auto& [pattern, count] : patterns) {
      double pm = model.prior;
      double pu = 1 - model.prior;
      for (size_t f = 0; f < fields; ++f) {
        const uint8_t l = pattern_level(pattern, f);
        if (l == 0) continue;
        pm *= model.m[f][l];
        pu *= model.u[f][l];
      }
      const double g = pm / (pm + pu);
      matched += count * g;
      total += count;
      for (size_t f = 0; f < fields; ++f) {
        const uint8_t l = pattern_level(pattern, f);
        if (l == 0) continue;
        m_sum[f][l] += count * g;
        u_sum[f][l] += count * (1 - g);
      }
    }
    double change = 0;
    for (size_t f = 0; f < fields; ++f) {
      if (!config.fields[f].m.empty()) continue;
      normalise(m_sum[f]);
      for (size_t l = 1; l < m_sum[f].size(); ++l) change = std::max(change, std::fabs(m_sum[f][l] - model.m[f][l]));
      model.m[f] = m_sum[f];
      if (!config.u_from_random_pairs) {
        normalise(u_sum[f]);
        for (size_t l = 1; l < u_sum[f].size(); ++l) change = std::max(change, std::fabs(u_sum[f][l] - model.u[f][l]));
        model.u[f] = u_sum[f];
      }
    }
    if (config.prior < 0) {
      const double prior = std::clamp(matched / total, 1e-9, 1 - 1e-9);
      change = std::max(change, std::fabs(prior - model.prior));
      model.prior = prior;
    }
    model.iterations = iteration;
    if (change < config.em_tolerance) {
      model.converged = true;
      break;
    }
  }
  model.compute_weights();
  return model;
}

double match_log2_odds(const Prepared& records, const MatchModel& model, uint32_t a, uint32_t b) {
  const auto& fields = records.config().fields;
  double odds = model.log2_prior_odds();
  for (size_t f = 0; f < fields.size(); ++f) {
    const uint8_t l = records.level(f, a, b);
    if (l == 0) continue;
    odds += model.weight[f][l];
    if (l == 1 && fields[f].term_frequency) odds += records.cell(f, a).tf_adjust;
  }
  return odds;
}

double odds_to_probability(double log2_odds) { return 1.0 / (1.0 + std::exp2(-log2_odds)); }

double probability_to_log2_odds(double probability) { return std::log2(probability / (1 - probability)); }

std::vector<FieldEvidence> explain_pair(const Prepared& records, const MatchModel& model, uint32_t a, uint32_t b) {
  std::vector<FieldEvidence> out;
  const auto& fields = records.config().fields;
  for (size_t f = 0; f < fields.size(); ++f) {
    FieldEvidence e;
    e.field = fields[f].name;
    const Cell& ca = records.cell(f, a);
    const Cell& cb = records.cell(f, b);
    if (ca.present) e.value_a = std::string(records.text(ca));
    if (cb.present) e.value_b = std::string(records.text(cb));
    e.level = records.level(f, a, b);
    e.level_label = fields[f].level_label(e.level);
    if (e.level != 0) {
      e.weight = model.weight[f][e.level];
      if (e.level == 1 && fields[f].term_frequency) e.weight += ca.tf_adjust;
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace conflux::identity
