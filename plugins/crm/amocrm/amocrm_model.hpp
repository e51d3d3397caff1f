// Pure helpers of the amocrm connector, free of SDK types so that unit tests drive them: the incremental cursor,
// amoCRM's custom fields, the mapping of contacts and leads to the unified record shape (schemas/records), and the
// write side (which record fields become which amoCRM attributes, field rules, and what changed).
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conflux::plugins::amocrm {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

inline constexpr size_t kMaxPage = 250;    // GET limit and entities per POST/PATCH
inline constexpr int64_t kStatusWon = 142;  // every pipeline's "closed, won" stage
inline constexpr int64_t kStatusLost = 143; // every pipeline's "closed, lost" stage
inline constexpr int kStatusTypeUnsorted = 1;

enum class Entity { kContacts, kLeads };

inline std::optional<Entity> entity_of(std::string_view name) {
  if (name == "contacts") return Entity::kContacts;
  if (name == "leads") return Entity::kLeads;
  return std::nullopt;
}
inline const char* entity_name(Entity e) { return e == Entity::kContacts ? "contacts" : "leads"; }
inline const char* entity_singular(Entity e) { return e == Entity::kContacts ? "contact" : "lead"; }

inline bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// ---------------------------------------------------------------------------------------------------------------
// Incremental cursor

// Where an incremental read resumes: after the entity (updated_at, id) in the order the source asks amoCRM for
// (updated_at ascending, ties by id). amoCRM times are whole seconds, so ties are common. 0/0 = from the start.
struct Cursor {
  int64_t updated_s = 0;
  int64_t id = 0;
  bool empty() const { return updated_s == 0 && id == 0; }
  // True when (updated_s, id) comes after this cursor, i.e. has not been emitted yet.
  bool before(int64_t updated, int64_t entity_id) const {
    if (updated != updated_s) return updated > updated_s;
    return entity_id > id;
  }
};

// "t=<unix seconds>;id=<entity id>", or "" for the empty cursor.
inline std::string encode_cursor(const Cursor& c) {
  if (c.empty()) return {};
  return "t=" + std::to_string(c.updated_s) + ";id=" + std::to_string(c.id);
}

// Inverse of encode_cursor; nullopt for anything it did not produce.
inline std::optional<Cursor> decode_cursor(std::string_view text) {
  if (text.empty()) return Cursor{};
  if (text.substr(0, 2) != "t=") return std::nullopt;
  size_t sep = text.find(";id=");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string_view t = text.substr(2, sep - 2);
  std::string_view id = text.substr(sep + 4);
  if (!all_digits(t) || !all_digits(id) || t.size() > 12 || id.size() > 18) return std::nullopt;
  return Cursor{std::stoll(std::string(t)), std::stoll(std::string(id))};
}

// Unix seconds as "2024-03-05T11:22:10Z" (the unified records' timestamp form).
inline std::string iso_time(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Unix seconds of an HTTP-date in IMF-fixdate form ("Sun, 06 Nov 1994 08:49:37 GMT"), the form servers send in
// `Date`; nullopt for anything else.
inline std::optional<int64_t> parse_http_date(std::string_view s) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s[3] != ',' || s.substr(25) != " GMT") return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> std::optional<int> {
    std::string_view part = s.substr(pos, len);
    if (!all_digits(part)) return std::nullopt;
    return std::stoi(std::string(part));
  };
  int month = 0;
  for (int m = 0; m < 12; ++m) {
    if (s.substr(8, 3) == kMonths[m]) month = m + 1;
  }
  auto d = num(5, 2), y = num(12, 4), h = num(17, 2), mi = num(20, 2), se = num(23, 2);
  if (!month || !d || !y || !h || !mi || !se || s[19] != ':' || s[22] != ':') return std::nullopt;
  // Days from the civil date (Howard Hinnant's algorithm), UTC.
  const int yy = *y - (month <= 2 ? 1 : 0);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(yy - era * 400);
  const unsigned mp = static_cast<unsigned>(month > 2 ? month - 3 : month + 9);
  const unsigned doy = (153 * mp + 2) / 5 + static_cast<unsigned>(*d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
  return ((days * 24 + *h) * 60 + *mi) * 60 + *se;
}

// An integer member (amoCRM ids and times), nullopt when absent, null or not an integer.
inline std::optional<int64_t> int_member(const Json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

// ---------------------------------------------------------------------------------------------------------------
// Custom fields

// One value of a custom field: the text and, for multi-value fields such as EMAIL and PHONE, its enum_code.
struct FieldValue {
  std::string value;
  std::string enum_code;
};

// A custom field named by its field_code (EMAIL, PHONE, UTM_SOURCE, ...) or by its numeric field_id.
struct FieldRef {
  std::string code;  // upper case; empty when named by id
  int64_t id = 0;
  static FieldRef parse(std::string_view text) {
    FieldRef f;
    std::string t = trim(text);
    if (all_digits(t) && t.size() < 18) {
      f.id = std::stoll(t);
    } else {
      for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      f.code = t;
    }
    return f;
  }
  bool matches(const Json& field) const {
    if (!field.is_object()) return false;
    if (id != 0) return int_member(field, "field_id") == id;
    auto c = field.find("field_code");
    return c != field.end() && c->is_string() && lower(c->get<std::string>()) == lower(code);
  }
  // The member naming this field in a write body.
  Json write_key() const { return id != 0 ? Json{{"field_id", id}} : Json{{"field_code", code}}; }
  std::string text() const { return id != 0 ? std::to_string(id) : code; }
};

inline std::string value_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  return v.dump();
}

// The values of one custom field of an entity, in amoCRM's order; empty when the field is absent.
inline std::vector<FieldValue> field_values(const Json& entity, const FieldRef& ref) {
  std::vector<FieldValue> out;
  auto cf = entity.is_object() ? entity.find("custom_fields_values") : entity.end();
  if (!entity.is_object() || cf == entity.end() || !cf->is_array()) return out;
  for (const Json& field : *cf) {
    if (!ref.matches(field) || !field.contains("values") || !field["values"].is_array()) continue;
    for (const Json& v : field["values"]) {
      if (!v.is_object() || !v.contains("value")) continue;
      FieldValue fv{value_text(v["value"]), {}};
      if (v.contains("enum_code") && v["enum_code"].is_string()) fv.enum_code = v["enum_code"].get<std::string>();
      if (!trim(fv.value).empty()) out.push_back(std::move(fv));
    }
  }
  return out;
}

// The enum codes amoCRM accepts on its predefined multi-value contact fields.
inline const std::vector<std::string>& email_enums() {
  static const std::vector<std::string> codes{"WORK", "PRIV", "OTHER"};
  return codes;
}
inline const std::vector<std::string>& phone_enums() {
  static const std::vector<std::string> codes{"WORK", "WORKDD", "MOB", "FAX", "HOME", "OTHER"};
  return codes;
}

// ---------------------------------------------------------------------------------------------------------------
// Match keys

enum class KeyKind { kEmail, kPhone, kText };

inline KeyKind key_kind(const FieldRef& field) {
  if (field.code == "EMAIL") return KeyKind::kEmail;
  if (field.code == "PHONE") return KeyKind::kPhone;
  return KeyKind::kText;
}

// How the sink compares keys: e-mail trimmed and lower-cased, phone by its digits, anything else trimmed.
inline std::string normalise_key(KeyKind kind, std::string_view value) {
  switch (kind) {
    case KeyKind::kEmail: return lower(trim(value));
    case KeyKind::kPhone: {
      std::string digits;
      for (char c : value) {
        if (c >= '0' && c <= '9') digits += c;
      }
      return digits;
    }
    case KeyKind::kText: return trim(value);
  }
  return {};
}

// Every key an entity holds in its key field, normalised.
inline std::vector<std::string> entity_keys(const Json& entity, const FieldRef& key_field) {
  std::vector<std::string> keys;
  for (const FieldValue& v : field_values(entity, key_field)) {
    std::string k = normalise_key(key_kind(key_field), v.value);
    if (!k.empty() && std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(std::move(k));
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------------------------
// Read side: amoCRM entities as unified records

// Lead stages by status id, from GET /api/v4/leads/pipelines.
struct Stage {
  std::string name;
  int type = 0;           // 1 = the pipeline's "unsorted" stage
  bool first = false;     // the first ordinary stage of its pipeline
};
using Stages = std::map<int64_t, Stage>;

// Stages of a pipelines response ({"_embedded":{"pipelines":[{"_embedded":{"statuses":[...]}}]}}). The first
// ordinary stage of each pipeline is its lowest `sort` that is neither unsorted nor closed.
inline Stages parse_stages(const Json& body) {
  Stages stages;
  const Json pipelines = body.is_object() && body.contains("_embedded") && body["_embedded"].is_object()
                             ? body["_embedded"].value("pipelines", Json::array()) : Json::array();
  for (const Json& p : pipelines) {
    const Json statuses = p.is_object() && p.contains("_embedded") && p["_embedded"].is_object()
                              ? p["_embedded"].value("statuses", Json::array()) : Json::array();
    std::optional<int64_t> first_id;
    int64_t first_sort = 0;
    for (const Json& s : statuses) {
      auto id = int_member(s, "id");
      if (!id) continue;
      Stage stage{s.value("name", std::string()), static_cast<int>(int_member(s, "type").value_or(0)), false};
      const int64_t sort = int_member(s, "sort").value_or(0);
      if (stage.type != kStatusTypeUnsorted && *id != kStatusWon && *id != kStatusLost &&
          (!first_id || sort < first_sort)) {
        first_id = *id;
        first_sort = sort;
      }
      stages[*id] = std::move(stage);
    }
    if (first_id) stages[*first_id].first = true;
  }
  return stages;
}

// The unified lead status of an amoCRM stage: won -> converted, lost -> disqualified, the unsorted or first stage
// -> new, any other -> in_progress.
inline std::string unified_status(int64_t status_id, const Stages& stages) {
  if (status_id == kStatusWon) return "converted";
  if (status_id == kStatusLost) return "disqualified";
  auto it = stages.find(status_id);
  if (it != stages.end() && (it->second.type == kStatusTypeUnsorted || it->second.first)) return "new";
  return "in_progress";
}

// Tracking fields amoCRM keeps on leads, and the unified touch field each becomes (read) or comes from (write).
inline const std::vector<std::pair<std::string, std::string>>& touch_fields() {
  static const std::vector<std::pair<std::string, std::string>> map{
      {"UTM_SOURCE", "utm_source"}, {"UTM_MEDIUM", "utm_medium"}, {"UTM_CAMPAIGN", "utm_campaign"},
      {"UTM_TERM", "utm_term"},     {"UTM_CONTENT", "utm_content"}, {"GCLID", "gclid"},
      {"FBCLID", "fbclid"},         {"YCLID", "yclid"},             {"REFERRER", "referrer"}};
  return map;
}

struct ReadOptions {
  std::string source_name = "amocrm";
  std::string currency;  // leads: the currency of `price` (the account's)
  Stages stages;         // leads
};

namespace detail {

inline std::string text_member(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? trim(it->get<std::string>()) : std::string();
}

inline void put_text(OrderedJson& out, const char* name, const std::string& value) {
  if (!value.empty()) out[name] = value;
}

inline void put_time(OrderedJson& out, const char* name, const Json& entity, const char* key) {
  auto t = int_member(entity, key);
  if (t && *t > 0) out[name] = iso_time(*t);
}

// Values as [{"value":..,"type":ENUM}], primary first.
inline OrderedJson typed_values(const std::vector<FieldValue>& values) {
  OrderedJson out = OrderedJson::array();
  for (const FieldValue& v : values) {
    OrderedJson item = {{"value", trim(v.value)}};
    if (!v.enum_code.empty()) item["type"] = v.enum_code;
    out.push_back(std::move(item));
  }
  return out;
}

inline std::vector<std::string> embedded_ids(const Json& entity, const char* kind) {
  std::vector<std::string> ids;
  if (!entity.contains("_embedded") || !entity["_embedded"].is_object()) return ids;
  const Json list = entity["_embedded"].value(kind, Json::array());
  if (!list.is_array()) return ids;
  // The main contact first when amoCRM marks one.
  for (int pass = 0; pass < 2; ++pass) {
    for (const Json& e : list) {
      auto id = int_member(e, "id");
      if (!id) continue;
      const bool main = e.is_object() && e.value("is_main", false);
      if ((pass == 0) == main) ids.push_back(std::to_string(*id));
    }
  }
  return ids;
}

inline void put_tags(OrderedJson& out, const Json& entity) {
  if (!entity.contains("_embedded") || !entity["_embedded"].is_object()) return;
  const Json tags = entity["_embedded"].value("tags", Json::array());
  OrderedJson names = OrderedJson::array();
  for (const Json& t : tags) {
    std::string name = t.is_object() ? text_member(t, "name") : std::string();
    if (!name.empty()) names.push_back(name);
  }
  if (!names.empty()) out["tags"] = names;
}

// Custom fields the mapping did not consume, as {code or name: value or [values]}.
inline void put_other_fields(OrderedJson& out, const Json& entity, const std::vector<std::string>& consumed) {
  auto cf = entity.find("custom_fields_values");
  if (cf == entity.end() || !cf->is_array()) return;
  OrderedJson other = OrderedJson::object();
  for (const Json& field : *cf) {
    if (!field.is_object()) continue;
    std::string code = text_member(field, "field_code");
    if (!code.empty() && std::find(consumed.begin(), consumed.end(), code) != consumed.end()) continue;
    std::string name = !code.empty() ? code : text_member(field, "field_name");
    if (name.empty()) name = std::to_string(int_member(field, "field_id").value_or(0));
    OrderedJson values = OrderedJson::array();
    for (const Json& v : field.value("values", Json::array())) {
      if (v.is_object() && v.contains("value")) values.push_back(OrderedJson::parse(v["value"].dump()));
    }
    if (values.empty()) continue;
    other[name] = values.size() == 1 ? values[0] : values;
  }
  if (!other.empty()) out["custom_fields"] = other;
}

}  // namespace detail

// A contact as a unified contact record (schemas/records/contact.json). E-mail and phone values keep amoCRM's
// order: the first becomes `email` / `phone`, the second `email_secondary` / `phone_secondary`, and all of them,
// with their enum codes, `emails` / `phones`. Phones are passed as amoCRM holds them (normalise with a phone stage).
// nullopt when the entity has no id or updated_at.
inline std::optional<OrderedJson> contact_record(const Json& entity, const ReadOptions& options) {
  auto id = int_member(entity, "id");
  if (!id || !int_member(entity, "updated_at")) return std::nullopt;
  OrderedJson out = OrderedJson::object();
  out["source"] = options.source_name;
  out["source_id"] = std::to_string(*id);
  detail::put_time(out, "updated_at", entity, "updated_at");
  detail::put_time(out, "created_at", entity, "created_at");
  detail::put_text(out, "full_name", detail::text_member(entity, "name"));
  detail::put_text(out, "first_name", detail::text_member(entity, "first_name"));
  detail::put_text(out, "last_name", detail::text_member(entity, "last_name"));
  for (const char* kind : {"EMAIL", "PHONE"}) {
    const bool email = kind[0] == 'E';
    std::vector<FieldValue> values = field_values(entity, FieldRef::parse(kind));
    if (values.empty()) continue;
    std::string first = trim(values[0].value);
    out[email ? "email" : "phone"] = email ? lower(first) : first;
    if (values.size() > 1) {
      std::string second = trim(values[1].value);
      out[email ? "email_secondary" : "phone_secondary"] = email ? lower(second) : second;
    }
    out[email ? "emails" : "phones"] = detail::typed_values(values);
  }
  std::vector<FieldValue> position = field_values(entity, FieldRef::parse("POSITION"));
  if (!position.empty()) detail::put_text(out, "job_title", trim(position[0].value));
  if (auto owner = int_member(entity, "responsible_user_id"); owner && *owner > 0) out["owner"] = std::to_string(*owner);
  std::vector<std::string> companies = detail::embedded_ids(entity, "companies");
  if (!companies.empty()) out["company_source_id"] = companies[0];
  detail::put_tags(out, entity);
  detail::put_other_fields(out, entity, {"EMAIL", "PHONE", "POSITION"});
  return out;
}

// A lead as a unified lead record (schemas/records/lead.json): `value` is the lead's price in the account currency,
// `status` the unified status of its stage (`source_status` the stage's name), touch fields from amoCRM's tracking
// fields, `contact_source_id` the main contact (the lead must be read with `with=contacts`).
inline std::optional<OrderedJson> lead_record(const Json& entity, const ReadOptions& options) {
  auto id = int_member(entity, "id");
  if (!id || !int_member(entity, "updated_at")) return std::nullopt;
  OrderedJson out = OrderedJson::object();
  out["source"] = options.source_name;
  out["source_id"] = std::to_string(*id);
  detail::put_time(out, "updated_at", entity, "updated_at");
  detail::put_time(out, "created_at", entity, "created_at");
  detail::put_time(out, "closed_at", entity, "closed_at");
  detail::put_text(out, "title", detail::text_member(entity, "name"));
  if (auto price = int_member(entity, "price"); price && *price >= 0 && !options.currency.empty()) {
    out["value"] = *price;
    out["currency"] = options.currency;
  }
  if (auto status = int_member(entity, "status_id")) {
    out["status"] = unified_status(*status, options.stages);
    auto stage = options.stages.find(*status);
    out["source_status"] = stage != options.stages.end() && !stage->second.name.empty() ? stage->second.name
                                                                                          : std::to_string(*status);
    out["status_id"] = std::to_string(*status);
  }
  if (auto pipeline = int_member(entity, "pipeline_id")) out["pipeline_id"] = std::to_string(*pipeline);
  if (auto owner = int_member(entity, "responsible_user_id"); owner && *owner > 0) out["owner"] = std::to_string(*owner);
  std::vector<std::string> contacts = detail::embedded_ids(entity, "contacts");
  if (!contacts.empty()) out["contact_source_id"] = contacts[0];
  std::vector<std::string> companies = detail::embedded_ids(entity, "companies");
  if (!companies.empty()) out["company_source_id"] = companies[0];
  std::vector<std::string> consumed;
  for (const auto& [code, name] : touch_fields()) {
    std::vector<FieldValue> values = field_values(entity, FieldRef::parse(code));
    consumed.push_back(code);
    if (!values.empty()) detail::put_text(out, name.c_str(), trim(values[0].value));
  }
  detail::put_tags(out, entity);
  detail::put_other_fields(out, entity, consumed);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Write side: records as amoCRM attributes

enum class FieldRule { kOverwrite, kOnlyIfEmpty, kNever };
using FieldRules = std::map<std::string, FieldRule>;

// One attribute of an amoCRM entity the sink sets, and the record field whose rule governs it.
struct Attr {
  std::string rule_field;  // record field name (`fields:` rules are keyed by it)
  bool create_only = false;  // set only when the entity is created (e.g. a name made of first and last name)
  std::string scalar;      // a top-level member ("name", "price", ...), or empty for a custom field
  FieldRef custom;         // the custom field when `scalar` is empty
  Json value;              // scalar: the value; custom: [{"value":..,"enum_code":..}]
  bool key = false;        // the match key's field: never changed on update
};

namespace detail {

inline std::string record_text(const Json& record, const std::string& name) {
  auto it = record.find(name);
  if (it == record.end() || it->is_null()) return {};
  return trim(it->is_string() ? it->get<std::string>() : it->dump());
}

inline std::optional<int64_t> record_int(const Json& record, const std::string& name) {
  auto it = record.find(name);
  if (it == record.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) return static_cast<int64_t>(std::llround(it->get<double>()));
  if (it->is_string()) {
    std::string t = trim(it->get<std::string>());
    if (all_digits(t) && t.size() < 18) return std::stoll(t);
    char* end = nullptr;
    double d = std::strtod(t.c_str(), &end);
    if (!t.empty() && end == t.c_str() + t.size() && std::isfinite(d)) return static_cast<int64_t>(std::llround(d));
  }
  return std::nullopt;
}

// Multi-value field from a list field (`emails`: strings or {"value","type"}), or from primary/secondary fields.
inline Json multi_values(const Json& record, const char* list, const char* primary, const char* secondary,
                         const char* primary_enum, const char* secondary_enum,
                         const std::vector<std::string>& allowed, bool email) {
  Json values = Json::array();
  std::vector<std::string> seen;
  auto add = [&](std::string value, std::string code) {
    value = trim(value);
    if (email) value = lower(value);
    if (value.empty() || std::find(seen.begin(), seen.end(), value) != seen.end()) return;
    for (char& c : code) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (std::find(allowed.begin(), allowed.end(), code) == allowed.end()) {
      code = values.empty() ? primary_enum : secondary_enum;
    }
    seen.push_back(value);
    values.push_back({{"value", value}, {"enum_code", code}});
  };
  auto it = record.find(list);
  if (it != record.end() && it->is_array() && !it->empty()) {
    for (const Json& v : *it) {
      if (v.is_string()) add(v.get<std::string>(), "");
      if (v.is_object() && v.contains("value")) add(value_text(v["value"]), v.value("type", std::string()));
    }
    return values;
  }
  add(record_text(record, primary), primary_enum);
  add(record_text(record, secondary), secondary_enum);
  return values;
}

}  // namespace detail

// What the sink sets for one record. Contacts: name (full_name; else first and last name, on create only),
// first_name, last_name,
// responsible_user_id (owner, when it is an amoCRM user id), EMAIL and PHONE (all values, primary first), POSITION
// (job_title). Leads: name (title), price (value), status_id, pipeline_id, responsible_user_id, tracking fields
// (touch fields). The key field gets the match key when it is not EMAIL or PHONE. Fields of the record without an
// amoCRM counterpart are not sent.
inline std::vector<Attr> desired_attrs(Entity entity, const Json& record, const FieldRef& key_field,
                                       const std::string& match_key) {
  std::vector<Attr> attrs;
  auto scalar = [&](const std::string& rule, const char* member, Json value) {
    attrs.push_back(Attr{rule, false, member, {}, std::move(value), false});
  };
  auto custom = [&](const std::string& rule, const char* code, Json values) {
    if (!values.empty()) attrs.push_back(Attr{rule, false, {}, FieldRef::parse(code), std::move(values), false});
  };
  const std::string owner = detail::record_text(record, "owner");
  if (entity == Entity::kContacts) {
    std::string first = detail::record_text(record, "first_name");
    std::string last = detail::record_text(record, "last_name");
    std::string name = detail::record_text(record, "full_name");
    if (!name.empty()) {
      scalar("full_name", "name", name);
    } else if (!trim(first + last).empty()) {
      // A name made of the parts the record has; on update it could drop a part amoCRM holds, so only on create.
      scalar("full_name", "name", trim(first + " " + last));
      attrs.back().create_only = true;
    }
    if (!first.empty()) scalar("first_name", "first_name", first);
    if (!last.empty()) scalar("last_name", "last_name", last);
    if (all_digits(owner) && owner.size() < 18) scalar("owner", "responsible_user_id", std::stoll(owner));
    custom("email", "EMAIL",
           detail::multi_values(record, "emails", "email", "email_secondary", "WORK", "PRIV", email_enums(), true));
    custom("phone", "PHONE",
           detail::multi_values(record, "phones", "phone", "phone_secondary", "MOB", "WORK", phone_enums(), false));
    std::string title = detail::record_text(record, "job_title");
    if (!title.empty()) custom("job_title", "POSITION", Json::array({{{"value", title}}}));
  } else {
    std::string title = detail::record_text(record, "title");
    if (!title.empty()) scalar("title", "name", title);
    if (auto price = detail::record_int(record, "value"); price && *price >= 0) scalar("value", "price", *price);
    for (const char* id : {"status_id", "pipeline_id"}) {
      std::string text = detail::record_text(record, id);
      if (all_digits(text) && text.size() < 18) scalar(id, id, std::stoll(text));
    }
    if (all_digits(owner) && owner.size() < 18) scalar("owner", "responsible_user_id", std::stoll(owner));
    for (const auto& [code, name] : touch_fields()) {
      std::string value = detail::record_text(record, name);
      if (!value.empty() && !(key_field.code == code)) custom(name, code.c_str(), Json::array({{{"value", value}}}));
    }
  }
  if (key_kind(key_field) == KeyKind::kText) {
    std::string key = detail::record_text(record, match_key);
    if (!key.empty()) {
      attrs.push_back(Attr{match_key, false, {}, key_field, Json::array({{{"value", key}}}), true});
    }
  }
  return attrs;
}

namespace detail {

inline bool empty_value(const Json& v) {
  return v.is_null() || (v.is_string() && trim(v.get<std::string>()).empty()) ||
         (v.is_number_integer() && v.get<int64_t>() == 0);
}

// Custom values equal when the texts match (e-mails case-insensitively) and the enum codes match where both
// sides have one.
inline bool same_values(const Json& wanted, const std::vector<FieldValue>& stored, bool email) {
  if (wanted.size() != stored.size()) return false;
  for (size_t i = 0; i < stored.size(); ++i) {
    std::string a = value_text(wanted[i]["value"]), b = stored[i].value;
    if (email ? lower(trim(a)) != lower(trim(b)) : trim(a) != trim(b)) return false;
    std::string code = wanted[i].value("enum_code", std::string());
    if (!code.empty() && !stored[i].enum_code.empty() && code != stored[i].enum_code) return false;
  }
  return true;
}

}  // namespace detail

// The body of a create (stored == nullptr) or of an update of `stored`: on update, an attribute is sent only when
// its rule allows it (never: only on create; only_if_empty: only when the stored value is missing or blank) and its
// value differs from the stored one. `changed` tells whether an update sends anything. Custom fields are named by
// field_code, or field_id for fields configured by id.
inline Json write_body(const std::vector<Attr>& attrs, const Json* stored, const FieldRules& rules, bool* changed) {
  Json body = Json::object();
  Json custom = Json::array();
  for (const Attr& a : attrs) {
    if (stored != nullptr) {
      if (a.key || a.create_only) continue;  // the key is what matched
      auto rule = rules.find(a.rule_field);
      const FieldRule r = rule == rules.end() ? FieldRule::kOverwrite : rule->second;
      if (r == FieldRule::kNever) continue;
      if (!a.scalar.empty()) {
        const Json current = stored->contains(a.scalar) ? (*stored)[a.scalar] : Json();
        if (r == FieldRule::kOnlyIfEmpty && !detail::empty_value(current)) continue;
        if (current == a.value || (current.is_string() && a.value.is_string() &&
                                   trim(current.get<std::string>()) == a.value.get<std::string>())) {
          continue;
        }
      } else {
        std::vector<FieldValue> current = field_values(*stored, a.custom);
        if (r == FieldRule::kOnlyIfEmpty && !current.empty()) continue;
        if (detail::same_values(a.value, current, a.custom.code == "EMAIL")) continue;
      }
    }
    if (!a.scalar.empty()) {
      body[a.scalar] = a.value;
    } else {
      Json field = a.custom.write_key();
      field["values"] = a.value;
      custom.push_back(std::move(field));
    }
  }
  if (!custom.empty()) body["custom_fields_values"] = custom;
  if (changed != nullptr) *changed = !body.empty();
  return body;
}

// ---------------------------------------------------------------------------------------------------------------
// amoCRM's error bodies (application/problem+json)

// "title: detail" of a problem body, or "" when the body is not one.
inline std::string problem_text(const Json& body) {
  if (!body.is_object()) return {};
  std::string title = body.contains("title") && body["title"].is_string() ? body["title"].get<std::string>() : "";
  std::string detail = body.contains("detail") && body["detail"].is_string() ? body["detail"].get<std::string>() : "";
  if (title.empty()) return detail;
  return detail.empty() ? title : title + ": " + detail;
}

// The per-item errors of a 400's "validation-errors", by request_id: "detail (code at path); ...".
inline std::map<std::string, std::string> validation_errors(const Json& body) {
  std::map<std::string, std::string> out;
  if (!body.is_object() || !body.contains("validation-errors") || !body["validation-errors"].is_array()) return out;
  for (const Json& item : body["validation-errors"]) {
    if (!item.is_object()) continue;
    std::string request_id = item.contains("request_id") ? value_text(item["request_id"]) : std::string();
    std::string text;
    for (const Json& e : item.value("errors", Json::array())) {
      if (!e.is_object()) continue;
      std::string one = e.value("detail", std::string("invalid"));
      std::string code = e.value("code", std::string());
      std::string path = e.value("path", std::string());
      if (!code.empty() || !path.empty()) one += " (" + code + (path.empty() ? "" : " at " + path) + ")";
      text += (text.empty() ? "" : "; ") + one;
    }
    if (!request_id.empty()) out[request_id] += (out[request_id].empty() ? "" : "; ") + (text.empty() ? "invalid" : text);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// URLs

// Percent-encodes a query component (RFC 3986 unreserved characters pass).
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

// "?k=v&k2=v2" from pairs, both sides encoded (amoCRM's bracketed names such as filter[updated_at][from] too).
inline std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) q += (q.empty() ? "?" : "&") + url_encode(k) + "=" + url_encode(v);
  return q;
}

}  // namespace conflux::plugins::amocrm
