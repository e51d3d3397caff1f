// Pure helpers of the bitrix24 connector, free of SDK types so that unit tests drive them: entities, Bitrix24's
// times, the tie-safe incremental cursor, the PHP-style query strings of `batch` commands, the mapping between the
// unified record types (schemas/records/) and Bitrix24 fields, update planning under the sink's field rules, and
// the reading of `batch` responses.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace conflux::plugins::bitrix24 {

using Json = nlohmann::json;

// Bitrix24 list methods return a fixed 50 rows per call, and `batch` takes at most 50 commands.
inline constexpr size_t kPage = 50;
inline constexpr size_t kMaxCommands = 50;

enum class Entity { kContact, kLead, kDeal };

// "contact" / "contacts" (and lead, deal) -> the entity; nullopt otherwise.
inline std::optional<Entity> entity_from_name(std::string_view name) {
  if (name == "contact" || name == "contacts") return Entity::kContact;
  if (name == "lead" || name == "leads") return Entity::kLead;
  if (name == "deal" || name == "deals") return Entity::kDeal;
  return std::nullopt;
}
inline std::string entity_name(Entity e) {
  return e == Entity::kContact ? "contact" : e == Entity::kLead ? "lead" : "deal";
}
inline std::string stream_name(Entity e) { return entity_name(e) + "s"; }
// "crm.contact.list" etc.
inline std::string method(Entity e, std::string_view verb) { return "crm." + entity_name(e) + "." + std::string(verb); }

// ---------------------------------------------------------------------------------------------------------------
// Times. Bitrix24 writes ISO 8601 with the portal's offset ("2024-03-05T14:22:10+03:00"), to the second.

inline bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
inline int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "YYYY-MM-DDTHH:MM:SS" + optional fraction (ignored) + "Z" or "+HH:MM" / "-HH:MM" -> seconds since the epoch, UTC.
inline std::optional<int64_t> parse_time(std::string_view s) {
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
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t digits = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == digits) return std::nullopt;
  }
  int64_t offset_s = 0;
  std::string_view zone = s.substr(pos);
  if (zone != "Z") {
    auto oh = num(pos + 1, 2), om = num(pos + 4, 2);
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' || !oh || !om) return std::nullopt;
    offset_s = (int64_t{*oh} * 60 + *om) * 60 * (zone[0] == '-' ? -1 : 1);
  }
  const int64_t days = days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d));
  return ((days * 24 + *h) * 60 + *mi) * 60 + *se - offset_s;
}

// Seconds since the epoch -> "YYYY-MM-DDTHH:MM:SS" + `zone` (UTC).
inline std::string format_time(int64_t seconds, std::string_view zone) {
  int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  int64_t rest = seconds - days * 86400;
  // Civil date from days (Howard Hinnant's algorithm).
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  char text[96];
  std::snprintf(text, sizeof text, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(y), m, d,
                static_cast<long long>(rest / 3600), static_cast<long long>(rest / 60 % 60),
                static_cast<long long>(rest % 60));
  return std::string(text) + std::string(zone);
}
// The unified records' form: "2024-03-05T11:22:10Z".
inline std::string unified_time(int64_t seconds) { return format_time(seconds, "Z"); }
// What the connector sends in filters: "2024-03-05T11:22:10+00:00".
inline std::string filter_time(int64_t seconds) { return format_time(seconds, "+00:00"); }

// ---------------------------------------------------------------------------------------------------------------
// The incremental cursor: after the record (modified second, id) in the order DATE_MODIFY ASC, ID ASC.

