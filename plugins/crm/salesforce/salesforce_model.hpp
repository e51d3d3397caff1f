// Pure helpers of the salesforce connector, free of SDK types so that unit tests drive them: the incremental cursor,
// Salesforce's times, SOQL text (quoting, the incremental query, batched external-id lookups), URL encoding,
// Salesforce's error array, the Sforce-Limit-Info header, request chunking and the sink's sync-mode planning.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace conflux::plugins::salesforce {

using Json = nlohmann::json;

inline constexpr size_t kMaxCollection = 200;            // sObject Collections: records per upsert, ids per delete
inline constexpr const char* kDefaultApiVersion = "60.0";
inline constexpr int kMinApiVersion = 46;                 // collection upsert exists from API version 46.0
inline constexpr size_t kMaxQueryUrl = 16384 - 1024;      // Salesforce caps URI + headers at 16,384 bytes

// The objects the connector reads (its streams) and their default SELECT lists.
inline const std::vector<std::string>& stream_objects() {
  static const std::vector<std::string> objects = {"Contact", "Lead", "Account"};
  return objects;
}
inline bool known_stream(std::string_view object) {
  const auto& all = stream_objects();
  return std::find(all.begin(), all.end(), object) != all.end();
}
inline std::vector<std::string> default_select(std::string_view object) {
  if (object == "Contact") {
    return {"Id", "FirstName", "LastName", "Email", "Phone", "MobilePhone", "Title", "AccountId", "LeadSource",
            "MailingCity", "MailingCountry", "CreatedDate", "LastModifiedDate", "SystemModstamp"};
  }
  if (object == "Lead") {
    return {"Id", "FirstName", "LastName", "Email", "Phone", "Company", "Status", "LeadSource", "City", "Country",
            "CreatedDate", "LastModifiedDate", "SystemModstamp"};
  }
  return {"Id", "Name", "Phone", "Website", "Industry", "BillingCity", "BillingCountry", "NumberOfEmployees",
          "CreatedDate", "LastModifiedDate", "SystemModstamp"};
}

// Fields Salesforce sets itself: never sent by the sink.
inline bool is_system_field(std::string_view name) {
  for (const char* n : {"Id", "attributes", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate",
                        "LastModifiedById", "SystemModstamp", "LastActivityDate", "LastViewedDate",
                        "LastReferencedDate"}) {
    if (name == n) return true;
  }
  return false;
}

// An API name of an object or field: a letter, then letters, digits and underscores (custom names end in __c).
inline bool valid_api_name(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// "60.0": two digits, ".0", at least kMinApiVersion.
inline bool valid_api_version(std::string_view v) {
  if (v.size() != 4 || v.substr(2) != ".0" || !std::isdigit(static_cast<unsigned char>(v[0])) ||
      !std::isdigit(static_cast<unsigned char>(v[1]))) {
    return false;
  }
  return (v[0] - '0') * 10 + (v[1] - '0') >= kMinApiVersion;
}

// A record id: 15 (case-sensitive) or 18 (case-safe) letters and digits.
inline bool valid_record_id(std::string_view id) {
  return (id.size() == 15 || id.size() == 18) &&
         std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Where an incremental read resumes: after the record (modstamp_ms, id) in the order ORDER BY SystemModstamp, Id.
// Ids of one object compare as plain bytes: their base-62 digits 0-9A-Za-z are in ASCII order.
struct Cursor {
  int64_t modstamp_ms = 0;
  std::string id;
  bool empty() const { return modstamp_ms == 0 && id.empty(); }
  // True when (ms, record_id) comes after this cursor, i.e. has not been emitted yet.
  bool before(int64_t ms, std::string_view record_id) const {
    if (ms != modstamp_ms) return ms > modstamp_ms;
    return record_id.compare(id) > 0;
  }
};

// "t=<ms>;id=<Id>", or "" for the empty cursor.
inline std::string encode_cursor(const Cursor& c) {
  if (c.empty()) return {};
  return "t=" + std::to_string(c.modstamp_ms) + ";id=" + c.id;
}

// Inverse of encode_cursor; nullopt for anything it did not produce.
inline std::optional<Cursor> decode_cursor(std::string_view text) {
  if (text.empty()) return Cursor{};
  if (text.substr(0, 2) != "t=") return std::nullopt;
  const size_t sep = text.find(";id=");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string_view ms = text.substr(2, sep - 2);
  std::string_view id = text.substr(sep + 4);
  if (ms.empty() || ms.size() > 15 || !std::all_of(ms.begin(), ms.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !valid_record_id(id)) {
    return std::nullopt;
  }
  return Cursor{std::stoll(std::string(ms)), std::string(id)};
}

namespace detail {
// Days since 1970-01-01 of a civil date, and back (Howard Hinnant's algorithms), UTC.
inline int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(m > 2 ? m - 3 : m + 9) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
}
inline void civil_from_days(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}
}  // namespace detail

// Salesforce's dateTime as the REST API returns it, "2024-03-05T11:22:10.000+0000", and the other ISO 8601 forms
// it accepts: fraction optional, zone "Z", "+hh:mm" or "+hhmm" (applied). Milliseconds since the epoch, UTC.
inline std::optional<int64_t> parse_time_ms(std::string_view s) {
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
  int64_t offset_minutes = 0;
  if (zone != "Z") {
    if ((zone.size() != 5 && zone.size() != 6) || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
    const size_t mm = zone.size() == 6 ? 4 : 3;
    if (zone.size() == 6 && zone[3] != ':') return std::nullopt;
    auto oh = num(pos + 1, 2), om = num(pos + mm, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = (zone[0] == '+' ? 1 : -1) * (int64_t{*oh} * 60 + *om);
  }
  const int64_t days = detail::days_from_civil(*y, *mo, *d);
  return (((days * 24 + *h) * 60 + *mi) - offset_minutes) * 60000 + int64_t{*se} * 1000 + millis;
}

// A SOQL dateTime literal (unquoted), UTC with milliseconds: 2024-03-05T11:22:10.123Z.
inline std::string soql_datetime(int64_t ms) {
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rest = ms - days * 86400000;
  int y = 0, m = 0, d = 0;
  detail::civil_from_days(days, y, m, d);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, static_cast<int>(rest / 3600000),
                static_cast<int>(rest / 60000 % 60), static_cast<int>(rest / 1000 % 60), static_cast<int>(rest % 1000));
  return text;
}

// A SOQL string literal: quoted, with \ ' " and control characters escaped as SOQL requires.
inline std::string soql_quote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: out += c;
    }
  }
  return out + "'";
}

