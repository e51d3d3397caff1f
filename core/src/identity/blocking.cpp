#include "conflux/identity/blocking.hpp"

#include <algorithm>
#include <functional>

namespace conflux::identity {

namespace {

size_t field_index(const ModelConfig& config, const std::string& name) {
  for (size_t i = 0; i < config.fields.size(); ++i) {
    if (config.fields[i].name == name) return i;
  }
  return config.fields.size();  // parse_model_config guarantees blocking fields are compared fields
}

// American Soundex (first letter + three digits) of the letters of `text`.
std::string soundex(std::string_view text) {
  static constexpr char kCodes[27] = "01230120022455012623010202";  // a..z
  std::string out;
  char last = 0;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c < 'a' || c > 'z') continue;
    const char code = kCodes[c - 'a'];
    if (out.empty()) {
      out += static_cast<char>(c - 'a' + 'A');
      last = code;
      continue;
    }
    if (code != '0' && code != last) out += code;
    if (c != 'h' && c != 'w') last = code;  // h and w do not separate equal codes; vowels do
    if (out.size() == 4) break;
  }
  if (!out.empty()) out.resize(4, '0');
  return out;
}

}  // namespace

std::string blocking_key_value(const Prepared& records, const BlockingKey& key, uint32_t record) {
  std::string out;
  for (const KeyPart& part : key.parts) {
    const size_t f = field_index(records.config(), part.field);
    if (f >= records.config().fields.size()) return {};
    const Cell& c = records.cell(f, record);
    if (!c.present) return {};
    std::string_view value = records.text(c);
    switch (part.transform) {
      case KeyTransform::kValue: break;
      case KeyTransform::kFirst: value = value.substr(0, part.length); break;
      case KeyTransform::kLast: value = value.size() > part.length ? value.substr(value.size() - part.length) : value; break;
      case KeyTransform::kName: {
        if (records.config().fields[f].comparator != Comparator::kName) break;
        out += 'n';
        out += std::to_string(c.canonical);  // the canonical name id: nicknames share it
        out += '\x1f';
        continue;
      }
      case KeyTransform::kYear: value = value.substr(0, 4); break;
      case KeyTransform::kSoundex: {
        const bool is_name = records.config().fields[f].comparator == Comparator::kName;
        const std::string code = soundex(is_name ? records.key(c) : value);
        if (code.empty()) return {};
        out += code;
        out += '\x1f';
        continue;
      }
    }
    if (value.empty()) return {};
    out += value;
    out += '\x1f';
  }
  return out;
}

std::vector<uint64_t> candidate_pairs(const Prepared& records, BlockingStats& stats) {
  const ModelConfig& config = records.config();
  std::vector<uint64_t> pairs;
  stats = BlockingStats{};
  std::vector<std::pair<uint64_t, uint32_t>> keyed;
  keyed.reserve(records.size());
  for (const BlockingKey& key : config.blocking) {
    keyed.clear();
    for (uint32_t r = 0; r < records.size(); ++r) {
      const std::string value = blocking_key_value(records, key, r);
      if (!value.empty()) keyed.emplace_back(std::hash<std::string>{}(value), r);
    }
    std::sort(keyed.begin(), keyed.end());
    uint64_t emitted = 0;
    uint64_t skipped = 0;
    for (size_t start = 0; start < keyed.size();) {
      size_t end = start + 1;
      while (end < keyed.size() && keyed[end].first == keyed[start].first) ++end;
      const size_t size = end - start;
      if (size > config.max_block_size) {
        ++skipped;
      } else {
        for (size_t i = start; i < end; ++i) {
          for (size_t j = i + 1; j < end; ++j) pairs.push_back(pack_pair(keyed[i].second, keyed[j].second));
        }
        emitted += size * (size - 1) / 2;
      }
      start = end;
    }
    stats.pairs_per_key.push_back(emitted);
    stats.skipped_blocks.push_back(skipped);
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  stats.candidate_pairs = pairs.size();
  return pairs;
}

}  // namespace conflux::identity
