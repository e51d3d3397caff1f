// Records prepared for comparison: every compared field normalised once (transliterated names, name keys, parsed
// dates and numbers, term frequencies), stored column by column in one text arena, so that comparing a pair reads
// a few cache lines and allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conflux/identity/model_config.hpp"

namespace conflux::identity {

// One compared field of one record. Offsets point into Prepared's arena.
struct Cell {
  uint32_t offset = 0;      // normalised text
  uint32_t key_offset = 0;  // name key (name), digits YYYYMMDD (date), mailbox (email)
  uint16_t length = 0;
  uint16_t key_length = 0;
  uint32_t canonical = 0;   // name: id of the canonical name; date: year*10000+month*100+day
  double number = 0;        // date: days since the epoch; number: the value
  float tf_adjust = 0;      // log2(average exact-agreement chance / this value's frequency); 0 without tf
  bool present = false;
};

class Prepared {
 public:
  explicit Prepared(const ModelConfig& config);

  // Adds one record: `compared` holds the raw values of config.fields, `identifiers` those of config.identifiers
  // (empty views for missing values). Blocked identifier values are dropped here.
  void add(const std::vector<std::string_view>& compared, const std::vector<std::string_view>& identifiers);
  // Computes term frequencies; call once after the last add() and before comparing.
  void finalise();

  size_t size() const { return size_; }
  const ModelConfig& config() const { return *config_; }
  const Cell& cell(size_t field, size_t record) const { return columns_[field][record]; }
  std::string_view text(const Cell& c) const { return {arena_.data() + c.offset, c.length}; }
  std::string_view key(const Cell& c) const { return {arena_.data() + c.key_offset, c.key_length}; }
  // The normalised value of identifier rule `rule` for `record`, or empty when missing or blocked.
  std::string_view identifier(size_t rule, size_t record) const;
  // Interned id of that identifier value (0: none); equal ids mean equal values.
  uint32_t identifier_id(size_t rule, size_t record) const { return identifier_ids_[rule][record]; }
  size_t identifier_count() const { return identifier_values_.size(); }
  // Records with no compared value and no identifier: nothing can link them.
  bool has_evidence(size_t record) const;
  // How many identifier values were dropped as blocked.
  size_t blocked_identifier_values() const { return blocked_values_; }

  // The comparison level (0 missing, 1..levels) of `field` for records a and b. Hot path: no allocation.
  uint8_t level(size_t field, uint32_t a, uint32_t b) const;

 private:
  uint32_t append(std::string_view text);

  const ModelConfig* config_;
  size_t size_ = 0;
  std::string arena_;
  std::vector<std::vector<Cell>> columns_;
  std::vector<std::vector<uint32_t>> identifier_ids_;  // [rule][record]
  std::vector<std::string> identifier_values_;          // id -> value; id 0 is ""
  size_t blocked_values_ = 0;
  struct Interner;
  std::shared_ptr<Interner> interner_;
};

}  // namespace conflux::identity
