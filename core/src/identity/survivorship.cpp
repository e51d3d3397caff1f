#include "conflux/identity/survivorship.hpp"

#include <algorithm>
#include <unordered_map>

namespace conflux::identity {

namespace {

std::string_view trimmed(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

std::string fold(std::string_view v) {
  std::string out(trimmed(v));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

size_t source_rank(const std::vector<std::string>& sources, std::string_view source) {
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i] == source) return i;
  }
  return sources.size();
}

// True when candidate a beats b on the tie-break: more recent, then earlier in input order (lower index).
bool newer(const CandidateValue& a, const CandidateValue& b) { return a.timestamp > b.timestamp; }

}  // namespace

const char* survivor_rule_name(SurvivorRule rule) {
  switch (rule) {
    case SurvivorRule::kSourcePriority: return "source_priority";
    case SurvivorRule::kMostRecent: return "most_recent";
    case SurvivorRule::kMostComplete: return "most_complete";
    case SurvivorRule::kMostFrequent: return "most_frequent";
  }
  return "?";
}

SurvivorshipSpec survivorship_for(const ModelConfig& config, const std::string& field) {
  for (const auto& spec : config.survivorship) {
    if (spec.field == field) return spec;
  }
  SurvivorshipSpec spec;
  spec.field = field;
  spec.rule = config.default_survivor;
  spec.sources = config.source_priority;
  return spec;
}

std::optional<size_t> choose_survivor(const SurvivorshipSpec& spec, const std::vector<CandidateValue>& candidates) {
  std::unordered_map<std::string, size_t> frequency;
  if (spec.rule == SurvivorRule::kMostFrequent) {
    for (const auto& c : candidates) {
      if (!trimmed(c.value).empty()) ++frequency[fold(c.value)];
    }
  }
  std::optional<size_t> best;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const CandidateValue& c = candidates[i];
    if (trimmed(c.value).empty()) continue;
    if (!best) {
      best = i;
      continue;
    }
    const CandidateValue& b = candidates[*best];
    bool better = false;
    bool tie = false;
    switch (spec.rule) {
      case SurvivorRule::kSourcePriority: {
        const size_t rc = source_rank(spec.sources, c.source);
        const size_t rb = source_rank(spec.sources, b.source);
        better = rc < rb;
        tie = rc == rb;
        break;
      }
      case SurvivorRule::kMostRecent: better = newer(c, b); break;
      case SurvivorRule::kMostComplete: {
        const size_t lc = trimmed(c.value).size();
        const size_t lb = trimmed(b.value).size();
        better = lc > lb;
        tie = lc == lb;
        break;
      }
      case SurvivorRule::kMostFrequent: {
        const size_t fc = frequency[fold(c.value)];
        const size_t fb = frequency[fold(b.value)];
        better = fc > fb;
        tie = fc == fb;
        break;
      }
    }
    if (better || (tie && newer(c, b))) best = i;
  }
  return best;
}

}  // namespace conflux::identity