// Ids are numeric strings: shorter first, then lexicographic (numeric order without overflow).
inline int compare_ids(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

struct Cursor {
  int64_t modified_s = 0;
  std::string id;  // empty: from the start
  bool empty() const { return id.empty(); }
  // True when (s, record_id) comes after this cursor, i.e. has not been emitted yet.
  bool before(int64_t s, std::string_view record_id) const {
    if (empty()) return true;
    if (s != modified_s) return s > modified_s;
    return compare_ids(record_id, id) > 0;
  }
};

// "t=<seconds>;id=<id>", or "" for the empty cursor.
inline std::string encode_cursor(const Cursor& c) {
  if (c.empty()) return {};
  return "t=" + std::to_string(c.modified_s) + ";id=" + c.id;
}

// Inverse of encode_cursor; nullopt for anything it did not produce.
inline std::optional<Cursor> decode_cursor(std::string_view text) {
  if (text.empty()) return Cursor{};
  if (text.substr(0, 2) != "t=") return std::nullopt;
  size_t sep = text.find(";id=");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string_view s = text.substr(2, sep - 2);
  std::string_view id = text.substr(sep + 4);
  if (!all_digits(s) || s.size() > 15 || !all_digits(id) || id.size() > 18) return std::nullopt;
  return Cursor{std::stoll(std::string(s)), std::string(id)};
}

// ---------------------------------------------------------------------------------------------------------------
// PHP-style query strings: what `batch` commands ("crm.contact.add?fields[NAME]=Ann") and Bitrix24 itself speak.

inline std::string percent_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
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

// The text a scalar is sent as: strings as they are, numbers as JSON writes them, booleans as Bitrix24's Y / N.
inline std::string scalar_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "Y" : "N";
  if (v.is_null()) return {};
  return v.dump();
}

// Appends `key=value` pairs for `value`: objects as key[name], arrays as key[0], key[1], ... (PHP's http_build_query).
inline void append_query(std::string& out, const std::string& key, const Json& value) {
  if (value.is_object() || value.is_array()) {
    size_t i = 0;
    for (auto it = value.begin(); it != value.end(); ++it, ++i) {
      append_query(out, key + "[" + (value.is_object() ? it.key() : std::to_string(i)) + "]", *it);
    }
    return;
  }
  if (!out.empty()) out += '&';
  out += percent_encode(key) + "=" + percent_encode(scalar_text(value));
}

// "method?k=v&..." for one `batch` command; `params` is an object.
inline std::string command(const std::string& method_name, const Json& params) {
  std::string query;
  for (const auto& [key, value] : params.items()) append_query(query, key, value);
  return query.empty() ? method_name : method_name + "?" + query;
}

// ---------------------------------------------------------------------------------------------------------------
// Field mapping between the unified record types and Bitrix24 (documented in docs/connectors/bitrix24.md).

inline constexpr unsigned kC = 1, kL = 2, kD = 4;  // entity bits
inline unsigned bit(Entity e) { return e == Entity::kContact ? kC : e == Entity::kLead ? kL : kD; }

// A unified field copied as text to and from one Bitrix24 field.
struct TextField {
  const char* unified;
  const char* bitrix;
  unsigned entities;
};
inline constexpr TextField kTextFields[] = {
    {"first_name", "NAME", kC | kL},
    {"last_name", "LAST_NAME", kC | kL},
    {"middle_name", "SECOND_NAME", kC | kL},
    {"job_title", "POST", kC | kL},
    {"address", "ADDRESS", kC | kL},
    {"city", "ADDRESS_CITY", kC | kL},
    {"region", "ADDRESS_PROVINCE", kC | kL},
    {"country", "ADDRESS_COUNTRY_CODE", kC | kL},
    {"notes", "COMMENTS", kC},
    {"comment", "COMMENTS", kL},
    {"company_name", "COMPANY_TITLE", kL},
    {"title", "TITLE", kL},
    {"name", "TITLE", kD},
    {"currency", "CURRENCY_ID", kL | kD},
    {"utm_source", "UTM_SOURCE", kC | kL | kD},
    {"utm_medium", "UTM_MEDIUM", kC | kL | kD},
    {"utm_campaign", "UTM_CAMPAIGN", kC | kL | kD},
    {"utm_term", "UTM_TERM", kC | kL | kD},
    {"utm_content", "UTM_CONTENT", kC | kL | kD},
};

