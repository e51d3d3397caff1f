// Non-cryptographic 128-bit hashing (MurmurHash3_x64_128), for keys that must not collide in practice: dedupe keys
// and the sink ledger's content hashes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace conflux {

struct Hash128 {
  uint64_t low = 0;
  uint64_t high = 0;
  bool operator==(const Hash128& other) const { return low == other.low && high == other.high; }
  bool empty() const { return low == 0 && high == 0; }
};

// MurmurHash3_x64_128 of `data`: a collision between two distinct inputs is out of reach for any realistic run
// (~1e-20 at 1e9 keys).
Hash128 murmur3_128(std::string_view data, uint64_t seed = 0x5bd1e995c0f1u);

// The hash as 32 lower-case hex digits.
std::string to_hex(const Hash128& hash);

}  // namespace conflux
