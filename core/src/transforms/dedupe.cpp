// dedupe: drops records whose key (one or more fields) was already seen. keep: first streams and remembers only a
// 128-bit hash per distinct key; keep: last and most_complete hold the current winner per key until finish().
// Records whose key parts are all blank are never deduplicated (they pass through at once).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <unordered_map>

#include "conflux/common/hash.hpp"
#include "config_reader.hpp"
#include "stages.hpp"
#include "text_util.hpp"

namespace conflux::transforms::internal {

namespace {

using conflux::Hash128;
using conflux::murmur3_128;

struct Hash128Hasher {
  size_t operator()(const Hash128& h) const { return static_cast<size_t>(h.low); }
};

// Open-addressing set of 128-bit hashes: 16 bytes a slot, at most 3/4 full, so 21-43 bytes per distinct key.
// Slots come from calloc: large blocks arrive as fresh zero pages, so growing costs no separate clearing pass.
class HashSet128 {
 public:
  // True when `h` was not in the set (and is now).
  bool insert(Hash128 h) {
    if (h.empty()) h.low = 1;  // the all-zero value marks a free slot
    if ((size_ + 1) * 4 > capacity_ * 3) grow();
    if (place(slots_.get(), capacity_, h)) {
      ++size_;
      return true;
    }
    return false;
  }
  size_t size() const { return size_; }
  // A hint that `h` is about to be inserted.
  void prefetch(const Hash128& h) const {
    if (capacity_ != 0) __builtin_prefetch(&slots_[static_cast<size_t>(h.high) & (capacity_ - 1)]);
  }

 private:
  struct Free {
    void operator()(Hash128* p) const { std::free(p); }
  };
  using Slots = std::unique_ptr<Hash128[], Free>;

  static bool place(Hash128* slots, size_t capacity, const Hash128& h) {
    const size_t mask = capacity - 1;
    for (size_t i = static_cast<size_t>(h.high) & mask;; i = (i + 1) & mask) {
      if (slots[i].empty()) {
        slots[i] = h;
        return true;
      }
      if (slots[i] == h) return false;
    }
  }
  void grow() {
    const size_t capacity = capacity_ == 0 ? 1024 : capacity_ * 2;
    Slots bigger(static_cast<Hash128*>(std::calloc(capacity, sizeof(Hash128))));
    if (!bigger) throw std::bad_alloc();
    for (size_t i = 0; i < capacity_; ++i) {
      if (!slots_[i].empty()) place(bigger.get(), capacity, slots_[i]);
    }
    slots_ = std::move(bigger);
    capacity_ = capacity;
  }

  Slots slots_;
  size_t capacity_ = 0;  // a power of two, or 0 before the first insert
  size_t size_ = 0;
};

using engine::Rejected;

enum class Keep { kFirst, kLast, kMostComplete };

class DedupeTransform final : public engine::Transform {
 public:
  DedupeTransform(std::vector<std::string> key, Keep keep, bool normalise)
      : key_(std::move(key)), keep_(keep), normalise_(normalise) {}

  Status apply(std::vector<Record>& records, std::vector<Rejected>& rejected) override {
    // Hash the whole batch first and prefetch each key's slot: the set outgrows the CPU caches, and fetching the
    // slots of the batch in parallel hides most of the memory latency of the inserts below.
    hashes_.resize(records.size());
    has_key_.resize(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      has_key_[i] = key_hash(records[i], hashes_[i]);
      if (has_key_[i] && keep_ == Keep::kFirst) seen_.prefetch(hashes_[i]);
    }
    size_t kept = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      const Hash128 h = hashes_[i];
      if (!has_key_[i]) {  // every key part blank: never a duplicate
        if (kept != i) records[kept] = std::move(records[i]);
        ++kept;
        continue;
      }
      if (keep_ == Keep::kFirst) {
        if (seen_.insert(h)) {
          if (kept != i) records[kept] = std::move(records[i]);
          ++kept;
        } else {
          std::string reason = "dedupe: duplicate " + key_names() + " (the first record was kept)";
          rejected.push_back({std::move(records[i]), std::move(reason), false});
        }
        continue;
      }
      hold(h, std::move(records[i]), rejected);
    }
    records.resize(kept);
    return Status::ok();
  }

  Status finish(std::vector<Record>& records, std::vector<Rejected>& /*rejected*/) override {
    std::vector<Held*> winners;
    winners.reserve(held_.size());
    for (auto& [h, held] : held_) winners.push_back(&held);
    std::sort(winners.begin(), winners.end(), [](const Held* a, const Held* b) { return a->sequence < b->sequence; });
    for (Held* held : winners) records.push_back(std::move(held->record));
    held_.clear();
    return Status::ok();
  }

  bool holds_records() const override { return keep_ != Keep::kFirst; }

 private:
  struct Held {
    uint64_t sequence = 0;
    size_t completeness = 0;
    Record record;
  };

