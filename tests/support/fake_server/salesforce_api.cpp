#include "fake_server/salesforce_api.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <regex>
#include <set>

#include "fake_server/salesforce_soql.hpp"

namespace conflux::test::fake {
namespace {

using Json = nlohmann::json;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- Schema ----

struct FieldDef {
  std::string name;
  std::string type;  // describe's type: id, reference, string, email, phone, picklist, url, textarea, boolean, int,
                     // double, currency, date, datetime
  bool required = false;     // on create (and may not be cleared)
  bool external_id = false;
  bool writable = true;      // false for system fields
};

struct ObjectDef {
  std::string name;
  std::string key_prefix;
  std::vector<FieldDef> fields;
  std::map<std::string, std::string> defaults;  // field -> value set on create when absent

  const FieldDef* field(const std::string& any_case) const {
    const std::string wanted = lower(any_case);
    for (const auto& f : fields) {
      if (lower(f.name) == wanted) return &f;
    }
    return nullptr;
  }
};

std::vector<ObjectDef> build_schema(const SalesforceApiOptions& options) {
  auto text = [](const char* name, const char* type = "string") { return FieldDef{name, type, false, false, true}; };
  auto required = [](const char* name) { return FieldDef{name, "string", true, false, true}; };
  auto system = [](const char* name, const char* type) { return FieldDef{name, type, false, false, false}; };
  std::vector<ObjectDef> objects = {
      {"Contact", "003",
       {text("FirstName"), required("LastName"), text("Email", "email"), text("Phone", "phone"),
        text("MobilePhone", "phone"), text("Title"), text("Department"), text("AccountId", "reference"),
        text("LeadSource", "picklist"), text("MailingCity"), text("MailingCountry"), text("Description", "textarea"),
        text("HasOptedOutOfEmail", "boolean"), text("DoNotCall", "boolean"), text("Birthdate", "date")},
       {}},
      {"Lead", "00Q",
       {text("FirstName"), required("LastName"), required("Company"), text("Email", "email"), text("Phone", "phone"),
        text("MobilePhone", "phone"), text("Title"), text("Status", "picklist"), text("LeadSource", "picklist"),
        text("City"), text("Country"), text("Description", "textarea"), text("HasOptedOutOfEmail", "boolean"),
        text("NumberOfEmployees", "int")},
       {{"Status", "Open - Not Contacted"}}},
      {"Account", "001",
       {required("Name"), text("Phone", "phone"), text("Website", "url"), text("Industry", "picklist"),
        text("BillingCity"), text("BillingCountry"), text("Description", "textarea"), text("NumberOfEmployees", "int"),
        text("AnnualRevenue", "currency")},
       {}},
  };
  for (auto& o : objects) {
    o.fields.insert(o.fields.begin(), system("Id", "id"));
    for (const auto& f : {system("IsDeleted", "boolean"), system("CreatedDate", "datetime"),
                          system("LastModifiedDate", "datetime"), system("SystemModstamp", "datetime")}) {
      o.fields.push_back(f);
    }
    o.fields.push_back(FieldDef{"External_Id__c", "string", false, true, true});
    auto custom = options.custom_fields.find(o.name);
    if (custom != options.custom_fields.end()) {
      for (const auto& name : custom->second) {
        if (!o.field(name)) o.fields.push_back(FieldDef{name, "string", false, false, true});
      }
    }
  }
  return objects;
}

soql::FieldType soql_type(const std::string& type) {
  if (type == "id" || type == "reference") return soql::FieldType::kId;
  if (type == "boolean") return soql::FieldType::kBool;
  if (type == "int" || type == "double" || type == "currency") return soql::FieldType::kNumber;
  if (type == "datetime") return soql::FieldType::kDateTime;
  if (type == "date") return soql::FieldType::kDate;
  return soql::FieldType::kText;
}

// ---- Responses ----

Response sf_error(int status, const std::string& code, const std::string& message) {
  return Response::json(status, Json::array({{{"message", message}, {"errorCode", code}}}));
}
Json item_error(const std::string& code, const std::string& message, const std::vector<std::string>& fields = {}) {
  return {{"statusCode", code}, {"message", message}, {"fields", fields}};
}
Response not_found() { return sf_error(404, "NOT_FOUND", "The requested resource does not exist"); }

bool valid_email(const std::string& email) {
  static const std::regex pattern(R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)");
  return std::regex_match(email, pattern);
}
bool blank(const Json& v) {
  return v.is_null() || (v.is_string() && v.get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos);
}

// ---- State ----

struct Locator {
  std::string version;
  std::vector<Json> records;  // the query's snapshot, projected
  size_t page = 2000;
};

struct State {
  std::mutex mutex;  // guards everything here, and serialises writes to the store
  int64_t requests = 0;
  uint64_t next_id = 1;
  uint64_t next_locator = 1;
  std::map<std::string, Locator> locators;
  int64_t last_stamp = 0;
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string base62(uint64_t n, size_t width) {
  static const char* kDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(width, '0');
  for (size_t i = width; i-- > 0 && n > 0; n /= 62) out[i] = kDigits[n % 62];
  return out;
}

// The record as the API shows it: writable fields, then the system fields.
Json view(const StoredRecord& r) {
  Json out = Json::object();
  out["Id"] = r.id;
  for (const auto& [k, v] : r.properties.items()) out[k] = v;
  if (!out.contains("IsDeleted")) out["IsDeleted"] = false;
  out["CreatedDate"] = soql::format_datetime(r.created_ms);
  out["LastModifiedDate"] = soql::format_datetime(r.updated_ms);
  out["SystemModstamp"] = soql::format_datetime(r.updated_ms);
  return out;
}

std::vector<StoredRecord> all_records(const RecordStore& store, const std::string& object) {
  RecordStore::Query q;
  q.limit = std::numeric_limits<size_t>::max();
  auto page = store.list(object, q);
  return page ? std::move(page->records) : std::vector<StoredRecord>{};
}

bool is_deleted(const StoredRecord& r) {
  auto d = r.properties.find("IsDeleted");
  return d != r.properties.end() && d->is_boolean() && d->get<bool>();
}

// A value for a field of `type` as Salesforce's JSON reader takes it, or nullopt when it would refuse the request.
std::optional<Json> coerce(const FieldDef& f, const Json& v) {
  if (v.is_null()) return v;
  if (f.type == "boolean") {
    if (v.is_boolean()) return v;
    if (v.is_string() && (lower(v.get<std::string>()) == "true" || lower(v.get<std::string>()) == "false")) {
      return Json(lower(v.get<std::string>()) == "true");
    }
    return std::nullopt;
  }
  if (f.type == "int" || f.type == "double" || f.type == "currency") {
    if (v.is_number()) return f.type == "int" && !v.is_number_integer() ? std::nullopt : std::optional<Json>(v);
    if (!v.is_string()) return std::nullopt;
    const std::string s = v.get<std::string>();
    static const std::regex integer(R"(^-?[0-9]{1,15}$)"), decimal(R"(^-?[0-9]{1,15}(\.[0-9]+)?$)");
    if (f.type == "int") return std::regex_match(s, integer) ? std::optional<Json>(std::stoll(s)) : std::nullopt;
    return std::regex_match(s, decimal) ? std::optional<Json>(std::stod(s)) : std::nullopt;
  }
  if (f.type == "date") {
    static const std::regex date(R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}$)");
    return v.is_string() && std::regex_match(v.get<std::string>(), date) ? std::optional<Json>(v) : std::nullopt;
  }
  // Text fields take text, and numbers or booleans as their text.
  if (v.is_string()) return v;
  if (v.is_number() || v.is_boolean()) return Json(v.dump());
  return std::nullopt;
}

std::string json_kind(const Json& v) {
  if (v.is_string()) return "VALUE_STRING";
  if (v.is_number_integer()) return "VALUE_NUMBER_INT";
  if (v.is_number()) return "VALUE_NUMBER_FLOAT";
  if (v.is_boolean()) return v.get<bool>() ? "VALUE_TRUE" : "VALUE_FALSE";
  if (v.is_object()) return "START_OBJECT";
  return "START_ARRAY";
}

}  // namespace

std::string salesforce_id18(const std::string& id15) {
  static const char* kSuffix = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  std::string out = id15;
  for (size_t chunk = 0; chunk < 3; ++chunk) {
    int mask = 0;
    for (size_t i = 0; i < 5; ++i) {
      const char c = id15[chunk * 5 + i];
      if (c >= 'A' && c <= 'Z') mask |= 1 << i;
    }
    out += kSuffix[mask];
  }
  return out;
}

SalesforceApiOptions SalesforceApiOptions::from_json(const nlohmann::json& j, std::string token) {
  SalesforceApiOptions o;
  o.token = std::move(token);
  if (!j.is_object()) return o;
  o.min_version = j.value("min_version", o.min_version);
  o.max_version = j.value("max_version", o.max_version);
  o.query_batch_size = j.value("query_batch_size", o.query_batch_size);
  o.max_collection = j.value("max_collection", o.max_collection);
  o.daily_limit = j.value("daily_limit", o.daily_limit);
  if (j.contains("custom_fields")) {
    o.custom_fields = j["custom_fields"].get<std::map<std::string, std::vector<std::string>>>();
  }
  return o;
}

void install_salesforce_api(FakeServer& server, SalesforceApiOptions options) {
  auto schema = std::make_shared<const std::vector<ObjectDef>>(build_schema(options));
  auto state = std::make_shared<State>();
  RecordStore& store = server.store();
  for (const auto& o : *schema) {
    if (!store.has_collection(o.name)) store.create_collection(o.name);
  }
  auto find_object = [schema](const std::string& name) -> const ObjectDef* {
    for (const auto& o : *schema) {
      if (lower(o.name) == lower(name)) return &o;
    }
    return nullptr;
  };

  // API version, then the token, then the org's daily allocation; every answer reports the usage.
  auto guarded = [options, state](Handler handler) {
    return [options, state, handler](const Request& request) -> Response {
      const std::string version = request.path_params.count("version") ? request.path_params.at("version") : "";
      static const std::regex pattern(R"(^v([0-9]{2})\.0$)");
      std::smatch m;
      if (!std::regex_match(version, m, pattern) || std::stoi(m[1].str()) < options.min_version ||
          std::stoi(m[1].str()) > options.max_version) {
        return not_found();
      }
      std::string token;
      auto auth = request.header("Authorization");
      if (auth && auth->rfind("Bearer ", 0) == 0) token = auth->substr(7);
      if (!options.token.empty() && token != options.token) {
        return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid");
      }
      int64_t used = 0;
      bool over = false;
      {
        std::lock_guard<std::mutex> lock(state->mutex);
        over = options.daily_limit > 0 && state->requests >= options.daily_limit;
        if (!over) ++state->requests;
        used = state->requests;
      }
      Response r = over ? sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.") : handler(request);
      r.headers.emplace_back("Sforce-Limit-Info", "api-usage=" + std::to_string(used) + "/" +
                                                      std::to_string(options.daily_limit > 0 ? options.daily_limit
                                                                                             : 100000));
      return r;
    };
  };

  // A page of a query snapshot: records [offset, offset + page), and the next page's URL when more remain.
  auto page_of = [](const std::string& locator, const Locator& l, size_t offset) {
    Json out = {{"totalSize", l.records.size()}, {"done", true}, {"records", Json::array()}};
    for (size_t i = offset; i < l.records.size() && i < offset + l.page; ++i) out["records"].push_back(l.records[i]);
    if (offset + l.page < l.records.size()) {
      out["done"] = false;
      out["nextRecordsUrl"] =
          "/services/data/" + l.version + "/query/" + locator + "-" + std::to_string(offset + l.page);
    }
    return out;
  };

  server.route("GET", "/services/data/{version}/query", guarded([&store, options, state, find_object,
                                                                 page_of](const Request& request) {
    if (request.path.size() + request.query.size() > 16384) {
      return Response{414, {{"Content-Type", "text/html"}}, "<h1>414 URI Too Long</h1>"};
    }
    auto text = request.param("q");
    if (!text || text->empty()) return sf_error(400, "MALFORMED_QUERY", "A query string has to be specified");
    soql::Query q;
    try {
      q = soql::parse(*text);
    } catch (const soql::SyntaxError& e) {
      return sf_error(400, "MALFORMED_QUERY", e.what());
    }
    const ObjectDef* object = find_object(q.object);
    if (object == nullptr) {
      return sf_error(400, "INVALID_TYPE",
                      "sObject type '" + q.object + "' is not supported. If you are attempting to use a custom "
                      "object, be sure to append the '__c' after the entity name. Please reference your WSDL or the "
                      "describe call for the appropriate names.");
    }
    for (const auto& name : soql::referenced_fields(q)) {
      if (object->field(name) == nullptr) {
        return sf_error(400, "INVALID_FIELD",
                        "No such column '" + name + "' on entity '" + object->name + "'. If you are attempting to use "
                        "a custom field, be sure to append the '__c' after the custom field name. Please reference "
                        "your WSDL or the describe call for the appropriate names.");
      }
    }
    std::set<std::string> selected;
    for (const auto& name : q.fields) {
      if (!selected.insert(lower(name)).second) return sf_error(400, "INVALID_FIELD", "duplicate field selected: " + name);
    }
    auto canonical = [object](const std::string& name) { return object->field(name)->name; };
    auto type_of = [object](const std::string& name) { return soql_type(object->field(name)->type); };
    std::vector<Json> rows;
    try {
      for (const auto& r : all_records(store, object->name)) {
        if (is_deleted(r)) continue;
        Json row = view(r);
        if (q.where && !soql::matches(*q.where, row, canonical, type_of)) continue;
        rows.push_back(std::move(row));
      }
      std::stable_sort(rows.begin(), rows.end(), [&](const Json& a, const Json& b) {
        return soql::compare_records(q.order, a, b, canonical, type_of) < 0;
      });
    } catch (const std::invalid_argument& e) {
      return sf_error(400, "INVALID_FIELD", e.what());
    }
    if (q.limit && rows.size() > *q.limit) rows.resize(*q.limit);
    const std::string version = request.path_params.at("version");
    Locator l;
    l.version = version;
    for (const Json& row : rows) {
      Json out = {{"attributes", {{"type", object->name},
                                  {"url", "/services/data/" + version + "/sobjects/" + object->name + "/" +
                                              row["Id"].get<std::string>()}}}};
      for (const auto& name : q.fields) {
        const std::string c = canonical(name);
        out[c] = row.contains(c) ? row[c] : Json();
      }
      l.records.push_back(std::move(out));
    }
    l.page = options.query_batch_size;
    if (auto header = request.header("Sforce-Query-Options")) {
      std::smatch m;
      static const std::regex batch(R"(batchSize\s*=\s*([0-9]{1,6}))");
      if (std::regex_search(*header, m, batch)) {
        l.page = std::min(l.page, std::clamp<size_t>(std::stoul(m[1].str()), 200, 2000));
      }
    }
    l.page = std::max<size_t>(l.page, 1);
    std::string locator;
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      locator = "01g" + base62(state->next_locator++, 12) + "AAA";
      if (l.records.size() > l.page) state->locators[locator] = l;
    }
    return Response::json(200, page_of(locator, l, 0));
  }));

