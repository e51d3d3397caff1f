// Clustering with constraints: union-find where a join is refused when the joined profile would hold more distinct
// values of an identifier type than its per-profile limit allows (two CRM ids, four phones), or would put back
// together records that an unmerge separated. Links are offered strongest first, so a refused weak link never
// blocks a strong one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace conflux::identity {

class ConstrainedUnionFind {
 public:
  // `limits[r]`: at most that many distinct values of identifier rule r per profile; 0: no limit.
  ConstrainedUnionFind(size_t records, std::vector<size_t> limits);

  // Declares that `record` carries value `value_id` (non-zero) of identifier rule `rule`.
  void add_identifier(uint32_t record, uint32_t rule, uint32_t value_id);
  // Declares that `record` is in part `part` (non-zero) of unmerge `unmerge` (non-zero): records of the same
  // unmerge in different parts never join again.
  void add_pin(uint32_t record, uint32_t unmerge, uint32_t part);

  enum class Join { kJoined, kAlreadyTogether, kRefused };
  // Joins the profiles of a and b unless a constraint forbids it; on kRefused, `reason` says which.
  Join join(uint32_t a, uint32_t b, std::string* reason = nullptr);
  uint32_t find(uint32_t record);
  // Dense cluster numbers per record, numbered by each cluster's first record.
  std::vector<uint32_t> clusters(size_t* count = nullptr);

 private:
  std::vector<uint32_t> parent_;
  std::vector<uint32_t> size_;
  std::vector<size_t> limits_;
  // Per root: sorted (rule << 32 | value) of limited rules, and sorted (unmerge << 32 | part) pins.
  std::vector<std::vector<uint64_t>> values_;
  std::vector<std::vector<uint64_t>> pins_;
};

}  // namespace conflux::identity
