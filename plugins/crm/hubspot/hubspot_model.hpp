// Pure helpers of the hubspot connector, free of SDK types so that unit tests drive them: the incremental cursor,
// HubSpot's ISO times, id order, the rate-limit account key, the batch chunking, and what a sync mode and field
// rules make of one record.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conflux::plugins::hubspot {

inline constexpr size_t kMaxBatch = 100;  // inputs per HubSpot batch call (upsert, read, archive, associate); page limit

// The object types the connector reads and writes; they are also the stream names.
inline bool known_object(std::string_view type) {
  return type == "contacts" || type == "companies" || type == "deals";
}

// "contact", "company", "deal": the object type in messages about one record.
inline std::string singular(std::string_view type) {
  if (type == "companies") return "company";
  if (!type.empty() && type.back() == 's') type.remove_suffix(1);
  return std::string(type);
}

// HubSpot's default "last modified" property: lastmodifieddate on contacts, hs_lastmodifieddate elsewhere.
inline std::string modified_property(std::string_view type) {
  return type == "contacts" ? "lastmodifieddate" : "hs_lastmodifieddate";
}

// Object ids are numeric strings: shorter first, then lexicographic (numeric order without overflow).
inline int compare_ids(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

// Where an incremental read resumes: after the record (modified_ms, id) in HubSpot's search order (modified time
// ascending, ties by id). Empty id and 0 = from the start.
struct Cursor {
  int64_t modified_ms = 0;
  std::string id;
  bool empty() const { return modified_ms == 0 && id.empty(); }
  // True when (ms, id) comes after this cursor, i.e. has not been emitted yet.
  bool before(int64_t ms, std::string_view record_id) const {
    if (ms != modified_ms) return ms > modified_ms;
    return compare_ids(record_id, id) > 0;
  }
};

// "t=<ms>;id=<id>", or "" for the empty cursor.
inline std::string encode_cursor(const Cursor& c) {
  if (c.empty()) return {};
  return "t=" + std::to_string(c.modified_ms) + ";id=" + c.id;
}

inline bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// Inverse of encode_cursor; nullopt for anything it did not produce.
inline std::optional<Cursor> decode_cursor(std::string_view text) {
  if (text.empty()) return Cursor{};
  if (text.substr(0, 2) != "t=") return std::nullopt;
  size_t sep = text.find(";id=");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string_view ms = text.substr(2, sep - 2);
  std::string_view id = text.substr(sep + 4);
  if (!all_digits(ms) || ms.size() > 18 || !all_digits(id)) return std::nullopt;
  Cursor c;
  c.modified_ms = std::stoll(std::string(ms));
  c.id = std::string(id);
  return c;
}

// "2024-03-05T11:22:10.123Z" (fraction optional, any digits; "+00:00" also taken) or epoch milliseconds as digits.
inline std::optional<int64_t> parse_time_ms(std::string_view s) {
  if (all_digits(s) && s.size() <= 18) return std::stoll(std::string(s));
  auto num = [&](size_t pos, size_t len) -> std::optional<int> {
    if (pos + len > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !se || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 ||
      *se > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  std::string_view zone = s.substr(pos);
  if (zone != "Z" && zone != "+00:00") return std::nullopt;
  // Days from the civil date (Howard Hinnant's algorithm), UTC.
  int yy = *y - (*mo <= 2 ? 1 : 0);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(yy - era * 400);
  const unsigned mp = static_cast<unsigned>(*mo > 2 ? *mo - 3 : *mo + 9);
  const unsigned doy = (153 * mp + 2) / 5 + static_cast<unsigned>(*d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
  return ((days * 24 + *h) * 60 + *mi) * 60000 + int64_t{*se} * 1000 + millis;
}

// The rate-limit account for a token: a hash, so the token itself is never a key or a log value.
inline std::string token_account(std::string_view token) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : token) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char text[24];
  std::snprintf(text, sizeof text, "token-%016llx", static_cast<unsigned long long>(h));
  return text;
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// How HubSpot compares values of the id property: e-mail addresses case-insensitively (it stores them lower-case).
inline std::string normalise_key(std::string_view id_property, std::string_view value) {
  return id_property == "email" ? lower(std::string(value)) : std::string(value);
}

// Splits keys (already normalised) into upsert requests of at most `max` inputs, in order, never putting one key
// twice in one request: HubSpot refuses a batch with duplicate ids. Returns index lists into `keys`.
inline std::vector<std::vector<size_t>> chunk_inputs(const std::vector<std::string>& keys, size_t max) {
  std::vector<std::vector<size_t>> chunks;
  std::vector<size_t> current;
  std::vector<std::string> seen;
  for (size_t i = 0; i < keys.size(); ++i) {
    bool duplicate = std::find(seen.begin(), seen.end(), keys[i]) != seen.end();
    if (!current.empty() && (current.size() >= max || duplicate)) {
      chunks.push_back(std::move(current));
      current.clear();
      seen.clear();
    }
    current.push_back(i);
    seen.push_back(keys[i]);
  }
  if (!current.empty()) chunks.push_back(std::move(current));
  return chunks;
}

// The sink's sync mode and field rules, with the local CRM's names and meaning (docs/pipeline-reference.md).
enum class SyncMode { kUpsert, kUpdateOnly, kInsertOnly };
enum class FieldRule { kOverwrite, kOnlyIfEmpty, kNever };

inline std::optional<SyncMode> parse_sync_mode(std::string_view text) {
  if (text == "upsert") return SyncMode::kUpsert;
  if (text == "update_only") return SyncMode::kUpdateOnly;
  if (text == "insert_only") return SyncMode::kInsertOnly;
  return std::nullopt;
}

inline std::optional<FieldRule> parse_field_rule(std::string_view text) {
  if (text == "overwrite") return FieldRule::kOverwrite;
  if (text == "only_if_empty") return FieldRule::kOnlyIfEmpty;
  if (text == "never") return FieldRule::kNever;
  return std::nullopt;
}

inline bool is_blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

using Properties = std::map<std::string, std::string>;
// What HubSpot holds under a record's id-property value: nothing (nullopt), or the object's properties as read,
// where a property HubSpot has no value for is absent or nullopt.
using Held = std::optional<std::map<std::string, std::optional<std::string>>>;

// What to do with one record once the target's copy is known.
struct WritePlan {
  enum class Action { kSend, kUnchanged, kReject };
  Action action = Action::kSend;
  Properties properties;  // kSend: the properties to send
  std::string reason;     // kReject: why
};

// Applies the sync mode and the field rules to a record's `properties` against what HubSpot holds:
//  - update_only and not held: rejected, naming update_only (dead-lettered; replayable once the object exists);
//  - insert_only and held: unchanged, nothing sent;
//  - held: a `never` property is left out, an `only_if_empty` one is left out unless the held value is absent or
//    blank; when nothing but the id property is left, the record is unchanged and nothing is sent.
//  - not held: every property is sent (rules apply to updates only).
inline WritePlan plan_write(SyncMode mode, const std::map<std::string, FieldRule>& rules, Properties properties,
                            const Held& held, std::string_view object, std::string_view id_property) {
  WritePlan plan;
  if (!held) {
    if (mode == SyncMode::kUpdateOnly) {
      plan.action = WritePlan::Action::kReject;
      plan.reason = "hubspot: HubSpot holds no " + singular(object) + " with this " + std::string(id_property) +
                    " and the sink's mode is update_only";
      return plan;
    }
    plan.properties = std::move(properties);
    return plan;
  }
  if (mode == SyncMode::kInsertOnly) {
    plan.action = WritePlan::Action::kUnchanged;
    return plan;
  }
  bool something = false;
  for (auto& [name, value] : properties) {
    auto rule = rules.find(name);
    if (rule != rules.end() && rule->second != FieldRule::kOverwrite) {
      if (rule->second == FieldRule::kNever) continue;
      auto current = held->find(name);
      const bool empty = current == held->end() || !current->second || is_blank(*current->second);
      if (!empty) continue;
    }
    if (name != id_property) something = true;
    plan.properties.emplace(name, std::move(value));
  }
  if (!something) {
    plan.action = WritePlan::Action::kUnchanged;
    plan.properties.clear();
  }
  return plan;
}

}  // namespace conflux::plugins::hubspot