// Percent-encodes everything but RFC 3986's unreserved characters (so spaces become %20, never '+').
inline std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// `fields` with `required` added where missing, compared case-insensitively as SOQL does; order kept.
inline std::vector<std::string> with_fields(std::vector<std::string> fields, const std::vector<std::string>& required) {
  for (const auto& r : required) {
    bool present = std::any_of(fields.begin(), fields.end(), [&](const std::string& f) { return lower(f) == lower(r); });
    if (!present) fields.push_back(r);
  }
  return fields;
}

inline std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? std::string(separator) : std::string()) + parts[i];
  return out;
}

// The incremental read: every record after the cursor in (SystemModstamp, Id) order. Records stamped in the same
// millisecond (one collection request stamps up to 200) are resumed by Id, so a run that stopped inside such a
// group neither repeats nor skips any of it.
inline std::string incremental_query(const std::string& object, const std::vector<std::string>& fields,
                                     const Cursor& cursor) {
  std::string q = "SELECT " + join(with_fields(fields, {"Id", "SystemModstamp"}), ", ") + " FROM " + object;
  if (!cursor.empty()) {
    const std::string t = soql_datetime(cursor.modstamp_ms);
    q += " WHERE SystemModstamp > " + t + " OR (SystemModstamp = " + t + " AND Id > " + soql_quote(cursor.id) + ")";
  }
  return q + " ORDER BY SystemModstamp ASC, Id ASC";
}

// SELECT Id, <key>, <fields> FROM <object> WHERE <key> IN (...), as few queries as keep each URL (prefix + the
// encoded query) under kMaxQueryUrl. Keys are sent as given; Salesforce compares text external ids
// case-insensitively.
inline std::vector<std::string> lookup_queries(const std::string& object, const std::string& key_field,
                                               const std::vector<std::string>& fields,
                                               const std::vector<std::string>& keys, size_t prefix_bytes,
                                               size_t max_url = kMaxQueryUrl) {
  const std::string head =
      "SELECT " + join(with_fields({"Id", key_field}, fields), ", ") + " FROM " + object + " WHERE " + key_field + " IN (";
  std::vector<std::string> queries;
  std::string current;
  size_t current_bytes = 0;
  const size_t fixed = prefix_bytes + url_encode(head).size() + 3;  // + ")"
  for (const auto& key : keys) {
    const std::string literal = soql_quote(key);
    const size_t bytes = url_encode(literal).size() + 3;  // + ","
    if (!current.empty() && fixed + current_bytes + bytes > max_url) {
      queries.push_back(head + current + ")");
      current.clear();
      current_bytes = 0;
    }
    current += (current.empty() ? "" : ",") + literal;
    current_bytes += bytes;
  }
  if (!current.empty()) queries.push_back(head + current + ")");
  return queries;
}

// Salesforce's error array [{"message","errorCode","fields"}] as one line, "CODE: message; CODE2: ..."; also takes
// a single error object. Empty when the body is neither.
inline std::string salesforce_says(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_object()) j = Json::array({j});
  if (!j.is_array()) return {};
  std::string out;
  for (const Json& e : j) {
    if (!e.is_object()) continue;
    std::string code = e.contains("errorCode") && e["errorCode"].is_string() ? e["errorCode"].get<std::string>() : "";
    std::string message = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
    if (code.empty() && message.empty()) continue;
    out += (out.empty() ? "" : "; ") + (code.empty() ? message : code + ": " + message);
  }
  return out;
}

