// Blocking: the candidate pairs worth scoring. Each blocking key groups records whose key parts are all present and
// equal; the candidates are the union over keys of the pairs inside each group, deduplicated. Groups larger than
// max_block_size are skipped and counted, which keeps the pair count near-linear in the input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "conflux/identity/prepared.hpp"

namespace conflux::identity {

struct BlockingStats {
  std::vector<uint64_t> pairs_per_key;    // before deduplication across keys
  std::vector<uint64_t> skipped_blocks;   // groups over max_block_size, per key
  uint64_t candidate_pairs = 0;           // after deduplication
};

// A pair is packed as (a << 32) | b with a < b.
inline uint64_t pack_pair(uint32_t a, uint32_t b) {
  return a < b ? (uint64_t{a} << 32) | b : (uint64_t{b} << 32) | a;
}
inline uint32_t pair_first(uint64_t p) { return static_cast<uint32_t>(p >> 32); }
inline uint32_t pair_second(uint64_t p) { return static_cast<uint32_t>(p & 0xFFFFFFFFu); }

// The key of `record` under `key`, or empty when a part is missing.
std::string blocking_key_value(const Prepared& records, const BlockingKey& key, uint32_t record);

// Sorted, unique candidate pairs.
std::vector<uint64_t> candidate_pairs(const Prepared& records, BlockingStats& stats);

}  // namespace conflux::identity