  server.route("GET", "/services/data/{version}/query/{locator}", guarded([state, page_of](const Request& request) {
    const std::string& text = request.path_params.at("locator");
    const size_t dash = text.rfind('-');
    Locator l;
    size_t offset = 0;
    bool found = false;
    if (dash != std::string::npos && dash + 1 < text.size() &&
        text.find_first_not_of("0123456789", dash + 1) == std::string::npos && text.size() - dash < 10) {
      offset = std::stoul(text.substr(dash + 1));
      std::lock_guard<std::mutex> lock(state->mutex);
      auto it = state->locators.find(text.substr(0, dash));
      if (it != state->locators.end() && offset < it->second.records.size() && offset % it->second.page == 0) {
        l = it->second;
        found = true;
      }
    }
    if (!found) return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    return Response::json(200, page_of(text.substr(0, dash), l, offset));
  }));

  server.route("GET", "/services/data/{version}/sobjects/{object}/describe", guarded([find_object](const Request& request) {
    const ObjectDef* object = find_object(request.path_params.at("object"));
    if (object == nullptr) return not_found();
    Json fields = Json::array();
    for (const auto& f : object->fields) {
      fields.push_back({{"name", f.name},
                        {"type", f.type},
                        {"externalId", f.external_id},
                        {"idLookup", f.external_id || f.name == "Id"},
                        {"nillable", !f.required && f.writable},
                        {"createable", f.writable},
                        {"updateable", f.writable}});
    }
    return Response::json(200, {{"name", object->name}, {"keyPrefix", object->key_prefix}, {"fields", fields}});
  }));

