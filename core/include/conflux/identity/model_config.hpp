// The identity-resolution model as configured: compared fields and their comparison levels, blocking keys,
// deterministic identifier rules, EM settings, the match threshold and survivorship. Read from YAML/JSON by
// parse_model_config; docs/identity.md documents every key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conflux/common/status.hpp"

namespace conflux::identity {

enum class Comparator { kExact, kJaroWinkler, kLevenshtein, kDamerau, kName, kDate, kNumber, kEmail, kPhone };
const char* comparator_name(Comparator comparator);

// One compared field. Levels are numbered from 1 (most alike) to levels() (the "else" level); level 0 means
// "one side is missing" and carries no evidence (weight 0).
//   exact          1 equal, 2 else
//   jaro_winkler   1 equal, then one level per similarity floor in `thresholds` (descending), else
//   levenshtein /
//   damerau        1 equal, then one level per distance ceiling in `thresholds` (ascending), else
//   name           1 equal after transliteration, 2 same name key or same canonical nickname, then Jaro-Winkler
//                  floors on the name key, else
//   date           1 equal, 2 day and month swapped or one digit typed wrong, then one level per tolerance in
//                  days, else
//   number         1 equal, then one level per absolute tolerance, else
//   email          1 equal, 2 same mailbox at another domain or one edit apart, then Jaro-Winkler floors on the
//                  whole address, else
//   phone          1 equal as E.164, 2 one digit typed wrong or two swapped, else
struct FieldSpec {
  std::string name;
  Comparator comparator = Comparator::kExact;
  std::vector<double> thresholds;
  // Weight the exact level by how rare the value is (Splink's term-frequency adjustment): agreeing on "smith" says
  // less than agreeing on "zyzniewski".
  bool term_frequency = false;
  // Given m and u probabilities per level (1..levels()); empty: estimated by EM.
  std::vector<double> m;
  std::vector<double> u;
  std::string default_country = "7";  // phone: calling code for numbers written without '+'

  size_t levels() const;
  std::string level_label(size_t level) const;
};

// How one blocking-key part is derived from a field's value:
//   value     the normalised value        first:N / last:N  its first / last N characters
//   name      the canonical name key      year              the year of a date
//   soundex   American Soundex of the (name key of the) value: "alan" and "allen" share A450
enum class KeyTransform { kValue, kFirst, kLast, kName, kYear, kSoundex };
struct KeyPart {
  std::string field;
  KeyTransform transform = KeyTransform::kValue;
  size_t length = 0;  // for first/last
};
// Records whose key parts are all non-empty and equal become candidate pairs. A key is written as
// "surname:first:3+dob:year" style parts in config.
struct BlockingKey {
  std::vector<KeyPart> parts;
  std::string text;  // as configured, for reports
};

enum class IdentifierType { kEmail, kPhone, kId };
// A deterministic rule: records sharing a usable value of `field` are the same person, unless the merge would
// break a per-profile limit. Rules apply in the order configured (the priority order).
struct IdentifierRule {
  std::string field;
  IdentifierType type = IdentifierType::kId;
  std::vector<std::string> blocked;  // normalised values that never link (role addresses, office phones)
  size_t max_per_profile = 0;        // 0: no limit
  std::string default_country = "7";  // phone numbers without '+'
};

enum class SurvivorRule { kSourcePriority, kMostRecent, kMostComplete, kMostFrequent };
struct SurvivorshipSpec {
  std::string field;
  SurvivorRule rule = SurvivorRule::kMostRecent;
  std::vector<std::string> sources;  // kSourcePriority: best first; unlisted sources rank after them
};

// How scored links become profiles. transitive: every link joins (single linkage). average: a scored link joins two
// profiles only when the mean match probability over all pairs of their records reaches the threshold, so one
// strong link through a sparse record does not chain two people together. Identifier links always join.
enum class Clustering { kTransitive, kAverage };

struct ModelConfig {
  std::vector<FieldSpec> fields;
  std::vector<BlockingKey> blocking;
  std::vector<IdentifierRule> identifiers;
  std::vector<SurvivorshipSpec> survivorship;
  SurvivorRule default_survivor = SurvivorRule::kMostRecent;
  std::vector<std::string> source_priority;  // for kSourcePriority fields without their own list
  // A pair links when its posterior match probability reaches this. Fixed in config before looking at labels.
  double match_probability = 0.5;
  Clustering clustering = Clustering::kAverage;
  // Prior probability that a candidate pair matches; < 0: estimated by EM.
  double prior = -1;
  int em_max_iterations = 200;
  double em_tolerance = 1e-7;
  // Random record pairs drawn to start u (and to fix it when u_from_random_pairs).
  size_t u_sample_pairs = 1000000;
  bool u_from_random_pairs = false;
  size_t max_block_size = 1000;  // larger blocks are skipped (and counted): they would make pairs quadratic
  uint64_t seed = 20240601;
  std::string schema;  // record schema whose fields the compared fields must name (schemas/records/<schema>.json)

  // Every field the model reads (compared, blocking, identifiers, survivorship), each once.
  std::vector<std::string> referenced_fields() const;
};

// Reads a model from its JSON form (the `identity:` YAML block, or the stage's keys). kFailedPrecondition naming
// the key on any problem.
Result<ModelConfig> parse_model_config(const nlohmann::json& config);

}  // namespace conflux::identity
