// End-to-end resolution of prepared records into profiles: blocking, model estimation, scoring, deterministic
// identifier links and constrained clustering. Every record ends in exactly one cluster; records nothing links
// are single-record clusters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conflux/identity/blocking.hpp"
#include "conflux/identity/fellegi_sunter.hpp"
#include "conflux/identity/prepared.hpp"

namespace conflux::identity {

enum class LinkKind : uint8_t { kPrevious, kIdentifier, kScore };
const char* link_kind_name(LinkKind kind);

// A reason two records belong together: an earlier run's profile, a shared identifier (rule index), or a score.
struct Link {
  uint32_t a = 0;
  uint32_t b = 0;
  LinkKind kind = LinkKind::kScore;
  uint32_t rule = 0;      // kIdentifier: index into config.identifiers
  float log2_odds = 0;    // kScore
};

struct Refusal {
  Link link;
  std::string reason;
};

struct ResolveOptions {
  // Per record: non-zero ids of profiles from an earlier run; records with the same id stay together.
  std::vector<uint32_t> previous_group;
  // Per record: (unmerge id, part) pins from `conflux profiles unmerge`; {0, 0} for none.
  std::vector<std::pair<uint32_t, uint32_t>> pins;
  // Use this model instead of estimating one (explain uses the model of the run it explains).
  std::optional<MatchModel> model;
  // Worker threads for scoring; 0: one per core.
  unsigned threads = 0;
  // Keep every candidate pair scored at or above the threshold in Resolution::matched_pairs (for evaluation).
  bool keep_matched_pairs = false;
};

struct Resolution {
  std::vector<uint32_t> cluster;  // per record
  size_t clusters = 0;
  std::vector<Link> links;        // the links that joined two clusters: a spanning forest of every cluster
  std::vector<Refusal> refusals;  // the first 1000 refused merges
  uint64_t refused_merges = 0;
  std::vector<uint64_t> matched_pairs;
  BlockingStats blocking;
  MatchModel model;
  uint64_t scored_pairs = 0;
  uint64_t score_links = 0;       // candidate pairs at or above the threshold
  uint64_t identifier_links = 0;
  size_t records_without_evidence = 0;
  double seconds_blocking = 0;
  double seconds_model = 0;
  double seconds_scoring = 0;
  double seconds_clustering = 0;
};

Resolution resolve(const Prepared& records, const ResolveOptions& options = {});

}  // namespace conflux::identity