// True when the error array names `code`.
inline bool has_error_code(const std::string& body, std::string_view code) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_array()) return false;
  return std::any_of(j.begin(), j.end(), [&](const Json& e) {
    return e.is_object() && e.contains("errorCode") && e["errorCode"].is_string() && e["errorCode"] == code;
  });
}

// One item error of a collection response {"statusCode","message","fields"} as "CODE: message (fields: A, B)".
inline std::string item_error_text(const Json& error) {
  if (!error.is_object()) return "refused";
  std::string text = error.contains("statusCode") && error["statusCode"].is_string()
                         ? error["statusCode"].get<std::string>() + ": " : std::string();
  text += error.contains("message") && error["message"].is_string() ? error["message"].get<std::string>() : "refused";
  std::vector<std::string> fields;
  if (error.contains("fields") && error["fields"].is_array()) {
    for (const Json& f : error["fields"]) {
      if (f.is_string()) fields.push_back(f.get<std::string>());
    }
  }
  if (!fields.empty()) text += " (fields: " + join(fields, ", ") + ")";
  return text;
}

// Sforce-Limit-Info: "api-usage=18/15000" -> {18, 15000}.
inline std::optional<std::pair<int64_t, int64_t>> parse_api_usage(std::string_view header) {
  size_t at = header.find("api-usage=");
  while (at != std::string_view::npos && at > 0 && header[at - 1] != ' ' && header[at - 1] != ',') {
    at = header.find("api-usage=", at + 1);  // not per-app-api-usage=
  }
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = header.substr(at + 10);
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  size_t end = slash + 1;
  while (end < rest.size() && rest[end] >= '0' && rest[end] <= '9') ++end;
  std::string_view used = rest.substr(0, slash), limit = rest.substr(slash + 1, end - slash - 1);
  auto digits = [](std::string_view t) {
    return !t.empty() && t.size() < 16 && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(used) || !digits(limit)) return std::nullopt;
  return std::make_pair(std::stoll(std::string(used)), std::stoll(std::string(limit)));
}

// The rate-limit account of an org: a hash of its instance URL (limits are per org, not per token).
inline std::string org_account(std::string_view instance_url) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : lower(instance_url)) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char text[24];
  std::snprintf(text, sizeof text, "org-%016llx", static_cast<unsigned long long>(h));
  return text;
}

// Splits keys (normalised) into requests of at most `max` records, in order, never putting one key twice in one
// request: the later record goes to the next request and wins. Returns index lists into `keys`.
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

// ---- Sync modes, with the same names and meaning as the local CRM (docs/pipeline-reference.md) ----

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

// Missing, null or blank text.
inline bool is_empty_value(const Json* value) {
  if (value == nullptr || value->is_null()) return true;
  return value->is_string() && value->get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos;
}

// A field of a record Salesforce returned, by API name compared case-insensitively as Salesforce does.
inline const Json* find_field(const Json& record, const std::string& name) {
  if (!record.is_object()) return nullptr;
  auto exact = record.find(name);
  if (exact != record.end()) return &*exact;
  const std::string wanted = lower(name);
  for (auto it = record.begin(); it != record.end(); ++it) {
    if (lower(it.key()) == wanted) return &*it;
  }
  return nullptr;
}

// What the sink does with one record once it knows whether the target holds its key.
struct Plan {
  enum class Action { kSend, kUnchanged, kReject };
  Action action = Action::kSend;
  Json fields = Json::object();  // kSend: what to send (the key field included)
  std::string reason;            // kReject: why
};

// `fields`: the record's outgoing fields, the key field included. `stored`: the target's record with that key, or
// nullptr when it holds none. insert_only leaves a held record alone; update_only refuses a record the target does
// not hold; on an update, `never` fields are held back and `only_if_empty` fields are sent only over a missing,
// null or blank stored value. An update left with nothing but its key is unchanged.
inline Plan plan_write(SyncMode mode, const std::map<std::string, FieldRule>& rules, const std::string& key_field,
                       const Json& fields, const Json* stored, const std::string& object) {
  Plan plan;
  if (stored == nullptr) {
    if (mode == SyncMode::kUpdateOnly) {
      plan.action = Plan::Action::kReject;
      plan.reason = "no Salesforce " + object + " has this " + key_field + " and the sink's mode is update_only";
      return plan;
    }
    plan.fields = fields;
    return plan;
  }
  if (mode == SyncMode::kInsertOnly) {
    plan.action = Plan::Action::kUnchanged;
    return plan;
  }
  bool any = false;
  for (const auto& [name, value] : fields.items()) {
    auto rule = rules.find(name);
    if (rule != rules.end() && name != key_field) {
      if (rule->second == FieldRule::kNever) continue;
      if (rule->second == FieldRule::kOnlyIfEmpty) {
        if (!is_empty_value(find_field(*stored, name))) continue;
      }
    }
    plan.fields[name] = value;
    any = any || name != key_field;
  }
  if (!any) plan.action = Plan::Action::kUnchanged;
  return plan;
}

}  // namespace conflux::plugins::salesforce