  void hold(const Hash128& h, Record record, std::vector<Rejected>& rejected) {
    const uint64_t sequence = next_sequence_++;
    auto it = held_.find(h);
    if (it == held_.end()) {
      size_t completeness = keep_ == Keep::kMostComplete ? record.non_blank_count() : 0;
      held_.emplace(h, Held{sequence, completeness, std::move(record)});
      return;
    }
    Held& current = it->second;
    if (keep_ == Keep::kLast) {
      std::string reason = "dedupe: duplicate " + key_names() + " (a later record was kept)";
      rejected.push_back({std::move(current.record), std::move(reason), false});
      current = Held{sequence, 0, std::move(record)};
      return;
    }
    size_t completeness = record.non_blank_count();
    if (completeness > current.completeness) {  // ties keep the earlier record
      std::string reason = "dedupe: duplicate " + key_names() + " (a more complete record was kept)";
      rejected.push_back({std::move(current.record), std::move(reason), false});
      current = Held{sequence, completeness, std::move(record)};
    } else {
      std::string reason = "dedupe: duplicate " + key_names() + " (an as complete or more complete record was kept)";
      rejected.push_back({std::move(record), std::move(reason), false});
    }
  }

  // The key part of one field: empty when blank; strings are read in place unless they need normalising.
  std::string_view part(const Value* value, std::string& scratch) const {
    if (value == nullptr || value->is_blank()) return {};
    if (value->is_string() && !normalise_) return value->text;
    scratch = value->to_text();
    if (normalise_) scratch = fold_case(trim_unicode(scratch));
    return scratch;
  }

  // False when every key part is blank.
  bool key_hash(const Record& record, Hash128& out) const {
    thread_local std::string buffer;
    thread_local std::string scratch;
    buffer.clear();
    bool any = false;
    for (const std::string& field : key_) {
      const Value* value = record.find(field);
      std::string_view text = part(value, scratch);
      any = any || !text.empty();
      const uint64_t length = text.size();
      buffer.append(reinterpret_cast<const char*>(&length), sizeof length);  // length prefix: ("ab","c") != ("a","bc")
      buffer += text;
    }
    if (!any) return false;
    out = murmur3_128(buffer);
    return true;
  }

  // The rule a drop is counted under in the run summary: names the key fields, never their values.
  std::string key_names() const {
    std::string out;
    for (const auto& name : key_) out += (out.empty() ? "" : "+") + name;
    return out;
  }

  std::vector<std::string> key_;
  Keep keep_;
  bool normalise_;
  HashSet128 seen_;
  std::vector<Hash128> hashes_;  // per batch, reused
  std::vector<char> has_key_;
  std::unordered_map<Hash128, Held, Hash128Hasher> held_;
  uint64_t next_sequence_ = 0;
};

}  // namespace

TransformResult make_dedupe(const Json& config) {
  ConfigReader reader("dedupe", config);
  CONFLUX_RETURN_IF_ERROR(reader.check_keys({"key", "keep", "normalise"}));
  if (!reader.has("key")) return reader.error("missing required key 'key'");
  std::vector<std::string> key;
  CONFLUX_TX_ASSIGN(key, reader.string_list("key", /*allow_single=*/true));
  if (key.empty()) return reader.error("'key' is empty");
  for (size_t i = 0; i < key.size(); ++i) {
    for (size_t j = i + 1; j < key.size(); ++j) {
      if (key[i] == key[j]) return reader.error("field '" + key[i] + "' appears twice in key");
    }
  }
  size_t keep = 0;
  CONFLUX_TX_ASSIGN(keep, reader.choice("keep", {"first", "last", "most_complete"}, 0));
  bool normalise = false;
  CONFLUX_TX_ASSIGN(normalise, reader.boolean("normalise", false));
  return std::unique_ptr<engine::Transform>(new DedupeTransform(std::move(key), static_cast<Keep>(keep), normalise));
}

Json dedupe_schema() {
  return object_schema(
      "dedupe",
      "Drops records whose key was already seen (by rule, not as invalid). Records whose key fields are all blank "
      "are never deduplicated.",
      {{"key",
        {{"description", "Key field, or list of fields forming a composite key."},
         {"oneOf", Json::array({{{"type", "string"}, {"minLength", 1}},
                                {{"type", "array"},
                                 {"minItems", 1},
                                 {"uniqueItems", true},
                                 {"items", {{"type", "string"}, {"minLength", 1}}}}})}}},
       {"keep",
        {{"enum", Json::array({"first", "last", "most_complete"})},
         {"default", "first"},
         {"description",
          "first: streams, keeps the first record of each key. last / most_complete (most non-blank "
          "fields, earliest on ties): hold records until the end of the run."}}},
       {"normalise",
        {{"type", "boolean"},
         {"default", false},
         {"description", "Compare key parts trimmed and case-folded (Unicode)."}}}},
      Json::array({"key"}));
}

}  // namespace conflux::transforms::internal
