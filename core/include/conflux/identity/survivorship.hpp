// Survivorship: which of a profile's values becomes the golden record's value for a field, and where it came from.
// Rules: source priority (a ranked list of sources), most recent (latest timestamp), most complete (longest
// value), most frequent (the value most records agree on, compared trimmed and case-folded in ASCII). Ties go to
// the most recent, then to the earliest record, so the choice is deterministic.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conflux/identity/model_config.hpp"

namespace conflux::identity {

// One record's value for a field, with its provenance.
struct CandidateValue {
  std::string_view value;
  std::string_view source;
  std::string_view timestamp;  // ISO-8601, compared as text; empty: unknown (oldest)
  std::string_view record;     // the record's key
};

// The index of the surviving candidate; nullopt when every value is blank.
std::optional<size_t> choose_survivor(const SurvivorshipSpec& spec, const std::vector<CandidateValue>& candidates);

// The rule for `field`: its own entry in config.survivorship, else config.default_survivor with
// config.source_priority.
SurvivorshipSpec survivorship_for(const ModelConfig& config, const std::string& field);

const char* survivor_rule_name(SurvivorRule rule);

}  // namespace conflux::identity
