#include "fake_server/amocrm_api.hpp"

#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <regex>

namespace conflux::test::fake {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* const kEntities[] = {"contacts", "leads"};
constexpr int64_t kPipeline = 3300001;
constexpr int64_t kFirstStage = 3300011;
constexpr int64_t kAccountId = 31000001;

// A custom field the account defines.
struct FieldDef {
  int64_t id = 0;
  std::string name;
  std::string code;
  std::string type;                   // text, multitext, numeric, tracking_data, ...
  std::vector<std::string> enums;     // enum codes of a multitext field; enum_id = id * 10 + position
};

std::vector<FieldDef> default_fields(const std::string& entity) {
  if (entity == "contacts") {
    return {{100001, "Email", "EMAIL", "multitext", {"WORK", "PRIV", "OTHER"}},
            {100002, "Phone", "PHONE", "multitext", {"WORK", "WORKDD", "MOB", "FAX", "HOME", "OTHER"}},
            {100003, "Position", "POSITION", "text", {}}};
  }
  std::vector<FieldDef> fields;
  int64_t id = 200001;
  for (const char* code : {"UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_TERM", "UTM_CONTENT", "GCLID", "FBCLID",
                           "YCLID", "REFERRER"}) {
    fields.push_back({id++, code, code, "tracking_data", {}});
  }
  return fields;
}

// The account's one pipeline: unsorted, three working stages, and the shared closed stages 142 / 143.
Json pipelines_json(const std::string& base) {
  Json statuses = Json::array();
  auto status = [&](int64_t id, const char* name, int sort, int type) {
    statuses.push_back({{"id", id}, {"name", name}, {"sort", sort}, {"is_editable", id != 142 && id != 143},
                        {"pipeline_id", kPipeline}, {"color", "#99ccff"}, {"type", type},
                        {"account_id", kAccountId}});
  };
  status(3300010, "Неразобранное", 10, 1);
  status(kFirstStage, "Первичный контакт", 20, 0);
  status(3300012, "Переговоры", 30, 0);
  status(3300013, "Принимают решение", 40, 0);
  status(142, "Успешно реализовано", 10000, 0);
  status(143, "Закрыто и не реализовано", 11000, 0);
  Json pipeline = {{"id", kPipeline}, {"name", "Воронка"}, {"sort", 1}, {"is_main", true},
                   {"is_unsorted_on", true}, {"is_archive", false}, {"account_id", kAccountId},
                   {"_links", {{"self", {{"href", base + "/api/v4/leads/pipelines/" + std::to_string(kPipeline)}}}}},
                   {"_embedded", {{"statuses", statuses}}}};
  return {{"_total_items", 1},
          {"_links", {{"self", {{"href", base + "/api/v4/leads/pipelines"}}}}},
          {"_embedded", {{"pipelines", Json::array({pipeline})}}}};
}

bool known_status(int64_t id) { return id == 142 || id == 143 || (id >= 3300010 && id <= 3300013); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string digits_of(const std::string& s) {
  std::string d;
  for (char c : s) {
    if (c >= '0' && c <= '9') d += c;
  }
  return d;
}

bool valid_email(const std::string& email) {
  static const std::regex pattern(R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)");
  return std::regex_match(email, pattern);
}

Response hal(int status, const Json& body) {
  return Response{status, {{"Content-Type", "application/hal+json"}}, body.dump()};
}

Response problem(int status, const std::string& title, const std::string& detail, Json extra = Json::object()) {
  Json body = extra.is_object() ? extra : Json::object();
  body["title"] = title;
  body["type"] = "https://httpstatus.es/" + std::to_string(status);
  body["status"] = status;
  body["detail"] = detail;
  return Response{status, {{"Content-Type", "application/problem+json"}}, body.dump()};
}

// Every value of every query parameter, decoded (Request::params keeps only the first: filter[id][] repeats).
std::multimap<std::string, std::string> query_params(const std::string& raw) {
  std::multimap<std::string, std::string> out;
  size_t start = 0;
  while (start < raw.size()) {
    size_t end = raw.find('&', start);
    if (end == std::string::npos) end = raw.size();
    std::string pair = raw.substr(start, end - start);
    size_t eq = pair.find('=');
    std::string k, v;
    std::string rk = pair.substr(0, eq), rv = eq == std::string::npos ? "" : pair.substr(eq + 1);
    std::replace(rk.begin(), rk.end(), '+', ' ');
    std::replace(rv.begin(), rv.end(), '+', ' ');
    Poco::URI::decode(rk, k);
    Poco::URI::decode(rv, v);
    if (!k.empty()) out.emplace(k, v);
    start = end + 1;
  }
  return out;
}

std::optional<std::string> first(const std::multimap<std::string, std::string>& params, const std::string& key) {
  auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

std::optional<int64_t> to_int(const std::string& text) {
  if (text.empty() || text.size() > 18 || digits_of(text) != text) return std::nullopt;
  return std::stoll(text);
}

struct State {
  std::mutex write_mutex;  // a write validates and stores as one step
  std::mutex limit_mutex;
  std::deque<Clock::time_point> window;  // admitted requests inside the rate-limit window, oldest first
  std::map<std::string, std::vector<FieldDef>> fields;  // entity -> custom fields
};

const FieldDef* find_field(const State& state, const std::string& entity, const Json& ref) {
  auto it = state.fields.find(entity);
  if (it == state.fields.end()) return nullptr;
  for (const FieldDef& f : it->second) {
    if (ref.contains("field_id") && ref["field_id"].is_number_integer() && ref["field_id"].get<int64_t>() == f.id) {
      return &f;
    }
    if (ref.contains("field_code") && ref["field_code"].is_string() &&
        lower(ref["field_code"].get<std::string>()) == lower(f.code)) {
      return &f;
    }
  }
  return nullptr;
}

// The entity as amoCRM shows it, from a stored record (properties hold the writable attributes and _embedded).
Json entity_json(const std::string& entity, const StoredRecord& r, const std::string& base, bool with_contacts) {
  const Json& p = r.properties;
  auto get = [&](const char* key, Json fallback) { return p.contains(key) ? p[key] : fallback; };
  Json e = {{"id", std::stoll(r.id)},
            {"name", get("name", "")},
            {"responsible_user_id", get("responsible_user_id", 0)},
            {"group_id", 0},
            {"created_by", 0},
            {"updated_by", 0},
            {"created_at", r.created_ms / 1000},
            {"updated_at", r.updated_ms / 1000},
            {"closest_task_at", nullptr},
            {"is_deleted", false},
            {"custom_fields_values", p.contains("custom_fields_values") && !p["custom_fields_values"].empty()
                                         ? p["custom_fields_values"] : Json(nullptr)},
            {"account_id", kAccountId},
            {"_links", {{"self", {{"href", base + "/api/v4/" + entity + "/" + r.id}}}}}};
  Json embedded = get("_embedded", Json::object());
  Json out_embedded = {{"tags", embedded.value("tags", Json::array())},
                       {"companies", embedded.value("companies", Json::array())}};
  if (entity == "contacts") {
    e["first_name"] = get("first_name", "");
    e["last_name"] = get("last_name", "");
  } else {
    e["price"] = get("price", 0);
    e["status_id"] = get("status_id", kFirstStage);
    e["pipeline_id"] = get("pipeline_id", kPipeline);
    e["loss_reason_id"] = nullptr;
    e["closed_at"] = get("closed_at", nullptr);
    e["score"] = nullptr;
    if (with_contacts) out_embedded["contacts"] = embedded.value("contacts", Json::array());
  }
  e["_embedded"] = out_embedded;
  return e;
}

// Does the entity contain the search text? Names and custom field values, case-insensitively; a query of phone
// characters also matches phone values by their digits.
bool matches_query(const StoredRecord& r, const std::string& query) {
  const std::string q = lower(query);
  const std::string qd = digits_of(query);
  const bool phone_like = !qd.empty() && query.find_first_not_of("0123456789+-() ") == std::string::npos;
  auto hit = [&](const Json& v) {
    if (!v.is_string() && !v.is_number()) return false;
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (lower(text).find(q) != std::string::npos) return true;
    return phone_like && qd.size() >= 5 && digits_of(text).find(qd) != std::string::npos;
  };
  const Json& p = r.properties;
  for (const char* key : {"name", "first_name", "last_name"}) {
    if (p.contains(key) && hit(p[key])) return true;
  }
  for (const Json& f : p.value("custom_fields_values", Json::array())) {
    for (const Json& v : f.value("values", Json::array())) {
      if (v.contains("value") && hit(v["value"])) return true;
    }
  }
  return false;
}

// Validates one entity of a write and returns its errors ([{code, path, detail}]); fills `out` with the stored
// attributes it sets (custom fields resolved to the account's definitions).
Json validate(const State& state, const std::string& entity, const Json& item, Json& out) {
  Json errors = Json::array();
  auto error = [&](const std::string& code, const std::string& path, const std::string& detail) {
    errors.push_back({{"code", code}, {"path", path}, {"detail", detail}});
  };
  if (!item.is_object()) {
    error("InvalidType", "", "An entity must be an object.");
    return errors;
  }
  std::vector<const char*> strings{"name"};
  if (entity == "contacts") {
    strings.push_back("first_name");
    strings.push_back("last_name");
  }
  for (const char* key : strings) {
    if (!item.contains(key)) continue;
    if (!item[key].is_string()) {
      error("InvalidType", key, "This value should be of type string.");
    } else if (item[key].get<std::string>().size() > 255) {
      error("TooLong", key, "This value is too long. It should have 255 characters or less.");
    } else {
      out[key] = item[key];
    }
  }
  std::vector<const char*> ints{"responsible_user_id"};
  if (entity == "leads") {
    ints.push_back("price");
    ints.push_back("status_id");
    ints.push_back("pipeline_id");
  }
  for (const char* key : ints) {
    if (!item.contains(key)) continue;
    if (!item[key].is_number_integer() || item[key].get<int64_t>() < 0) {
      error("InvalidType", key, "This value should be a non-negative integer.");
    } else {
      out[key] = item[key];
    }
  }
  if (out.contains("status_id") && !known_status(out["status_id"].get<int64_t>())) {
    error("NotSupportedChoice", "status_id", "The status does not exist in the pipeline.");
  }
  if (out.contains("pipeline_id") && out["pipeline_id"].get<int64_t>() != kPipeline) {
    error("NotSupportedChoice", "pipeline_id", "The pipeline does not exist.");
  }
  if (item.contains("custom_fields_values")) {
    const Json& cfv = item["custom_fields_values"];
    if (!cfv.is_array()) {
      error("InvalidType", "custom_fields_values", "This value should be of type array.");
    } else {
      Json resolved = Json::array();
      for (size_t i = 0; i < cfv.size(); ++i) {
        const std::string path = "custom_fields_values." + std::to_string(i);
        const FieldDef* def = cfv[i].is_object() ? find_field(state, entity, cfv[i]) : nullptr;
        if (def == nullptr) {
          error("NotSupportedChoice", path + ".field_id", "The field does not exist in the account.");
          continue;
        }
        Json values = Json::array();
        const Json given = cfv[i].value("values", Json::array());
        if (!given.is_array()) {
          error("InvalidType", path + ".values", "This value should be of type array.");
          continue;
        }
        for (size_t v = 0; v < given.size(); ++v) {
          const std::string vpath = path + ".values." + std::to_string(v);
          if (!given[v].is_object() || !given[v].contains("value") ||
              !(given[v]["value"].is_string() || given[v]["value"].is_number())) {
            error("InvalidType", vpath + ".value", "This value should be a string or a number.");
            continue;
          }
          Json value = {{"value", given[v]["value"]}};
          if (def->type == "multitext") {
            std::string code = given[v].value("enum_code", def->enums.front());
            auto pos = std::find(def->enums.begin(), def->enums.end(), code);
            if (pos == def->enums.end()) {
              error("NotSupportedChoice", vpath + ".enum_code", "The value you selected is not a valid choice.");
              continue;
            }
            value["enum_id"] = def->id * 10 + (pos - def->enums.begin());
            value["enum_code"] = code;
          }
          if (def->code == "EMAIL" && !valid_email(given[v]["value"].is_string() ? given[v]["value"].get<std::string>() : "")) {
            error("InvalidEmail", vpath + ".value", "This value is not a valid email address.");
            continue;
          }
          values.push_back(std::move(value));
        }
        resolved.push_back({{"field_id", def->id},
                            {"field_name", def->name},
                            {"field_code", def->code.empty() ? Json(nullptr) : Json(def->code)},
                            {"field_type", def->type},
                            {"values", values}});
      }
      out["custom_fields_values"] = resolved;
    }
  }
  if (item.contains("_embedded") && item["_embedded"].is_object()) {
    const Json& embedded = item["_embedded"];
    Json kept = Json::object();
    if (embedded.contains("tags")) {
      Json tags = Json::array();
      for (const Json& t : embedded["tags"]) {
        if (t.is_object() && t.contains("name") && t["name"].is_string()) tags.push_back({{"name", t["name"]}});
      }
      kept["tags"] = tags;
    }
    // A lead's linked contacts: [{id, is_main?}]; the first is the main one when none says so.
    if (entity == "leads" && embedded.contains("contacts")) {
      Json links = Json::array();
      bool main_given = false;
      for (const Json& c : embedded["contacts"]) {
        if (!c.is_object() || !c.contains("id") || !c["id"].is_number_integer() || c["id"].get<int64_t>() <= 0) {
          error("InvalidType", "_embedded.contacts", "Each contact must be an object with a positive integer id.");
          continue;
        }
        const bool is_main = c.value("is_main", false);
        main_given = main_given || is_main;
        links.push_back({{"id", c["id"]}, {"is_main", is_main}});
      }
      if (!main_given && !links.empty()) links[0]["is_main"] = true;
      kept["contacts"] = links;
    }
    if (!kept.empty()) out["_embedded"] = kept;
  }
  return errors;
}

// An update's attributes merged into the stored ones: members replace, custom fields replace per field.
Json merge(const Json& stored, const Json& update) {
  Json merged = stored;
  for (const auto& [key, value] : update.items()) {
    if (key == "custom_fields_values") {
      Json fields = merged.value("custom_fields_values", Json::array());
      for (const Json& f : value) {
        auto same = std::find_if(fields.begin(), fields.end(), [&](const Json& g) { return g["field_id"] == f["field_id"]; });
        if (same != fields.end()) fields.erase(same);
        if (!f["values"].empty()) fields.push_back(f);
      }
      merged["custom_fields_values"] = fields;
    } else if (key == "_embedded") {
      Json embedded = merged.value("_embedded", Json::object());
      for (const auto& [k, v] : value.items()) embedded[k] = v;
      merged["_embedded"] = embedded;
    } else {
      merged[key] = value;
    }
  }
  return merged;
}

}  // namespace

AmoCrmApiOptions AmoCrmApiOptions::from_json(const nlohmann::json& j, std::string token) {
  AmoCrmApiOptions o;
  o.token = std::move(token);
  if (!j.is_object()) return o;
  o.subdomain = j.value("subdomain", o.subdomain);
  o.currency = j.value("currency", o.currency);
  o.max_page_size = j.value("max_page_size", o.max_page_size);
  o.max_batch = j.value("max_batch", o.max_batch);
  o.rate_limit_requests = j.value("rate_limit_requests", o.rate_limit_requests);
  o.rate_limit_window_ms = j.value("rate_limit_window_ms", o.rate_limit_window_ms);
  if (j.contains("retry_after")) {
    o.retry_after = j["retry_after"].is_string() ? j["retry_after"].get<std::string>() : j["retry_after"].dump();
  }
  o.custom_fields = j.value("custom_fields", o.custom_fields);
  return o;
}

void install_amocrm_api(FakeServer& server, AmoCrmApiOptions options) {
  RecordStore& store = server.store();
  auto state = std::make_shared<State>();
  for (const char* entity : kEntities) {
    store.create_collection(entity);
    state->fields[entity] = default_fields(entity);
    for (const Json& f : options.custom_fields.value(entity, Json::array())) {
      FieldDef def{f.value("id", int64_t{0}), f.value("name", std::string()), f.value("code", std::string()),
                   f.value("type", std::string("text")), {}};
      for (const Json& e : f.value("enums", Json::array())) def.enums.push_back(e.get<std::string>());
      state->fields[entity].push_back(std::move(def));
    }
  }
  // Auth, then the account's rate limit, then the handler. Requests refused by the limit are not counted by it.
  auto guarded = [state, options](Handler handler) {
    return [state, options, handler](const Request& request) -> Response {
      auto auth = request.header("Authorization");
      if (!options.token.empty() && (!auth || *auth != "Bearer " + options.token)) {
        return problem(401, "Unauthorized", "The access token is missing, expired or not valid for this account.");
      }
      if (options.rate_limit_requests > 0) {
        std::lock_guard<std::mutex> lock(state->limit_mutex);
        const auto now = Clock::now();
        const auto span = std::chrono::milliseconds(options.rate_limit_window_ms);
        while (!state->window.empty() && now - state->window.front() >= span) state->window.pop_front();
        if (state->window.size() >= static_cast<size_t>(options.rate_limit_requests)) {
          Response r = problem(429, "Too Many Requests",
                               "More than " + std::to_string(options.rate_limit_requests) + " requests per " +
                                   std::to_string(options.rate_limit_window_ms) + " ms.");
          if (!options.retry_after.empty()) r.headers.emplace_back("Retry-After", options.retry_after);
          return r;
        }
        state->window.push_back(now);
      }
      return handler(request);
    };
  };
  // Links name the host the client used.
  auto origin = [](const Request& request) {
    return "http://" + request.header("Host").value_or("127.0.0.1");
  };

  server.route("GET", "/api/v4/account", guarded([options, origin](const Request& request) {
    return hal(200, {{"id", kAccountId},
                     {"name", "Fake amoCRM account"},
                     {"subdomain", options.subdomain},
                     {"current_user_id", 7000001},
                     {"country", "RU"},
                     {"currency", options.currency},
                     {"currency_symbol", options.currency == "RUB" ? "₽" : options.currency},
                     {"customers_mode", "disabled"},
                     {"is_unsorted_on", true},
                     {"is_loss_reason_enabled", true},
                     {"is_helpbot_enabled", false},
                     {"is_technical_account", false},
                     {"contact_name_display_order", 1},
                     {"_links", {{"self", {{"href", origin(request) + "/api/v4/account"}}}}}});
  }));

  server.route("GET", "/api/v4/leads/pipelines", guarded([origin](const Request& request) {
    return hal(200, pipelines_json(origin(request)));
  }));

  for (const char* entity_name : kEntities) {
    const std::string entity = entity_name;
    const std::string path = "/api/v4/" + entity;

    server.route("GET", path, guarded([&store, options, entity, path, origin](const Request& request) {
      const auto params = query_params(request.query);
      size_t page = 1, limit = 50;
      if (auto p = first(params, "page")) {
        auto n = to_int(*p);
        if (!n || *n < 1) return problem(400, "Bad Request", "page must be a positive integer");
        page = static_cast<size_t>(*n);
      }
      if (auto l = first(params, "limit")) {
        auto n = to_int(*l);
        if (!n || *n < 1) return problem(400, "Bad Request", "limit must be a positive integer");
        limit = std::min<size_t>(static_cast<size_t>(*n), options.max_page_size);
      }
      std::vector<int64_t> ids;
      for (const char* key : {"filter[id][]", "filter[id]"}) {
        auto range = params.equal_range(key);
        for (auto it = range.first; it != range.second; ++it) {
          auto n = to_int(it->second);
          if (!n) return problem(400, "Bad Request", std::string(key) + " must hold entity ids");
          ids.push_back(*n);
        }
      }
      std::optional<int64_t> from, to;
      for (const char* key : {"filter[updated_at][from]", "filter[updated_at]"}) {
        if (auto v = first(params, key)) {
          from = to_int(*v);
          if (!from) return problem(400, "Bad Request", std::string(key) + " must be a unix timestamp");
        }
      }
      if (auto v = first(params, "filter[updated_at][to]")) {
        to = to_int(*v);
        if (!to) return problem(400, "Bad Request", "filter[updated_at][to] must be a unix timestamp");
      }
      const std::string query = first(params, "query").value_or("");
      std::string order_by = "id";
      bool descending = false;
      for (const char* key : {"updated_at", "created_at", "id"}) {
        if (auto v = first(params, std::string("order[") + key + "]")) {
          if (*v != "asc" && *v != "desc") return problem(400, "Bad Request", "order values are asc or desc");
          order_by = key;
          descending = *v == "desc";
        }
      }
      const bool with_contacts = first(params, "with").value_or("").find("contacts") != std::string::npos;

      RecordStore::Query all;
      all.limit = std::numeric_limits<size_t>::max();
      auto listed = store.list(entity, all);
      std::vector<StoredRecord> matched;
      for (auto& r : listed->records) {
        const int64_t id = std::stoll(r.id), updated = r.updated_ms / 1000;
        if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
        if (from && updated < *from) continue;
        if (to && updated > *to) continue;
        if (!query.empty() && !matches_query(r, query)) continue;
        matched.push_back(std::move(r));
      }
      auto key_of = [&](const StoredRecord& r) -> int64_t {
        if (order_by == "updated_at") return r.updated_ms / 1000;
        if (order_by == "created_at") return r.created_ms / 1000;
        return std::stoll(r.id);
      };
      std::stable_sort(matched.begin(), matched.end(), [&](const StoredRecord& a, const StoredRecord& b) {
        const int64_t ka = key_of(a), kb = key_of(b);
        if (ka != kb) return descending ? ka > kb : ka < kb;
        return std::stoll(a.id) < std::stoll(b.id);
      });
      const size_t start = (page - 1) * limit;
      if (start >= matched.size()) return Response{204, {}, ""};
      const std::string host = origin(request);
      Json list = Json::array();
      for (size_t i = start; i < matched.size() && i < start + limit; ++i) {
        list.push_back(entity_json(entity, matched[i], host, with_contacts));
      }
      auto page_link = [&](size_t n) {
        std::string q;
        for (const auto& [k, v] : params) {
          if (k == "page") continue;
          std::string ek, ev;
          Poco::URI::encode(k, "[]&=+#", ek);
          Poco::URI::encode(v, "&=+#@", ev);
          q += ek + "=" + ev + "&";
        }
        return Json{{"href", host + path + "?" + q + "page=" + std::to_string(n)}};
      };
      Json links = {{"self", page_link(page)}};
      if (page > 1) links["prev"] = page_link(page - 1);
      if (start + limit < matched.size()) links["next"] = page_link(page + 1);
      return hal(200, {{"_page", page}, {"_links", links}, {"_embedded", {{entity, list}}}});
    }));

    // POST creates and PATCH updates: validate every entity, refuse the whole request when any fails.
    auto write = [&store, state, options, entity, path, origin](const Request& request, bool create) -> Response {
      auto body = request.json();
      if (!body || !body->is_array() || body->empty()) {
        return problem(400, "Bad Request", "The body must be a JSON array of " + entity + ".");
      }
      if (body->size() > options.max_batch) {
        return problem(400, "Bad Request", "At most " + std::to_string(options.max_batch) + " " + entity +
                                               " per request.");
      }
      std::lock_guard<std::mutex> lock(state->write_mutex);
      Json validation = Json::array();
      std::vector<Json> attributes(body->size());
      std::vector<std::string> request_ids(body->size());
      for (size_t i = 0; i < body->size(); ++i) {
        const Json& item = (*body)[i];
        request_ids[i] = item.is_object() && item.contains("request_id")
                             ? (item["request_id"].is_string() ? item["request_id"].get<std::string>()
                                                               : item["request_id"].dump())
                             : std::to_string(i);
        Json errors = validate(*state, entity, item, attributes[i]);
        if (!create) {
          auto id = item.is_object() && item.contains("id") && item["id"].is_number_integer()
                        ? std::optional<int64_t>(item["id"].get<int64_t>()) : std::nullopt;
          if (!id) {
            errors.push_back({{"code", "NotBlank"}, {"path", "id"}, {"detail", "This value should not be blank."}});
          } else if (!store.get(entity, std::to_string(*id))) {
            errors.push_back({{"code", "NotFound"}, {"path", "id"}, {"detail", "The entity does not exist."}});
          }
        }
        if (request.fail_every > 0 && (i + 1) % static_cast<size_t>(request.fail_every) == 0) {
          errors.push_back({{"code", "InjectedFailure"}, {"path", "name"}, {"detail", "Injected failure of this entity."}});
        }
        if (!errors.empty()) validation.push_back({{"request_id", request_ids[i]}, {"errors", errors}});
      }
      if (!validation.empty()) {
        return problem(400, "Bad Request", "Request validation failed", {{"validation-errors", validation}});
      }
      const std::string host = origin(request);
      Json done = Json::array();
      for (size_t i = 0; i < body->size(); ++i) {
        Json attrs = attributes[i];
        RecordStore::Upserted u;
        if (create) {
          if (entity == "leads") {
            if (!attrs.contains("pipeline_id")) attrs["pipeline_id"] = kPipeline;
            if (!attrs.contains("status_id")) attrs["status_id"] = kFirstStage;
          }
          if (!attrs.contains("name") && entity == "contacts") {
            std::string name = attrs.value("first_name", std::string());
            std::string last = attrs.value("last_name", std::string());
            attrs["name"] = name.empty() ? last : last.empty() ? name : name + " " + last;
          }
          u = store.upsert(entity, "", "", attrs);
        } else {
          const std::string id = std::to_string((*body)[i]["id"].get<int64_t>());
          Json merged = merge(store.get(entity, id)->properties, attrs);
          u = store.upsert(entity, "", id, merged);
        }
        if (entity == "leads") {  // closing a lead stamps closed_at, reopening clears it
          const int64_t status = u.record.properties.value("status_id", kFirstStage);
          const bool closed = status == 142 || status == 143;
          const bool stamped = u.record.properties.contains("closed_at") && u.record.properties["closed_at"].is_number();
          if (closed != stamped) {
            Json p = u.record.properties;
            p["closed_at"] = closed ? Json(u.record.updated_ms / 1000) : Json(nullptr);
            u = store.upsert(entity, "", u.record.id, p);
          }
        }
        Json item = {{"id", std::stoll(u.record.id)},
                     {"request_id", request_ids[i]},
                     {"_links", {{"self", {{"href", host + path + "/" + u.record.id}}}}}};
        if (!create) item["updated_at"] = u.record.updated_ms / 1000;
        done.push_back(item);
      }
      return hal(200, {{"_links", {{"self", {{"href", host + path}}}}}, {"_embedded", {{entity, done}}}});
    };
    server.route("POST", path, guarded([write](const Request& request) { return write(request, true); }));
    server.route("PATCH", path, guarded([write](const Request& request) { return write(request, false); }));
  }
}

}  // namespace conflux::test::fake
