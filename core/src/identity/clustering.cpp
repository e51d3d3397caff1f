#include "conflux/identity/clustering.hpp"

#include <algorithm>
#include <numeric>

namespace conflux::identity {

namespace {

void insert_sorted(std::vector<uint64_t>& values, uint64_t value) {
  auto it = std::lower_bound(values.begin(), values.end(), value);
  if (it == values.end() || *it != value) values.insert(it, value);
}

std::vector<uint64_t> merged(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  std::vector<uint64_t> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

ConstrainedUnionFind::ConstrainedUnionFind(size_t records, std::vector<size_t> limits)
    : parent_(records), size_(records, 1), limits_(std::move(limits)), values_(records), pins_(records) {
  std::iota(parent_.begin(), parent_.end(), 0U);
}

void ConstrainedUnionFind::add_identifier(uint32_t record, uint32_t rule, uint32_t value_id) {
  if (rule >= limits_.size() || limits_[rule] == 0 || value_id == 0) return;
  insert_sorted(values_[find(record)], (uint64_t{rule} << 32) | value_id);
}

void ConstrainedUnionFind::add_pin(uint32_t record, uint32_t unmerge, uint32_t part) {
  if (unmerge == 0 || part == 0) return;
  insert_sorted(pins_[find(record)], (uint64_t{unmerge} << 32) | part);
}

uint32_t ConstrainedUnionFind::find(uint32_t record) {
  uint32_t root = record;
  while (parent_[root] != root) root = parent_[root];
  while (parent_[record] != root) {  // path compression
    const uint32_t next = parent_[record];
    parent_[record] = root;
    record = next;
  }
  return root;
}

ConstrainedUnionFind::Join ConstrainedUnionFind::join(uint32_t a, uint32_t b, std::string* reason) {
  uint32_t ra = find(a);
  uint32_t rb = find(b);
  if (ra == rb) return Join::kAlreadyTogether;
  if (!pins_[ra].empty() && !pins_[rb].empty()) {
    for (uint64_t pa : pins_[ra]) {
      for (uint64_t pb : pins_[rb]) {
        if ((pa >> 32) == (pb >> 32) && pa != pb) {
          if (reason != nullptr) *reason = "unmerge " + std::to_string(pa >> 32) + " keeps these records apart";
          return Join::kRefused;
        }
      }
    }
  }
  std::vector<uint64_t> values;
  if (!values_[ra].empty() || !values_[rb].empty()) {
    values = merged(values_[ra], values_[rb]);
    for (size_t i = 0; i < values.size();) {
      const uint64_t rule = values[i] >> 32;
      size_t j = i;
      while (j < values.size() && (values[j] >> 32) == rule) ++j;
      if (j - i > limits_[rule]) {
        if (reason != nullptr) {
          *reason = "identifier rule " + std::to_string(rule) + " allows at most " + std::to_string(limits_[rule]) +
                    " value(s) per profile; the merge would give " + std::to_string(j - i);
        }
        return Join::kRefused;
      }
      i = j;
    }
  }
  if (size_[ra] < size_[rb]) std::swap(ra, rb);
  parent_[rb] = ra;
  size_[ra] += size_[rb];
  values_[ra] = std::move(values);
  values_[rb].clear();
  values_[rb].shrink_to_fit();
  if (!pins_[rb].empty()) {
    pins_[ra] = merged(pins_[ra], pins_[rb]);
    pins_[rb].clear();
  }
  return Join::kJoined;
}

std::vector<uint32_t> ConstrainedUnionFind::clusters(size_t* count) {
  std::vector<uint32_t> number(parent_.size(), UINT32_MAX);
  std::vector<uint32_t> out(parent_.size());
  uint32_t next = 0;
  for (uint32_t r = 0; r < parent_.size(); ++r) {
    const uint32_t root = find(r);
    if (number[root] == UINT32_MAX) number[root] = next++;
    out[r] = number[root];
  }
  if (count != nullptr) *count = next;
  return out;
}

}  // namespace conflux::identity