// A unified field held in one slot (VALUE_TYPE) of a Bitrix24 multi-field (EMAIL, PHONE).
struct MultiField {
  const char* unified;
  const char* bitrix;
  const char* value_type;
};
inline constexpr MultiField kMultiFields[] = {
    {"email", "EMAIL", "WORK"},
    {"email_secondary", "EMAIL", "OTHER"},
    {"phone", "PHONE", "WORK"},
    {"phone_secondary", "PHONE", "OTHER"},
};
inline bool has_multi_fields(Entity e) { return e != Entity::kDeal; }
inline bool is_multi_field(std::string_view bitrix) {
  return bitrix == "EMAIL" || bitrix == "PHONE" || bitrix == "WEB" || bitrix == "IM" || bitrix == "LINK";
}

// Unified `channel` -> Bitrix24's default SOURCE_ID values.
inline std::optional<std::string> source_id_of_channel(std::string_view channel) {
  static const std::pair<const char*, const char*> kMap[] = {
      {"paid_search", "ADVERTISING"}, {"paid_social", "ADVERTISING"}, {"display", "ADVERTISING"},
      {"organic_search", "WEB"},      {"organic_social", "WEB"},      {"direct", "WEB"},
      {"email", "EMAIL"},             {"referral", "RECOMMENDATION"}, {"call", "CALL"},
      {"offline", "OTHER"},           {"other", "OTHER"}};
  for (const auto& [from, to] : kMap) {
    if (channel == from) return std::string(to);
  }
  return std::nullopt;
}

// Unified lead `status` <-> Bitrix24's default lead STATUS_ID values.
inline constexpr std::pair<const char*, const char*> kLeadStatuses[] = {{"new", "NEW"},
                                                                       {"in_progress", "IN_PROCESS"},
                                                                       {"qualified", "PROCESSED"},
                                                                       {"disqualified", "JUNK"},
                                                                       {"converted", "CONVERTED"}};

// Fields Bitrix24 computes; never sent even when a record carries them.
inline bool is_read_only(std::string_view bitrix) {
  for (const char* n : {"ID", "DATE_CREATE", "DATE_MODIFY", "CREATED_BY_ID", "MODIFY_BY_ID", "STAGE_SEMANTIC_ID",
                        "STATUS_SEMANTIC_ID", "HAS_EMAIL", "HAS_PHONE", "HAS_IMOL", "LEAD_ID"}) {
    if (bitrix == n) return true;
  }
  return false;
}