  server.route("PATCH", "/services/data/{version}/composite/sobjects/{object}/{field}",
               guarded([&store, options, state, find_object](const Request& request) {
    const ObjectDef* object = find_object(request.path_params.at("object"));
    if (object == nullptr) return not_found();
    const FieldDef* key_field = object->field(request.path_params.at("field"));
    if (key_field == nullptr || !key_field->external_id) {
      return sf_error(404, "NOT_FOUND",
                      "Provided external ID field does not exist or is not accessible: " + request.path_params.at("field"));
    }
    auto body = request.json();
    if (!body || !body->is_object() || !body->contains("records") || !(*body)["records"].is_array()) {
      return sf_error(400, "JSON_PARSER_ERROR", "The request body must be {\"allOrNone\":..,\"records\":[...]}");
    }
    const bool all_or_none = body->value("allOrNone", false);
    const Json& records = (*body)["records"];
    if (records.size() > options.max_collection) {
      return sf_error(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than " +
                                                    std::to_string(options.max_collection) + " records into this call");
    }
    // Whole-request checks first: Salesforce refuses the request when it cannot even read a record.
    std::vector<Json> values(records.size(), Json::object());  // per record: canonical field -> value
    for (size_t i = 0; i < records.size(); ++i) {
      const Json& record = records[i];
      if (!record.is_object()) return sf_error(400, "JSON_PARSER_ERROR", "Each record must be a JSON object");
      const Json attributes = record.value("attributes", Json());
      if (!attributes.is_object() || !attributes.contains("type") || !attributes["type"].is_string()) {
        return sf_error(400, "INVALID_TYPE", "Must send a concrete entity type.");
      }
      if (lower(attributes["type"].get<std::string>()) != lower(object->name)) {
        return sf_error(400, "INVALID_TYPE", "Records of type " + attributes["type"].get<std::string>() +
                                                 " cannot be upserted into " + object->name);
      }
      for (const auto& [name, value] : record.items()) {
        if (name == "attributes") continue;
        const FieldDef* f = object->field(name);
        if (f == nullptr) {
          return sf_error(400, "INVALID_FIELD", "No such column '" + name + "' on sobject of type " + object->name);
        }
        auto coerced = coerce(*f, value);
        if (!coerced) {
          return sf_error(400, "JSON_PARSER_ERROR",
                          "Cannot deserialize instance of " + f->type + " from " + json_kind(value) + " value " +
                              (value.is_string() ? value.get<std::string>() : value.dump()) +
                              " or request may be missing a required field at [line:1, column:" +
                              std::to_string(i + 1) + "]");
        }
        values[i][f->name] = *coerced;
      }
    }

    std::lock_guard<std::mutex> lock(state->mutex);
    // Live records by external id (case-insensitive, as Salesforce matches text external ids).
    std::map<std::string, StoredRecord> by_key;
    for (auto& r : all_records(store, object->name)) {
      if (is_deleted(r)) continue;
      auto k = r.properties.find(key_field->name);
      if (k != r.properties.end() && k->is_string()) by_key[lower(k->get<std::string>())] = std::move(r);
    }
    std::map<std::string, int> key_count;
    for (const Json& v : values) {
      if (v.contains(key_field->name) && v[key_field->name].is_string()) ++key_count[lower(v[key_field->name].get<std::string>())];
    }
    const int64_t stamp = state->last_stamp = std::max(state->last_stamp, now_ms());
    struct Planned {
      Json errors = Json::array();
      StoredRecord record;
      bool created = false;
    };
    std::vector<Planned> planned(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      Planned& p = planned[i];
      const Json& v = values[i];
      if (request.fail_every > 0 && (i + 1) % static_cast<size_t>(request.fail_every) == 0) {
        p.errors.push_back(item_error("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"));
        continue;
      }
      std::vector<std::string> read_only;
      for (const auto& [name, value] : v.items()) {
        if (!object->field(name)->writable) read_only.push_back(name);
      }
      if (!read_only.empty()) {
        std::string names;
        for (const auto& n : read_only) names += (names.empty() ? "" : ", ") + n;
        p.errors.push_back(item_error("INVALID_FIELD_FOR_INSERT_UPDATE",
                                      "Unable to create/update fields: " + names + ". Please check the security "
                                      "settings of this field and verify that it is read/write for your profile or "
                                      "permission set.", read_only));
        continue;
      }
      const Json key = v.contains(key_field->name) ? v[key_field->name] : Json();
      if (!key.is_string() || blank(key)) {
        p.errors.push_back(item_error("MISSING_ARGUMENT", key_field->name + " not specified", {key_field->name}));
        continue;
      }
      const std::string k = lower(key.get<std::string>());
      if (key_count[k] > 1) {
        p.errors.push_back(item_error("DUPLICATE_EXTERNAL_ID",
                                      "Duplicate external id specified: " + key.get<std::string>(), {key_field->name}));
        continue;
      }
      auto existing = by_key.find(k);
      p.created = existing == by_key.end();
      if (p.created) {
        uint64_t n = state->next_id++;
        std::string id15 = object->key_prefix + "5g" + base62(n, 10);
        while (store.get(object->name, salesforce_id18(id15))) id15 = object->key_prefix + "5g" + base62(state->next_id++, 10);
        p.record.id = salesforce_id18(id15);
        p.record.created_ms = stamp;
        p.record.properties = Json::object();
        for (const auto& [field, value] : object->defaults) p.record.properties[field] = value;
      } else {
        p.record = existing->second;
      }
      for (const auto& [name, value] : v.items()) p.record.properties[name] = value;
      p.record.properties["IsDeleted"] = false;
      p.record.updated_ms = stamp;
      std::vector<std::string> missing;
      for (const auto& f : object->fields) {
        if (f.required && (!p.record.properties.contains(f.name) || blank(p.record.properties[f.name]))) {
          missing.push_back(f.name);
        }
      }
      if (!missing.empty()) {
        std::string names;
        for (const auto& n : missing) names += (names.empty() ? "" : ", ") + n;
        p.errors.push_back(item_error("REQUIRED_FIELD_MISSING", "Required fields are missing: [" + names + "]", missing));
        continue;
      }
      for (const auto& f : object->fields) {
        if (f.type != "email" || !v.contains(f.name) || blank(v[f.name])) continue;
        const std::string email = v[f.name].get<std::string>();
        if (!valid_email(email)) {
          p.errors.push_back(item_error("INVALID_EMAIL_ADDRESS", f.name + ": invalid email address: " + email, {f.name}));
        }
      }
    }
    const bool any_failed = std::any_of(planned.begin(), planned.end(), [](const Planned& p) { return !p.errors.empty(); });
    Json out = Json::array();
    for (Planned& p : planned) {
      if (!p.errors.empty()) {
        out.push_back({{"success", false}, {"errors", p.errors}});
      } else if (all_or_none && any_failed) {
        out.push_back({{"success", false},
                       {"errors", Json::array({item_error("ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                                          "Record rolled back because not all records were valid and "
                                                          "the request was using AllOrNone header")})}});
      } else {
        store.put(object->name, p.record);
        out.push_back({{"id", p.record.id}, {"success", true}, {"errors", Json::array()}, {"created", p.created}});
      }
    }
    return Response::json(200, out);
  }));

