// Evaluation against labelled data: loading the labelled formats (FEBRL, Splink's fake_1000, a generic CSV with a
// truth column) and the metrics `conflux identity eval` prints. Pairwise metrics count pairs of records; a true pair
// missed by blocking counts as a miss. B-cubed averages per-record cluster precision and recall.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "conflux/common/status.hpp"
#include "conflux/identity/resolver.hpp"

namespace conflux::identity {

struct LabelledTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> truth;  // per row: the true entity
  std::vector<std::string> ids;    // per row: the record id
};

enum class LabelledFormat { kFebrl, kSplink, kGeneric };

// Reads a CSV file. febrl: rec_id "rec-<N>-org|dup-<k>" gives the entity <N>, fields are trimmed; splink: the
// `cluster` column; generic: the column `truth_column`. The id column is rec_id / unique_id / `id_column`.
Result<LabelledTable> load_labelled(const std::string& path, LabelledFormat format,
                                    const std::string& truth_column = "truth", const std::string& id_column = "id");

// Prepares `table` for `config`; kFailedPrecondition when a field the model reads is not a column.
Result<Prepared> prepare_table(const ModelConfig& config, const LabelledTable& table);

struct PairMetrics {
  uint64_t true_pairs = 0;
  uint64_t predicted_pairs = 0;
  uint64_t true_positives = 0;
  double precision() const { return predicted_pairs == 0 ? 1.0 : static_cast<double>(true_positives) / predicted_pairs; }
  double recall() const { return true_pairs == 0 ? 1.0 : static_cast<double>(true_positives) / true_pairs; }
  double f1() const {
    const double p = precision();
    const double r = recall();
    return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
  }
};

struct Evaluation {
  PairMetrics clusters;      // pairs inside the resolved profiles
  PairMetrics scored_pairs;  // candidate pairs scored at or above the threshold (before clustering)
  uint64_t candidate_pairs = 0;
  uint64_t true_pairs_in_candidates = 0;
  double pair_completeness = 0;  // true pairs that blocking proposed / all true pairs
  double reduction_ratio = 0;    // 1 - candidate pairs / all pairs
  double bcubed_precision = 0;
  double bcubed_recall = 0;
  size_t records = 0;
  size_t true_entities = 0;
  size_t profiles = 0;
};

// Compares `resolution` (made with keep_matched_pairs) of `records` with `truth`.
Evaluation evaluate(const Prepared& records, const Resolution& resolution, const std::vector<std::string>& truth);

// Reads one CSV line-oriented file into rows (RFC 4180 quoting, CRLF or LF). The first row is the header.
Result<std::vector<std::vector<std::string>>> read_csv(const std::string& path);

}  // namespace conflux::identity
