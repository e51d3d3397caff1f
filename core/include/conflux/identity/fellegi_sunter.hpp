// Fellegi-Sunter scoring: each compared field's comparison level carries a weight log2(m/u), where m is the chance
// of that level among true matches and u among non-matches. A pair's evidence is the sum of its weights plus the
// prior log-odds; its match probability follows. m, u and the prior are given in config or estimated by EM over
// the candidate pairs (Jaro 1989; Winkler 1988), starting u from random record pairs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "conflux/identity/prepared.hpp"

namespace conflux::identity {

struct MatchModel {
  double prior = 0.01;                     // P(match) for a candidate pair
  std::vector<std::vector<double>> m;      // [field][level]; level 0 (missing) unused
  std::vector<std::vector<double>> u;
  std::vector<std::vector<float>> weight;  // log2(m/u); weight[f][0] = 0
  int iterations = 0;
  bool converged = false;
  size_t patterns = 0;        // distinct comparison vectors EM saw
  uint64_t training_pairs = 0;

  double log2_prior_odds() const;
  void compute_weights();
};

// The comparison levels of a pair, 4 bits per field (field 0 in the low bits).
uint64_t comparison_pattern(const Prepared& records, uint32_t a, uint32_t b);
inline uint8_t pattern_level(uint64_t pattern, size_t field) { return static_cast<uint8_t>((pattern >> (4 * field)) & 0xF); }

// Estimates the model from `pairs` (candidate pairs). Fields with m/u in config keep them; a fixed prior
// (config.prior >= 0) is not re-estimated. u starts from config.u_sample_pairs random pairs; with
// config.u_from_random_pairs it stays there.
MatchModel estimate_model(const Prepared& records, const std::vector<uint64_t>& pairs);

// log2 of the posterior odds that a and b match: prior log-odds + field weights (+ term-frequency adjustments).
double match_log2_odds(const Prepared& records, const MatchModel& model, uint32_t a, uint32_t b);
double odds_to_probability(double log2_odds);
double probability_to_log2_odds(double probability);

// One field's part in a pair's score, for `conflux profiles explain`.
struct FieldEvidence {
  std::string field;
  std::string value_a;
  std::string value_b;
  uint8_t level = 0;
  std::string level_label;
  double weight = 0;  // log2 Bayes factor, term frequency included
};
std::vector<FieldEvidence> explain_pair(const Prepared& records, const MatchModel& model, uint32_t a, uint32_t b);

}  // namespace conflux::identity