// A Bitrix24 field name (passed through as it is): upper case, digits and underscores, e.g. UF_CRM_1720697698689.
inline bool is_bitrix_name(std::string_view name) {
  if (name.empty() || !(name[0] >= 'A' && name[0] <= 'Z')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

// Unified bookkeeping fields the sink uses or knows to leave out, so they are not reported as unmapped.
inline bool is_bookkeeping(std::string_view name) {
  for (const char* n : {"source", "source_id", "updated_at", "created_at", "profile_id", "contact_source_id"}) {
    if (name == n) return true;
  }
  return false;
}

// The Bitrix24 field names a unified field name writes, for the sink's `fields` rules; empty when it writes none.
inline std::vector<std::string> bitrix_names(Entity e, std::string_view unified) {
  std::vector<std::string> out;
  for (const auto& f : kTextFields) {
    if (unified == f.unified && (f.entities & bit(e))) out.emplace_back(f.bitrix);
  }
  if (has_multi_fields(e)) {
    for (const auto& f : kMultiFields) {
      if (unified == f.unified) out.emplace_back(f.bitrix);
    }
  }
  if (unified == "full_name" && e != Entity::kDeal) out.emplace_back("NAME");
  if (unified == "channel") out.emplace_back("SOURCE_ID");
  if (unified == "source") out.emplace_back("ORIGINATOR_ID");
  if (unified == "source_id") out.emplace_back("ORIGIN_ID");
  if (unified == "status" && e == Entity::kLead) out.emplace_back("STATUS_ID");
  if ((unified == "status" || unified == "stage") && e == Entity::kDeal) out.emplace_back("STAGE_ID");
  if (unified == "pipeline" && e == Entity::kDeal) out.emplace_back("CATEGORY_ID");
  if ((unified == "value" && e == Entity::kLead) || (unified == "amount" && e == Entity::kDeal)) {
    out.emplace_back("OPPORTUNITY");
  }
  if (unified == "expected_close_date" && e == Entity::kDeal) out.emplace_back("CLOSEDATE");
  if (unified == "contact_source_id" && e != Entity::kContact) out.emplace_back("CONTACT_ID");
  return out;
}

inline std::string trimmed(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// The text of a record field, or "" when it is absent, null, blank or not a scalar.
inline std::string text_of(const Json& record, const char* name) {
  auto it = record.find(name);
  if (it == record.end() || it->is_null() || it->is_object() || it->is_array()) return {};
  return trimmed(scalar_text(*it));
}

// A unified record -> the Bitrix24 `fields` of an add or update: mapped fields, then upper-case fields passed
// through (they win). Multi-fields become [{"VALUE":..,"VALUE_TYPE":..}]. `originator` names the source system
// (ORIGINATOR_ID) when the record has no `source`. CONTACT_ID is left to the caller (it needs a lookup).
// `unmapped` receives the record's lower-case fields that are sent nowhere.
inline Json to_bitrix(Entity e, const Json& record, const std::string& originator,
                      std::vector<std::string>* unmapped = nullptr) {
  Json fields = Json::object();
  for (const auto& f : kTextFields) {
    if (!(f.entities & bit(e))) continue;
    std::string v = text_of(record, f.unified);
    if (!v.empty()) fields[f.bitrix] = v;
  }
  if (!fields.contains("NAME") && !fields.contains("LAST_NAME") && e != Entity::kDeal) {
    std::string full = text_of(record, "full_name");
    if (!full.empty()) fields["NAME"] = full;
  }
  if (has_multi_fields(e)) {
    for (const auto& f : kMultiFields) {
      std::string v = text_of(record, f.unified);
      if (v.empty()) continue;
      if (!fields.contains(f.bitrix)) fields[f.bitrix] = Json::array();
      fields[f.bitrix].push_back({{"VALUE", v}, {"VALUE_TYPE", f.value_type}});
    }
  }
  if (auto source_id = source_id_of_channel(text_of(record, "channel"))) fields["SOURCE_ID"] = *source_id;
  std::string source = text_of(record, "source");
  fields["ORIGINATOR_ID"] = source.empty() ? originator : source;
  std::string origin = text_of(record, "source_id");
  if (!origin.empty()) fields["ORIGIN_ID"] = origin;
  if (e == Entity::kLead) {
    std::string status = text_of(record, "status");
    for (const auto& [unified, bitrix] : kLeadStatuses) {
      if (status == unified) fields["STATUS_ID"] = bitrix;
    }
    if (!fields.contains("TITLE")) {
      std::string form = text_of(record, "form_name");
      if (!form.empty()) fields["TITLE"] = form;
    }
    std::string value = text_of(record, "value");
    if (!value.empty()) fields["OPPORTUNITY"] = value;
  }
  if (e == Entity::kDeal) {
    std::string pipeline = text_of(record, "pipeline");
    const bool category = all_digits(pipeline) && pipeline.size() < 10;
    if (category) fields["CATEGORY_ID"] = pipeline;
    // Stages of a pipeline other than 0 are named "C<id>:<stage>".
    const std::string prefix = category && pipeline != "0" ? "C" + pipeline + ":" : "";
    std::string status = text_of(record, "status");
    std::string stage = text_of(record, "stage");
    if (status == "won") {
      fields["STAGE_ID"] = prefix + "WON";
    } else if (status == "lost") {
      fields["STAGE_ID"] = prefix + "LOSE";
    } else if (!stage.empty()) {
      fields["STAGE_ID"] = stage;
    }
    std::string amount = text_of(record, "amount");
    if (!amount.empty()) fields["OPPORTUNITY"] = amount;
    std::string close = text_of(record, "expected_close_date");
    if (!close.empty()) fields["CLOSEDATE"] = close;
  }
  for (const auto& [name, value] : record.items()) {
    if (is_bitrix_name(name)) {
      if (!is_read_only(name) && !value.is_null()) fields[name] = value;
      continue;
    }
    if (unmapped == nullptr || is_bookkeeping(name) || value.is_null()) continue;
    static const std::set<std::string> kUsed = {"full_name", "channel", "status", "form_name", "value",
                                                "pipeline",  "stage",   "amount", "expected_close_date"};
    if (!bitrix_names(e, name).empty() || kUsed.count(name)) continue;
    unmapped->push_back(name);
  }
  return fields;
}

// The Bitrix24 fields the source selects for an entity: every mapped one plus what the cursor and record need.
inline std::vector<std::string> select_fields(Entity e) {
  std::vector<std::string> out = {"ID", "DATE_CREATE", "DATE_MODIFY", "SOURCE_ID", "ORIGINATOR_ID", "ORIGIN_ID"};
  auto add = [&](const char* n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.emplace_back(n);
  };
  for (const auto& f : kTextFields) {
    if (f.entities & bit(e)) add(f.bitrix);
  }
  if (has_multi_fields(e)) {
    add("EMAIL");
    add("PHONE");
  }
  if (e == Entity::kLead) {
    for (const char* n : {"STATUS_ID", "OPPORTUNITY", "CONTACT_ID"}) add(n);
  }
  if (e == Entity::kDeal) {
    for (const char* n : {"STAGE_ID", "STAGE_SEMANTIC_ID", "CATEGORY_ID", "OPPORTUNITY", "CLOSEDATE", "CONTACT_ID",
                          "COMPANY_ID", "LEAD_ID"}) {
      add(n);
    }
  }
  return out;
}

// The VALUE of a multi-field entry as text.
inline std::string entry_value(const Json& entry) {
  return entry.is_object() && entry.contains("VALUE") ? trimmed(scalar_text(entry["VALUE"])) : std::string();
}

// A Bitrix24 item (as crm.*.list returns it) -> a unified record: source "bitrix24", source_id its ID,
// updated_at / created_at in UTC, the mapped fields, and every field named in `extra` under its Bitrix24 name.
inline Json to_unified(Entity e, const Json& item, const std::vector<std::string>& extra = {}) {
  Json out = Json::object();
  auto text = [&](const char* name) { return text_of(item, name); };
  out["source"] = "bitrix24";
  out["source_id"] = text("ID");
  if (auto t = parse_time(text("DATE_MODIFY"))) out["updated_at"] = unified_time(*t);
  if (auto t = parse_time(text("DATE_CREATE"))) out["created_at"] = unified_time(*t);
  for (const auto& f : kTextFields) {
    if (!(f.entities & bit(e))) continue;
    std::string v = text(f.bitrix);
    if (!v.empty()) out[f.unified] = v;
  }
  if (has_multi_fields(e)) {
    // The WORK entry is the primary value, else the first; the next remaining entry is the secondary one.
    for (const char* multi : {"EMAIL", "PHONE"}) {
      std::vector<std::string> values;
      std::optional<size_t> work;
      auto it = item.find(multi);
      if (it != item.end() && it->is_array()) {
        for (const auto& entry : *it) {
          std::string v = entry_value(entry);
          if (v.empty()) continue;
          if (!work && entry.is_object() && entry.value("VALUE_TYPE", "") == "WORK") work = values.size();
          values.push_back(v);
        }
      }
      if (work) std::rotate(values.begin(), values.begin() + static_cast<long>(*work), values.begin() + static_cast<long>(*work) + 1);
      const std::string base = std::string(multi) == "EMAIL" ? "email" : "phone";
      if (!values.empty()) out[base] = values[0];
      if (values.size() > 1) out[base + "_secondary"] = values[1];
    }
  }
  if (e == Entity::kLead) {
    std::string status = text("STATUS_ID");
    if (!status.empty()) out["source_status"] = status;
    for (const auto& [unified, bitrix] : kLeadStatuses) {
      if (status == bitrix) out["status"] = unified;
    }
    std::string value = text("OPPORTUNITY");
    if (!value.empty()) {
      Json number = Json::parse(value, nullptr, false);
      if (number.is_number()) out["value"] = number;
    }
    std::string contact = text("CONTACT_ID");
    if (!contact.empty() && contact != "0") out["contact_source_id"] = contact;
  }
  if (e == Entity::kDeal) {
    std::string semantic = text("STAGE_SEMANTIC_ID");
    out["status"] = semantic == "S" ? "won" : semantic == "F" ? "lost" : "open";
    std::string stage = text("STAGE_ID");
    if (!stage.empty()) out["stage"] = stage;
    std::string category = text("CATEGORY_ID");
    if (!category.empty()) out["pipeline"] = category;
    std::string amount = text("OPPORTUNITY");
    if (!amount.empty()) {
      Json number = Json::parse(amount, nullptr, false);
      if (number.is_number()) out["amount"] = number;
    }
    std::string close = text("CLOSEDATE");
    if (close.size() >= 10) out["expected_close_date"] = close.substr(0, 10);
    for (const auto& [from, to] : {std::pair{"CONTACT_ID", "contact_source_id"}, std::pair{"COMPANY_ID", "company_source_id"},
                                   std::pair{"LEAD_ID", "lead_source_id"}}) {
      std::string v = text(from);
      if (!v.empty() && v != "0") out[to] = v;
    }
  }
  // Money needs its currency (the schemas' dependency); Bitrix24 always has one, drop it when there is no money.
  if (!out.contains("value") && !out.contains("amount")) out.erase("currency");
  for (const auto& name : extra) {
    auto it = item.find(name);
    if (it != item.end() && !it->is_null()) out[name] = *it;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Match keys: how the sink finds the record a unified record updates.

enum class MatchKey { kEmail, kPhone, kSourceId };

inline std::optional<MatchKey> match_key_from_name(std::string_view name) {
  if (name == "email") return MatchKey::kEmail;
  if (name == "phone") return MatchKey::kPhone;
  if (name == "source_id") return MatchKey::kSourceId;
  return std::nullopt;
}
inline MatchKey default_match_key(Entity e) { return e == Entity::kContact ? MatchKey::kEmail : MatchKey::kSourceId; }

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// How Bitrix24 compares multi-field values: e-mail addresses case-insensitively, phones by their digits.
inline std::string normalise_value(std::string_view field, std::string_view value) {
  if (field == "EMAIL") return lower(trimmed(value));
  if (field == "PHONE") {
    std::string digits;
    for (char c : value) {
      if (c >= '0' && c <= '9') digits += c;
    }
    return digits;
  }
  return trimmed(value);
}

// The crm.*.list filter that finds the record `fields` (from to_bitrix) describes, or nullopt when the record lacks
// the key's value. EMAIL and PHONE match any entry of the multi-field; source_id matches ORIGINATOR_ID + ORIGIN_ID.
inline std::optional<Json> key_filter(MatchKey key, const Json& fields) {
  if (key == MatchKey::kSourceId) {
    if (!fields.contains("ORIGIN_ID")) return std::nullopt;
    return Json{{"ORIGINATOR_ID", fields["ORIGINATOR_ID"]}, {"ORIGIN_ID", fields["ORIGIN_ID"]}};
  }
  const char* field = key == MatchKey::kEmail ? "EMAIL" : "PHONE";
  auto it = fields.find(field);
  if (it == fields.end() || !it->is_array() || it->empty()) return std::nullopt;
  return Json{{field, entry_value(it->front())}};
}

// The key's text for telling two records of one batch apart (normalised like Bitrix24 compares it).
inline std::string key_text(MatchKey key, const Json& filter) {
  if (key == MatchKey::kSourceId) return scalar_text(filter["ORIGINATOR_ID"]) + "\n" + scalar_text(filter["ORIGIN_ID"]);
  const char* field = key == MatchKey::kEmail ? "EMAIL" : "PHONE";
  return normalise_value(field, scalar_text(filter[field]));
}

// Splits keys into groups of at most `max`, in order, never putting one key twice in a group: a later record with
// the same key must see what the earlier one wrote. Returns index lists into `keys`.
inline std::vector<std::vector<size_t>> chunk_by_key(const std::vector<std::string>& keys, size_t max) {
  std::vector<std::vector<size_t>> chunks;
  std::vector<size_t> current;
  std::set<std::string> seen;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!current.empty() && (current.size() >= max || seen.count(keys[i]))) {
      chunks.push_back(std::move(current));
      current.clear();
      seen.clear();
    }
    current.push_back(i);
    seen.insert(keys[i]);
  }
  if (!current.empty()) chunks.push_back(std::move(current));
  return chunks;
}

// ---------------------------------------------------------------------------------------------------------------
// Update planning under the sink's sync mode and field rules.

enum class Rule { kOverwrite, kOnlyIfEmpty, kNever };

inline std::optional<Rule> rule_from_name(std::string_view name) {
  if (name == "overwrite") return Rule::kOverwrite;
  if (name == "only_if_empty") return Rule::kOnlyIfEmpty;
  if (name == "never") return Rule::kNever;
  return std::nullopt;
}

// True when the value the sink would send equals what Bitrix24 holds: as text, as numbers ("1500" and "1500.00"),
// or as a date that Bitrix24 holds as a date-time ("2024-03-05" and "2024-03-05T00:00:00+03:00").
inline bool same_value(const Json& sent, const Json& stored) {
  if (sent.is_object() || sent.is_array() || stored.is_object() || stored.is_array()) return sent == stored;
  const std::string a = trimmed(scalar_text(sent));
  const std::string b = trimmed(scalar_text(stored));
  if (a == b) return true;
  Json na = Json::parse(a, nullptr, false), nb = Json::parse(b, nullptr, false);
  if (na.is_number() && nb.is_number()) return na.get<double>() == nb.get<double>();
  return a.size() == 10 && b.size() > 10 && b.compare(0, 10, a) == 0 && b[10] == 'T';
}

inline bool blank(const Json* stored) {
  if (stored == nullptr || stored->is_null()) return true;
  if (stored->is_array() || stored->is_object()) return stored->empty();
  const std::string text = trimmed(scalar_text(*stored));
  if (text.empty()) return true;
  Json number = Json::parse(text, nullptr, false);  // "0", "0.00": no amount, no linked id
  return number.is_number() && number.get<double>() == 0;
}

// The entries of a multi-field to send so that Bitrix24 holds each desired value once: a value it holds already is
// left alone; otherwise the first stored entry of the same VALUE_TYPE is overwritten by its ID, or a new entry added.
inline Json plan_multi(const std::string& field, const Json& desired, const Json* stored) {
  Json out = Json::array();
  const Json existing = stored != nullptr && stored->is_array() ? *stored : Json::array();
  std::set<std::string> held, replaced;
  for (const auto& e : existing) held.insert(normalise_value(field, entry_value(e)));
  for (const auto& d : desired) {
    const std::string value = entry_value(d);
    if (held.count(normalise_value(field, value))) continue;
    Json entry = d;
    for (const auto& e : existing) {
      const std::string id = e.contains("ID") ? scalar_text(e["ID"]) : "";
      if (!id.empty() && !replaced.count(id) && e.value("VALUE_TYPE", "") == d.value("VALUE_TYPE", "")) {
        entry["ID"] = id;
        replaced.insert(id);
        break;
      }
    }
    held.insert(normalise_value(field, value));
    out.push_back(std::move(entry));
  }
  return out;
}

// The `fields` of an update that brings `stored` (the item a lookup returned) to `desired` under `rules` (Bitrix24
// field name -> rule; absent = overwrite): `never` fields are left out, `only_if_empty` ones are sent only over an
// absent, blank or zero value (a multi-field: when it has no entry), the rest only when they differ. An empty
// object means there is nothing to change.
inline Json plan_update(const Json& desired, const Json& stored, const std::map<std::string, Rule>& rules) {
  Json out = Json::object();
  for (const auto& [name, value] : desired.items()) {
    auto rule_it = rules.find(name);
    const Rule rule = rule_it == rules.end() ? Rule::kOverwrite : rule_it->second;
    if (rule == Rule::kNever) continue;
    auto found = stored.find(name);
    const Json* current = found == stored.end() ? nullptr : &*found;
    if (rule == Rule::kOnlyIfEmpty && !blank(current)) continue;
    if (is_multi_field(name) && value.is_array()) {
      Json entries = plan_multi(name, value, current);
      if (!entries.empty()) out[name] = std::move(entries);
      continue;
    }
    if (current == nullptr || !same_value(value, *current)) out[name] = value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// `batch` responses: {"result":{"result":{key:value},"result_error":{key:{"error","error_description"}},
// "result_total":{..},"result_next":{..}},"time":{..}}. Empty maps arrive as [] (PHP's empty array).

struct CommandError {
  std::string code;
  std::string description;
  std::string text() const {
    if (code.empty()) return description.empty() ? "refused without a reason" : description;
    return description.empty() ? code : code + ": " + description;
  }
};

struct BatchReply {
  std::map<std::string, Json> results;
  std::map<std::string, CommandError> errors;
};

// nullopt when the body does not have the shape above.
inline std::optional<BatchReply> read_batch_reply(const Json& body) {
  if (!body.is_object() || !body.contains("result") || !body["result"].is_object()) return std::nullopt;
  const Json& r = body["result"];
  BatchReply reply;
  auto map_of = [](const Json& j, const char* name) -> std::optional<Json> {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return Json::object();
    if (it->is_array() && it->empty()) return Json::object();
    if (it->is_object()) return *it;
    if (it->is_array()) {  // numeric command keys: a list
      Json o = Json::object();
      for (size_t i = 0; i < it->size(); ++i) o[std::to_string(i)] = (*it)[i];
      return o;
    }
    return std::nullopt;
  };
  auto results = map_of(r, "result");
  auto errors = map_of(r, "result_error");
  if (!results || !errors) return std::nullopt;
  for (const auto& [key, value] : results->items()) reply.results[key] = value;
  for (const auto& [key, value] : errors->items()) {
    CommandError e;
    if (value.is_object()) {
      e.code = value.contains("error") ? scalar_text(value["error"]) : "";
      e.description = value.contains("error_description") ? scalar_text(value["error_description"]) : "";
    } else {
      e.description = scalar_text(value);
    }
    reply.errors[key] = e;
  }
  return reply;
}

// What a command's error says to do: kRecord = the record is at fault (dead-letter it); kRetry = the platform is
// busy or failed (retry the call); kAuth = the credentials or their permissions are wrong (stop, fix the config).
enum class Fault { kRecord, kRetry, kAuth };

inline Fault classify_error(const CommandError& e) {
  for (const char* code : {"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "INTERNAL_SERVER_ERROR",
                           "ERROR_UNEXPECTED_ANSWER"}) {
    if (e.code == code) return Fault::kRetry;
  }
  for (const char* code : {"NO_AUTH_FOUND", "INVALID_CREDENTIALS", "INVALID_REQUEST", "OVERLOAD_LIMIT",
                           "ACCESS_DENIED", "insufficient_scope", "expired_token", "invalid_token",
                           "user_access_error", "PORTAL_DELETED", "ERROR_METHOD_NOT_FOUND"}) {
    if (e.code == code) return Fault::kAuth;
  }
  // Methods answer a missing permission with an empty code and "Access denied".
  if (e.code.empty() && lower(e.description).rfind("access denied", 0) == 0) return Fault::kAuth;
  return Fault::kRecord;
}

}  // namespace conflux::plugins::bitrix24
