#include "conflux/identity/evaluation.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace conflux::identity {

namespace {

std::string trim(std::string text) {
  size_t begin = 0;
  while (begin < text.size() && (text[begin] == ' ' || text[begin] == '\t')) ++begin;
  size_t end = text.size();
  while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r')) --end;
  return text.substr(begin, end - begin);
}

uint64_t pairs_of(uint64_t n) { return n * (n - 1) / 2; }

size_t column_index(const std::vector<std::string>& columns, const std::string& name) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return i;
  }
  return columns.size();
}

}  // namespace

Result<std::vector<std::vector<std::string>>> read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"' && trim(field).empty()) {
      field.clear();
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n') {
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      any = false;
    } else if (c != '\r') {
      field += c;
      any = true;
    }
  }
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  if (quoted) return failed_precondition("'" + path + "': unterminated quoted field");
  return rows;
}

Result<LabelledTable> load_labelled(const std::string& path, LabelledFormat format, const std::string& truth_column,
                                    const std::string& id_column) {
  auto rows = read_csv(path);
  if (!rows) return rows.status();
  if (rows->empty()) return failed_precondition("'" + path + "' is empty");
  LabelledTable table;
  for (auto& name : (*rows)[0]) table.columns.push_back(trim(name));
  std::string truth_name = truth_column;
  std::string id_name = id_column;
  if (format == LabelledFormat::kFebrl) truth_name = id_name = "rec_id";
  if (format == LabelledFormat::kSplink) {
    truth_name = "cluster";
    id_name = "unique_id";
  }
  const size_t truth_at = column_index(table.columns, truth_name);
  if (truth_at == table.columns.size()) return failed_precondition("'" + path + "' has no column '" + truth_name + "'");
  const size_t id_at = column_index(table.columns, id_name);
  for (size_t r = 1; r < rows->size(); ++r) {
    auto& row = (*rows)[r];
    if (row.size() != table.columns.size()) {
      return failed_precondition("'" + path + "' row " + std::to_string(r + 1) + " has " + std::to_string(row.size()) +
                                 " fields, the header " + std::to_string(table.columns.size()));
    }
    for (auto& value : row) value = trim(std::move(value));
    std::string truth = row[truth_at];
    if (format == LabelledFormat::kFebrl) {  // rec-<N>-org / rec-<N>-dup-<k>
      const size_t first = truth.find('-');
      const size_t second = truth.find('-', first + 1);
      if (first == std::string::npos || second == std::string::npos) {
        return failed_precondition("'" + path + "' row " + std::to_string(r + 1) + ": rec_id '" + truth +
                                   "' is not rec-<N>-org or rec-<N>-dup-<k>");
      }
      truth = truth.substr(first + 1, second - first - 1);
    }
    table.truth.push_back(std::move(truth));
    table.ids.push_back(id_at < row.size() ? row[id_at] : std::to_string(r));
    table.rows.push_back(std::move(row));
  }
  return table;
}

Result<Prepared> prepare_table(const ModelConfig& config, const LabelledTable& table) {
  std::vector<size_t> compared;
  std::vector<size_t> identifiers;
  for (const auto& f : config.fields) {
    const size_t at = column_index(table.columns, f.name);
    if (at == table.columns.size()) return failed_precondition("compared field '" + f.name + "' is not a column of the data");
    compared.push_back(at);
  }
  for (const auto& rule : config.identifiers) {
    const size_t at = column_index(table.columns, rule.field);
    if (at == table.columns.size()) return failed_precondition("identifier field '" + rule.field + "' is not a column of the data");
    identifiers.push_back(at);
  }
  Prepared prepared(config);
  std::vector<std::string_view> a(compared.size());
  std::vector<std::string_view> b(identifiers.size());
  for (const auto& row : table.rows) {
    for (size_t i = 0; i < compared.size(); ++i) a[i] = row[compared[i]];
    for (size_t i = 0; i < identifiers.size(); ++i) b[i] = row[identifiers[i]];
    prepared.add(a, b);
  }
  prepared.finalise();
  return prepared;
}

Evaluation evaluate(const Prepared& records, const Resolution& resolution, const std::vector<std::string>& truth) {
  Evaluation e;
  const size_t n = truth.size();
  e.records = n;
  e.profiles = resolution.clusters;
  std::unordered_map<std::string, uint32_t> truth_ids;
  std::vector<uint32_t> entity(n);
  for (size_t r = 0; r < n; ++r) entity[r] = truth_ids.emplace(truth[r], static_cast<uint32_t>(truth_ids.size())).first->second;
  e.true_entities = truth_ids.size();
  std::vector<uint64_t> entity_size(truth_ids.size(), 0);
  std::vector<uint64_t> cluster_size(resolution.clusters, 0);
  std::unordered_map<uint64_t, uint64_t> overlap;  // (cluster, entity) -> records
  for (size_t r = 0; r < n; ++r) {
    ++entity_size[entity[r]];
    ++cluster_size[resolution.cluster[r]];
    ++overlap[(uint64_t{resolution.cluster[r]} << 32) | entity[r]];
  }
  for (uint64_t s : entity_size) e.clusters.true_pairs += pairs_of(s);
  for (uint64_t s : cluster_size) e.clusters.predicted_pairs += pairs_of(s);
  for (const auto& [key, count] : overlap) e.clusters.true_positives += pairs_of(count);
  double bp = 0;
  double br = 0;
  for (size_t r = 0; r < n; ++r) {
    const double both = static_cast<double>(overlap[(uint64_t{resolution.cluster[r]} << 32) | entity[r]]);
    bp += both / static_cast<double>(cluster_size[resolution.cluster[r]]);
    br += both / static_cast<double>(entity_size[entity[r]]);
  }
  e.bcubed_precision = n == 0 ? 1.0 : bp / static_cast<double>(n);
  e.bcubed_recall = n == 0 ? 1.0 : br / static_cast<double>(n);

  e.scored_pairs.true_pairs = e.clusters.true_pairs;
  e.scored_pairs.predicted_pairs = resolution.matched_pairs.size();
  for (uint64_t p : resolution.matched_pairs) {
    if (entity[pair_first(p)] == entity[pair_second(p)]) ++e.scored_pairs.true_positives;
  }
  BlockingStats stats;
  const std::vector<uint64_t> candidates = candidate_pairs(records, stats);
  e.candidate_pairs = candidates.size();
  for (uint64_t p : candidates) {
    if (entity[pair_first(p)] == entity[pair_second(p)]) ++e.true_pairs_in_candidates;
  }
  e.pair_completeness = e.clusters.true_pairs == 0 ? 1.0 : static_cast<double>(e.true_pairs_in_candidates) / e.clusters.true_pairs;
  const double all = static_cast<double>(pairs_of(n));
  e.reduction_ratio = all == 0 ? 0.0 : 1.0 - static_cast<double>(e.candidate_pairs) / all;
  return e;
}

}  // namespace conflux::identity