  server.route("DELETE", "/services/data/{version}/composite/sobjects",
               guarded([&store, options, state, schema](const Request& request) {
    auto ids_param = request.param("ids");
    if (!ids_param || ids_param->empty()) return sf_error(400, "MALFORMED_QUERY", "The ids parameter is required");
    std::vector<std::string> ids;
    size_t start = 0;
    while (start <= ids_param->size()) {
      size_t end = ids_param->find(',', start);
      if (end == std::string::npos) end = ids_param->size();
      ids.push_back(ids_param->substr(start, end - start));
      start = end + 1;
    }
    if (ids.size() > options.max_collection) {
      return sf_error(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than " +
                                                    std::to_string(options.max_collection) + " records into this call");
    }
    const bool all_or_none = request.param("allOrNone").value_or("false") == "true";
    std::lock_guard<std::mutex> lock(state->mutex);
    const int64_t stamp = state->last_stamp = std::max(state->last_stamp, now_ms());
    struct Planned {
      std::string object;
      std::optional<StoredRecord> record;
      Json error;
    };
    std::vector<Planned> planned(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      const std::string& id = ids[i];
      const bool shaped = (id.size() == 15 || id.size() == 18) &&
                          std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
      const ObjectDef* object = nullptr;
      for (const auto& o : *schema) {
        if (shaped && id.compare(0, 3, o.key_prefix) == 0) object = &o;
      }
      if (object == nullptr) {
        planned[i].error = item_error("MALFORMED_ID", "malformed id " + id);
        continue;
      }
      const std::string id18 = id.size() == 15 ? salesforce_id18(id) : id;
      auto record = store.get(object->name, id18);
      if (!record || is_deleted(*record)) {
        planned[i].error = item_error("ENTITY_IS_DELETED", "entity is deleted");
        continue;
      }
      if (request.fail_every > 0 && (i + 1) % static_cast<size_t>(request.fail_every) == 0) {
        planned[i].error = item_error("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record");
        continue;
      }
      planned[i].object = object->name;
      planned[i].record = std::move(record);
    }
    const bool any_failed = std::any_of(planned.begin(), planned.end(), [](const Planned& p) { return !p.error.is_null(); });
    Json out = Json::array();
    for (size_t i = 0; i < ids.size(); ++i) {
      Planned& p = planned[i];
      if (!p.error.is_null()) {
        out.push_back({{"id", ids[i]}, {"success", false}, {"errors", Json::array({p.error})}});
      } else if (all_or_none && any_failed) {
        out.push_back({{"id", ids[i]},
                       {"success", false},
                       {"errors", Json::array({item_error("ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                                          "Record rolled back because not all records were valid and "
                                                          "the request was using AllOrNone header")})}});
      } else {
        p.record->properties["IsDeleted"] = true;
        p.record->updated_ms = stamp;
        store.put(p.object, *p.record);
        out.push_back({{"id", p.record->id}, {"success", true}, {"errors", Json::array()}});
      }
    }
    return Response::json(200, out);
  }));
}

}  // namespace conflux::test::fake
