#include "conflux/identity/resolver.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "conflux/identity/clustering.hpp"

namespace conflux::identity {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Scores `pairs` on `threads` threads; returns the links at or above `min_odds` in pair order.
std::vector<Link> score_pairs(const Prepared& records, const MatchModel& model, const std::vector<uint64_t>& pairs,
                              double min_odds, unsigned threads) {
  const size_t n = pairs.size();
  threads = std::max(1U, std::min<unsigned>(threads, static_cast<unsigned>(n / 10000 + 1)));
  std::vector<std::vector<Link>> parts(threads);
  auto work = [&](unsigned t) {
    const size_t begin = n * t / threads;
    const size_t end = n * (t + 1) / threads;
    for (size_t i = begin; i < end; ++i) {
      const uint32_t a = pair_first(pairs[i]);
      const uint32_t b = pair_second(pairs[i]);
      const double odds = match_log2_odds(records, model, a, b);
      if (odds >= min_odds) parts[t].push_back(Link{a, b, LinkKind::kScore, 0, static_cast<float>(odds)});
    }
  };
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t) workers.emplace_back(work, t);
  work(0);
  for (auto& w : workers) w.join();
  std::vector<Link> out;
  for (auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

}  // namespace

const char* link_kind_name(LinkKind kind) {
  switch (kind) {
    case LinkKind::kPrevious: return "previous";
    case LinkKind::kIdentifier: return "identifier";
    case LinkKind::kScore: return "score";
  }
  return "?";
}

Resolution resolve(const Prepared& records, const ResolveOptions& options) {
  const ModelConfig& config = records.config();
  const auto n = static_cast<uint32_t>(records.size());
  Resolution out;
  unsigned threads = options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());

  auto start = std::chrono::steady_clock::now();
  std::vector<uint64_t> pairs;
  if (!config.fields.empty()) pairs = candidate_pairs(records, out.blocking);
  out.seconds_blocking = seconds_since(start);

  start = std::chrono::steady_clock::now();
  out.model = options.model ? *options.model : estimate_model(records, pairs);
  out.seconds_model = seconds_since(start);

  start = std::chrono::steady_clock::now();
  const double min_odds = probability_to_log2_odds(config.match_probability);
  std::vector<Link> scored = score_pairs(records, out.model, pairs, min_odds, threads);
  out.scored_pairs = pairs.size();
  out.score_links = scored.size();
  if (options.keep_matched_pairs) {
    out.matched_pairs.reserve(scored.size());
    for (const Link& l : scored) out.matched_pairs.push_back(pack_pair(l.a, l.b));
  }
  pairs.clear();
  pairs.shrink_to_fit();
  out.seconds_scoring = seconds_since(start);

  start = std::chrono::steady_clock::now();
  std::vector<size_t> limits;
  for (const auto& rule : config.identifiers) limits.push_back(rule.max_per_profile);
  ConstrainedUnionFind clusters(n, limits);
  for (uint32_t r = 0; r < n; ++r) {
    for (uint32_t rule = 0; rule < config.identifiers.size(); ++rule) {
      clusters.add_identifier(r, rule, records.identifier_id(rule, r));
    }
    if (r < options.pins.size()) clusters.add_pin(r, options.pins[r].first, options.pins[r].second);
    if (!records.has_evidence(r)) ++out.records_without_evidence;
  }
  // Members per cluster root, for the average-linkage check.
  const bool average = config.clustering == Clustering::kAverage;
  std::vector<std::vector<uint32_t>> members;
  if (average) {
    members.resize(n);
    for (uint32_t r = 0; r < n; ++r) members[r].push_back(r);
  }
  const double min_probability = config.match_probability;
  // Mean match probability over the pairs across two clusters (at most kMaxCrossPairs of them, taken in order).
  auto mean_probability = [&](uint32_t root_a, uint32_t root_b) {
    constexpr size_t kMaxCrossPairs = 1024;  // bounds the cost of joining two large profiles
    double sum = 0;
    size_t count = 0;
    for (uint32_t x : members[root_a]) {
      for (uint32_t y : members[root_b]) {
        sum += odds_to_probability(match_log2_odds(records, out.model, x, y));
        if (++count == kMaxCrossPairs) return sum / static_cast<double>(count);
      }
    }
    return count == 0 ? 1.0 : sum / static_cast<double>(count);
  };
  auto offer = [&](const Link& link) {
    std::string reason;
    uint32_t root_a = 0;
    uint32_t root_b = 0;
    if (average) {
      root_a = clusters.find(link.a);
      root_b = clusters.find(link.b);
      if (root_a == root_b) return;
      if (link.kind == LinkKind::kScore && members[root_a].size() * members[root_b].size() > 1 &&
          mean_probability(root_a, root_b) < min_probability) {
        ++out.refused_merges;
        if (out.refusals.size() < 1000) {
          out.refusals.push_back({link, "the mean match probability between the two profiles is below the threshold"});
        }
        return;
      }
    }
    switch (clusters.join(link.a, link.b, &reason)) {
      case ConstrainedUnionFind::Join::kJoined:
        out.links.push_back(link);
        if (average) {
          const uint32_t root = clusters.find(link.a);
          const uint32_t other = root == root_a ? root_b : root_a;
          members[root].insert(members[root].end(), members[other].begin(), members[other].end());
          members[other].clear();
          members[other].shrink_to_fit();
        }
        break;
      case ConstrainedUnionFind::Join::kAlreadyTogether: break;
      case ConstrainedUnionFind::Join::kRefused:
        ++out.refused_merges;
        if (out.refusals.size() < 1000) out.refusals.push_back({link, std::move(reason)});
        break;
    }
  };
  // 1. Earlier runs' profiles stay whole.
  if (!options.previous_group.empty()) {
    std::vector<std::pair<uint32_t, uint32_t>> groups;
    for (uint32_t r = 0; r < n && r < options.previous_group.size(); ++r) {
      if (options.previous_group[r] != 0) groups.emplace_back(options.previous_group[r], r);
    }
    std::sort(groups.begin(), groups.end());
    for (size_t i = 1; i < groups.size(); ++i) {
      if (groups[i].first == groups[i - 1].first) offer(Link{groups[i - 1].second, groups[i].second, LinkKind::kPrevious, 0, 0});
    }
  }
  // 2. Shared identifiers, in the configured priority order.
  for (uint32_t rule = 0; rule < config.identifiers.size(); ++rule) {
    std::vector<std::pair<uint32_t, uint32_t>> by_value;
    for (uint32_t r = 0; r < n; ++r) {
      if (const uint32_t id = records.identifier_id(rule, r); id != 0) by_value.emplace_back(id, r);
    }
    std::sort(by_value.begin(), by_value.end());
    for (size_t i = 1; i < by_value.size(); ++i) {
      if (by_value[i].first != by_value[i - 1].first) continue;
      ++out.identifier_links;
      offer(Link{by_value[i - 1].second, by_value[i].second, LinkKind::kIdentifier, rule, 0});
    }
  }
  // 3. Scored pairs, strongest first: a refused weak link never pre-empts a strong one.
  std::stable_sort(scored.begin(), scored.end(), [](const Link& x, const Link& y) { return x.log2_odds > y.log2_odds; });
  for (const Link& link : scored) offer(link);
  out.cluster = clusters.clusters(&out.clusters);
  out.seconds_clustering = seconds_since(start);
  return out;
}

}  // namespace conflux::identity
