#include "fake_server/hubspot_api.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <utility>

namespace conflux::test::fake {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* const kTypes[] = {"contacts", "companies", "deals"};

using ObjectRef = std::pair<std::string, std::string>;  // (object type, object id)

// What the dialect keeps beside the RecordStore. `mutex` is held across every store write of the dialect's object
// types, so the dialect is their only writer and the indexes below stay true.
//  - Ids: allocated from next_id and never reused, as HubSpot's are (RecordStore would reuse the highest deleted one).
//  - E-mails: upserts and reads by e-mail look the address up here instead of scanning the store (RecordStore
//    matches properties linearly), so a benchmark of 100,000 contacts stays O(log n) per input. Other id properties
//    are matched by a scan.
//  - Associations: kept in both directions, as HubSpot shows them from either side; dropped with their objects.
// Built from the store at the first request that needs it.
struct Portal {
  std::mutex mutex;
  bool built = false;
  std::map<std::string, std::map<std::string, std::string>> id_by_email;  // type -> email -> object id
  std::map<std::string, long long> next_id;                              // type -> next numeric id
  std::map<ObjectRef, std::set<ObjectRef>> links;
};

// Per-token request accounting for the rolling windows and the daily quota.
struct Limits {
  std::mutex mutex;
  std::map<std::string, std::deque<Clock::time_point>> window;         // admitted requests, oldest first
  std::map<std::string, std::deque<Clock::time_point>> search_window;  // admitted searches, oldest first
  std::map<std::string, int64_t> daily;                                // admitted requests since start
  uint64_t correlation = 0;
};

std::string correlation_id(Limits& limits) {
  uint64_t n;
  {
    std::lock_guard<std::mutex> lock(limits.mutex);
    n = ++limits.correlation;
  }
  char text[40];
  std::snprintf(text, sizeof text, "0c0ffee0-0000-4000-8000-%012llx", static_cast<unsigned long long>(n));
  return text;
}

Response hubspot_error(Limits& limits, int status, const std::string& category, const std::string& message) {
  return Response::json(status, {{"status", "error"},
                                 {"message", message},
                                 {"correlationId", correlation_id(limits)},
                                 {"category", category}});
}

Response rate_limited(Limits& limits, const std::string& policy, const std::string& message) {
  std::string id = correlation_id(limits);
  return Response::json(429, {{"status", "error"},
                              {"message", message},
                              {"errorType", "RATE_LIMIT"},
                              {"correlationId", id},
                              {"policyName", policy},
                              {"requestId", id}});
}

// One entry of a batch response's "errors".
Json batch_error(const std::string& category, const std::string& message, Json context) {
  return {{"status", "error"}, {"category", category}, {"message", message}, {"context", std::move(context)}};
}

// A batch response body: HubSpot's BatchResponse* shape, with numErrors and errors only when there are errors.
Json batch_body(Json results, const Json& errors) {
  const std::string now = format_time(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch()).count());
  Json out = {{"status", "COMPLETE"}, {"results", std::move(results)}, {"startedAt", now}, {"completedAt", now}};
  if (!errors.empty()) {
    out["numErrors"] = errors.size();
    out["errors"] = errors;
  }
  return out;
}

bool known_type(const std::string& type) {
  return std::find(std::begin(kTypes), std::end(kTypes), type) != std::end(kTypes);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool valid_email(const std::string& email) {
  static const std::regex pattern(R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)");
  return std::regex_match(email, pattern);
}

bool numeric_id(const std::string& id) {
  return !id.empty() && id.size() < 18 && id.find_first_not_of("0123456789") == std::string::npos;
}

// HubSpot's object shape. `wanted` empty = every stored property; else those (null when absent) plus the defaults.
Json object_json(const std::string& type, const StoredRecord& record, const std::vector<std::string>& wanted) {
  const std::string modified = hubspot_modified_property(type);
  Json properties = Json::object();
  if (wanted.empty()) {
    properties = record.properties;
  } else {
    for (const auto& name : wanted) {
      auto it = record.properties.find(name);
      properties[name] = it == record.properties.end() ? Json(nullptr) : *it;
    }
  }
  properties["hs_object_id"] = record.id;
  properties["createdate"] = format_time(record.created_ms);
  properties[modified] = format_time(record.updated_ms);
  return {{"id", record.id},
          {"properties", properties},
          {"createdAt", format_time(record.created_ms)},
          {"updatedAt", format_time(record.updated_ms)},
          {"archived", false}};
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// A filter value: epoch milliseconds (number or digits, as HubSpot takes them) or an ISO time.
std::optional<int64_t> time_value(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) return parse_time(v.get<std::string>());
  return std::nullopt;
}

// Numeric ids numerically, as RecordStore orders them.
bool id_less(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

// Every record of a type, in id order.
std::vector<StoredRecord> all_records(const RecordStore& store, const std::string& type) {
  RecordStore::Query all;
  all.limit = std::numeric_limits<size_t>::max();
  auto page = store.list(type, all);
  return page ? std::move(page->records) : std::vector<StoredRecord>{};
}

// The rest run with portal.mutex held.
void build_portal(const RecordStore& store, Portal& portal) {
  if (portal.built) return;
  for (const char* t : kTypes) {
    long long next = 1;
    for (const auto& r : all_records(store, t)) {
      auto e = r.properties.find("email");
      if (e != r.properties.end() && e->is_string()) portal.id_by_email[t][lower(e->get<std::string>())] = r.id;
      if (numeric_id(r.id)) next = std::max(next, std::stoll(r.id) + 1);
    }
    portal.next_id[t] = next;
  }
  portal.built = true;
}

// The object id of the `type` object whose `id_property` equals `value` (e-mail already lower-cased); "" or
// hs_object_id as the property means `value` is the object id itself.
std::optional<std::string> find_object(const RecordStore& store, Portal& portal, const std::string& type,
                                       const std::string& id_property, const std::string& value) {
  build_portal(store, portal);
  if (id_property.empty() || id_property == "hs_object_id") {
    return store.get(type, value) ? std::optional<std::string>(value) : std::nullopt;
  }
  if (id_property == "email") {
    const auto& ids = portal.id_by_email[type];
    auto found = ids.find(value);
    return found == ids.end() ? std::nullopt : std::optional<std::string>(found->second);
  }
  for (const auto& r : all_records(store, type)) {
    auto p = r.properties.find(id_property);
    if (p != r.properties.end() && p->is_string() && p->get<std::string>() == value) return r.id;
  }
  return std::nullopt;
}

// Removes an object with its e-mail entry and its associations (both directions).
bool archive_object(RecordStore& store, Portal& portal, const std::string& type, const std::string& id) {
  build_portal(store, portal);
  auto record = store.get(type, id);
  if (!record || !store.remove(type, id)) return false;
  auto e = record->properties.find("email");
  if (e != record->properties.end() && e->is_string()) portal.id_by_email[type].erase(lower(e->get<std::string>()));
  const ObjectRef self{type, id};
  auto links = portal.links.find(self);
  if (links != portal.links.end()) {
    for (const auto& other : links->second) portal.links[other].erase(self);
    portal.links.erase(links);
  }
  return true;
}

// HubSpot's default (unlabelled) association type ids, one per direction.
int default_association_type(const std::string& from, const std::string& to) {
  if (from == "contacts") return to == "companies" ? 279 : 4;
  if (from == "companies") return to == "contacts" ? 280 : 342;
  return to == "contacts" ? 3 : 341;  // deals
}

// The "inputs" array of a batch body, or a 400 when it is missing or over the batch limit.
std::optional<Response> check_inputs(Limits& limits, const std::optional<Json>& body, size_t max_batch) {
  if (!body || !body->is_object() || !body->contains("inputs") || !(*body)["inputs"].is_array()) {
    return hubspot_error(limits, 400, "VALIDATION_ERROR", "body must be {\"inputs\":[...]}");
  }
  if ((*body)["inputs"].size() > max_batch) {
    return hubspot_error(limits, 400, "VALIDATION_ERROR",
                         "Batch input limit exceeded: at most " + std::to_string(max_batch) + " inputs");
  }
  return std::nullopt;
}

// The string `id` of an input object ({"id":..} or {"from":{"id":..}}), or "".
std::string input_id(const Json& input) {
  return input.is_object() && input.contains("id") && input["id"].is_string() ? input["id"].get<std::string>()
                                                                              : std::string();
}

// Takes a token from `window` (at most `limit` per `window_ms`); on refusal returns the seconds until one frees.
// `limit` 0 = unlimited. Call with limits.mutex held.
std::optional<long long> window_full(std::deque<Clock::time_point>& window, Clock::time_point now, int limit,
                                     int window_ms) {
  if (limit <= 0) return std::nullopt;
  const auto span = std::chrono::milliseconds(window_ms);
  while (!window.empty() && now - window.front() >= span) window.pop_front();
  if (window.size() < static_cast<size_t>(limit)) return std::nullopt;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(window.front() + span - now).count();
  return std::max<long long>(1, (wait + 999) / 1000);
}

}  // namespace

std::string hubspot_modified_property(const std::string& type) {
  return type == "contacts" ? "lastmodifieddate" : "hs_lastmodifieddate";
}

HubSpotApiOptions HubSpotApiOptions::from_json(const nlohmann::json& j, std::string token) {
  HubSpotApiOptions o;
  o.token = std::move(token);
  if (!j.is_object()) return o;
  o.max_page_size = j.value("max_page_size", o.max_page_size);
  o.max_batch = j.value("max_batch", o.max_batch);
  o.rate_limit_requests = j.value("rate_limit_requests", o.rate_limit_requests);
  o.rate_limit_window_ms = j.value("rate_limit_window_ms", o.rate_limit_window_ms);
  o.search_rate_limit_requests = j.value("search_rate_limit_requests", o.search_rate_limit_requests);
  o.search_rate_limit_window_ms = j.value("search_rate_limit_window_ms", o.search_rate_limit_window_ms);
  o.daily_limit = j.value("daily_limit", o.daily_limit);
  return o;
}

void install_hubspot_api(FakeServer& server, HubSpotApiOptions options) {
  RecordStore& store = server.store();
  for (const char* type : kTypes) store.create_collection(type);
  auto limits = std::make_shared<Limits>();
  auto portal = std::make_shared<Portal>();

  // Auth, then the per-token limits (the daily quota, the rolling window, and for searches the search window), then
  // the handler. Requests refused by a limit are not counted against any.
  auto guarded = [limits, options](Handler handler, bool search = false) {
    return [limits, options, handler, search](const Request& request) -> Response {
      std::string token;
      auto auth = request.header("Authorization");
      if (auth && auth->rfind("Bearer ", 0) == 0) token = auth->substr(7);
      if (!options.token.empty() && token != options.token) {
        return hubspot_error(*limits, 401, "INVALID_AUTHENTICATION",
                             "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
                             "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview");
      }
      enum class Refusal { kNone, kDaily, kWindow, kSearch } refusal = Refusal::kNone;
      long long retry_after = 0;
      {
        std::lock_guard<std::mutex> lock(limits->mutex);
        const auto now = Clock::now();
        auto& window = limits->window[token];
        auto& searches = limits->search_window[token];
        if (options.daily_limit > 0 && limits->daily[token] >= options.daily_limit) {
          refusal = Refusal::kDaily;
        } else if (auto wait = window_full(window, now, options.rate_limit_requests, options.rate_limit_window_ms)) {
          refusal = Refusal::kWindow;
          retry_after = *wait;
        } else if (auto swait = search ? window_full(searches, now, options.search_rate_limit_requests,
                                                     options.search_rate_limit_window_ms)
                                       : std::nullopt) {
          refusal = Refusal::kSearch;
          retry_after = *swait;
        } else {
          if (options.rate_limit_requests > 0) window.push_back(now);
          if (search && options.search_rate_limit_requests > 0) searches.push_back(now);
          ++limits->daily[token];
        }
      }
      // Answered outside the lock: correlation_id locks.
      if (refusal == Refusal::kDaily) {
        Response r = rate_limited(*limits, "DAILY", "You have reached your daily limit.");
        r.headers.emplace_back("X-HubSpot-RateLimit-Daily", std::to_string(options.daily_limit));
        r.headers.emplace_back("X-HubSpot-RateLimit-Daily-Remaining", "0");
        return r;
      }
      if (refusal != Refusal::kNone) {
        Response r = refusal == Refusal::kWindow
                         ? rate_limited(*limits, "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.")
                         : rate_limited(*limits, "SECONDLY", "You have reached your secondly limit.");
        r.headers.emplace_back("Retry-After", std::to_string(retry_after));
        return r;
      }
      return handler(request);
    };
  };

  server.route("GET", "/crm/v3/objects/{type}", guarded([&store, options, limits](const Request& request) {
    const std::string& type = request.path_params.at("type");
    if (!known_type(type)) return hubspot_error(*limits, 404, "OBJECT_NOT_FOUND", "Unknown object type " + type);
    RecordStore::Query query;
    query.limit = 10;  // HubSpot's default page size
    if (auto limit = request.param("limit")) {
      try {
        query.limit = std::clamp<size_t>(std::stoul(*limit), 1, options.max_page_size);
      } catch (...) {
        return hubspot_error(*limits, 400, "VALIDATION_ERROR", "limit is not a number: " + *limit);
      }
    }
    query.after = request.param("after").value_or("");
    auto page = store.list(type, query);
    if (!page) return hubspot_error(*limits, 400, "VALIDATION_ERROR", "invalid after: " + query.after);
    std::vector<std::string> wanted = split_commas(request.param("properties").value_or(""));
    Json body = {{"results", Json::array()}};
    for (const auto& r : page->records) body["results"].push_back(object_json(type, r, wanted));
    if (!page->next.empty()) {
      body["paging"] = {{"next", {{"after", page->next},
                                  {"link", "/crm/v3/objects/" + type + "?after=" + page->next}}}};
    }
    return Response::json(200, body);
  }));

  server.route("POST", "/crm/v3/objects/{type}/search", guarded([&store, options, limits](const Request& request) {
    const std::string& type = request.path_params.at("type");
    if (!known_type(type)) return hubspot_error(*limits, 404, "OBJECT_NOT_FOUND", "Unknown object type " + type);
    auto body = request.json();
    if (!body || !body->is_object()) return hubspot_error(*limits, 400, "VALIDATION_ERROR", "body is not a JSON object");
    auto is_modified = [](const Json& name) {
      return name.is_string() && (name == "lastmodifieddate" || name == "hs_lastmodifieddate");
    };
    // One filter group (AND of its filters) is all the fake evaluates; that is what incremental reads send.
    std::optional<int64_t> gt, gte;
    const Json groups = body->value("filterGroups", Json::array());
    if (!groups.is_array() || groups.size() > 1) {
      return hubspot_error(*limits, 400, "VALIDATION_ERROR", "the fake evaluates at most one filter group");
    }
    for (const auto& group : groups) {
      for (const auto& f : group.value("filters", Json::array())) {
        const std::string op = f.value("operator", "");
        auto value = f.contains("value") ? time_value(f["value"]) : std::nullopt;
        if (!is_modified(f.value("propertyName", Json())) || (op != "GT" && op != "GTE") || !value) {
          return hubspot_error(*limits, 400, "VALIDATION_ERROR",
                               "the fake supports filters on the modified date with GT or GTE and a time value only");
        }
        (op == "GT" ? gt : gte) = *value;
      }
    }
    bool descending = false;
    for (const auto& s : body->value("sorts", Json::array())) {
      if (!is_modified(s.value("propertyName", Json()))) {
        return hubspot_error(*limits, 400, "VALIDATION_ERROR", "the fake sorts by the modified date only");
      }
      descending = s.value("direction", "ASCENDING") == "DESCENDING";
    }
    size_t limit = 10;
    size_t offset = 0;
    try {
      if (body->contains("limit")) limit = std::clamp<size_t>((*body)["limit"].get<size_t>(), 1, options.max_page_size);
      if (body->contains("after")) {
        const Json& a = (*body)["after"];
        offset = a.is_string() ? std::stoul(a.get<std::string>()) : a.get<size_t>();
      }
    } catch (...) {
      return hubspot_error(*limits, 400, "VALIDATION_ERROR", "limit and after must be numbers");
    }
    std::vector<std::string> wanted;
    for (const auto& p : body->value("properties", Json::array())) {
      if (p.is_string()) wanted.push_back(p.get<std::string>());
    }
    std::vector<StoredRecord> matched;
    for (auto& r : all_records(store, type)) {
      if (gt && !(r.updated_ms > *gt)) continue;
      if (gte && !(r.updated_ms >= *gte)) continue;
      matched.push_back(std::move(r));
    }
    // Sorted by the modified time; ties always in ascending id order, so paging over equal times is stable.
    std::stable_sort(matched.begin(), matched.end(), [descending](const StoredRecord& a, const StoredRecord& b) {
      if (a.updated_ms != b.updated_ms) return descending ? a.updated_ms > b.updated_ms : a.updated_ms < b.updated_ms;
      return id_less(a.id, b.id);
    });
    Json out = {{"total", matched.size()}, {"results", Json::array()}};
    for (size_t i = offset; i < matched.size() && i < offset + limit; ++i) {
      out["results"].push_back(object_json(type, matched[i], wanted));
    }
    if (offset + limit < matched.size()) out["paging"] = {{"next", {{"after", std::to_string(offset + limit)}}}};
    return Response::json(200, out);
  }, /*search=*/true));

  server.route("POST", "/crm/v3/objects/{type}/batch/upsert", guarded([&store, options, limits, portal](const Request& request) {
    const std::string& type = request.path_params.at("type");
    if (!known_type(type)) return hubspot_error(*limits, 404, "OBJECT_NOT_FOUND", "Unknown object type " + type);
    auto body = request.json();
    if (auto refused = check_inputs(*limits, body, options.max_batch)) return *refused;
    const Json& inputs = (*body)["inputs"];
    Json results = Json::array();
    Json errors = Json::array();
    auto refuse = [&](const std::string& id, const std::string& message) {
      errors.push_back(batch_error("VALIDATION_ERROR", message, {{"ids", Json::array({id})}}));
    };
    std::vector<std::string> seen;
    for (const Json& input : inputs) {
      std::string id = input_id(input);
      const std::string id_property = input.is_object() ? input.value("idProperty", "") : "";
      if (id_property == "email") id = lower(id);
      if (std::find(seen.begin(), seen.end(), id) != seen.end()) {
        return hubspot_error(*limits, 400, "VALIDATION_ERROR", "Duplicate IDs found in batch input: [" + id + "]");
      }
      seen.push_back(id);
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Json& input = inputs[i];
      const std::string id_property = input.is_object() ? input.value("idProperty", "") : "";
      std::string id = seen[i];
      if (request.fail_every > 0 && (i + 1) % static_cast<size_t>(request.fail_every) == 0) {
        refuse(id, "injected failure of this input");
        continue;
      }
      if (id.empty() || !input.contains("properties") || !input["properties"].is_object()) {
        refuse(id, "Input requires a string id and a properties object");
        continue;
      }
      Json properties = input["properties"];
      std::string bad;
      for (const auto& [name, value] : properties.items()) {
        if (!value.is_string()) bad = "Property values must be strings: " + name;
      }
      if (properties.contains("email") && properties["email"].is_string()) {
        properties["email"] = lower(properties["email"].get<std::string>());
      }
      if (!id_property.empty() && id_property != "hs_object_id") properties[id_property] = id;
      if (bad.empty() && properties.contains("email") && !valid_email(properties["email"].get<std::string>())) {
        bad = "Property values were not valid: [{\"isValid\":false,\"message\":\"Email address " +
              properties["email"].get<std::string>() + " is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]";
      }
      if (!bad.empty()) {
        refuse(id, bad);
        continue;
      }
      RecordStore::Upserted upserted;
      {
        std::lock_guard<std::mutex> lock(portal->mutex);
        auto found = find_object(store, *portal, type, id_property, id);
        // By object id: an existing one is updated, a new one is created under the id we allocate.
        std::string object_id = found ? *found : std::to_string(portal->next_id[type]++);
        upserted = store.upsert(type, "", object_id, properties);
        if (properties.contains("email")) portal->id_by_email[type][properties["email"].get<std::string>()] = object_id;
      }
      Json item = object_json(type, upserted.record, {});
      item["new"] = upserted.created;
      results.push_back(item);
    }
    return Response::json(errors.empty() ? 200 : 207, batch_body(results, errors));
  }));

  // Read by object id or by a unique property (idProperty). Ids it does not hold are one OBJECT_NOT_FOUND error.
  server.route("POST", "/crm/v3/objects/{type}/batch/read", guarded([&store, options, limits, portal](const Request& request) {
    const std::string& type = request.path_params.at("type");
    if (!known_type(type)) return hubspot_error(*limits, 404, "OBJECT_NOT_FOUND", "Unknown object type " + type);
    auto body = request.json();
    if (auto refused = check_inputs(*limits, body, options.max_batch)) return *refused;
    const std::string id_property = body->value("idProperty", "");
    std::vector<std::string> wanted;
    for (const auto& p : body->value("properties", Json::array())) {
      if (p.is_string()) wanted.push_back(p.get<std::string>());
    }
    if (!wanted.empty() && !id_property.empty()) wanted.push_back(id_property);
    Json results = Json::array();
    Json missing = Json::array();
    std::lock_guard<std::mutex> lock(portal->mutex);
    for (const Json& input : (*body)["inputs"]) {
      std::string id = input_id(input);
      if (id_property == "email") id = lower(id);
      auto found = id.empty() ? std::nullopt : find_object(store, *portal, type, id_property, id);
      auto record = found ? store.get(type, *found) : std::nullopt;
      if (record) {
        results.push_back(object_json(type, *record, wanted));
      } else {
        missing.push_back(id);
      }
    }
    Json errors = Json::array();
    if (!missing.empty()) {
      const char* kind = type == "contacts" ? "CONTACT" : type == "companies" ? "COMPANY" : "DEAL";
      errors.push_back(batch_error("OBJECT_NOT_FOUND",
                                   std::string("Could not get some ") + kind + " objects, they may be deleted or not exist. "
                                   "Check that ids are valid.",
                                   {{"ids", missing}}));
    }
    return Response::json(errors.empty() ? 200 : 207, batch_body(results, errors));
  }));

  // Archive by object id: 204 whether or not the ids exist. Associations of archived objects go with them.
  server.route("POST", "/crm/v3/objects/{type}/batch/archive", guarded([&store, options, limits, portal](const Request& request) {
    const std::string& type = request.path_params.at("type");
    if (!known_type(type)) return hubspot_error(*limits, 404, "OBJECT_NOT_FOUND", "Unknown object type " + type);
    auto body = request.json();
    if (auto refused = check_inputs(*limits, body, options.max_batch)) return *refused;
    for (const Json& input : (*body)["inputs"]) {
      if (input_id(input).empty()) {
        return hubspot_error(*limits, 400, "VALIDATION_ERROR", "every input needs a string id");
      }
    }
    std::lock_guard<std::mutex> lock(portal->mutex);
    for (const Json& input : (*body)["inputs"]) archive_object(store, *portal, type, input_id(input));
    return Response{204, {}, ""};
  }));

  // Default (unlabelled) associations between existing objects. Both ids must exist; an input naming a missing one
  // is a per-input error with the id in its context. The spec documents 200 for this call, errors included.
  server.route("POST", "/crm/v4/associations/{from}/{to}/batch/associate/default",
               guarded([&store, options, limits, portal](const Request& request) {
    const std::string& from = request.path_params.at("from");
    const std::string& to = request.path_params.at("to");
    if (!known_type(from) || !known_type(to) || from == to) {
      return hubspot_error(*limits, 400, "VALIDATION_ERROR",
                           "the fake associates contacts, companies and deals with each other: " + from + " to " + to);
    }
    auto body = request.json();
    if (auto refused = check_inputs(*limits, body, options.max_batch)) return *refused;
    const Json& inputs = (*body)["inputs"];
    Json results = Json::array();
    Json errors = Json::array();
    std::lock_guard<std::mutex> lock(portal->mutex);
    build_portal(store, *portal);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Json& input = inputs[i];
      const std::string from_id = input.is_object() ? input_id(input.value("from", Json())) : "";
      const std::string to_id = input.is_object() ? input_id(input.value("to", Json())) : "";
      Json context = {{"fromObjectId", Json::array({from_id})}, {"toObjectId", Json::array({to_id})}};
      if (request.fail_every > 0 && (i + 1) % static_cast<size_t>(request.fail_every) == 0) {
        errors.push_back(batch_error("VALIDATION_ERROR", "injected failure of this input", context));
        continue;
      }
      std::string absent;
      if (!store.get(from, from_id)) absent = from + " " + from_id;
      else if (!store.get(to, to_id)) absent = to + " " + to_id;
      if (!absent.empty()) {
        errors.push_back(batch_error("VALIDATION_ERROR", "No object " + absent + " exists to associate", context));
        continue;
      }
      portal->links[{from, from_id}].insert({to, to_id});
      portal->links[{to, to_id}].insert({from, from_id});
      results.push_back({{"from", {{"id", from_id}}},
                         {"to", {{"id", to_id}}},
                         {"associationSpec", {{"associationCategory", "HUBSPOT_DEFINED"},
                                              {"associationTypeId", default_association_type(from, to)}}}});
    }
    return Response::json(200, batch_body(results, errors));
  }));

  // The associations of each input object to objects of {to}. An object with none (or none at all) is an error
  // entry, as HubSpot reports "no associations found"; 207 then.
  server.route("POST", "/crm/v4/associations/{from}/{to}/batch/read",
               guarded([&store, options, limits, portal](const Request& request) {
    const std::string& from = request.path_params.at("from");
    const std::string& to = request.path_params.at("to");
    if (!known_type(from) || !known_type(to)) {
      return hubspot_error(*limits, 400, "VALIDATION_ERROR", "Unknown object type " + from + " or " + to);
    }
    auto body = request.json();
    if (auto refused = check_inputs(*limits, body, options.max_batch)) return *refused;
    Json results = Json::array();
    Json errors = Json::array();
    std::lock_guard<std::mutex> lock(portal->mutex);
    for (const Json& input : (*body)["inputs"]) {
      const std::string id = input_id(input);
      std::vector<std::string> ids;
      auto links = portal->links.find({from, id});
      if (links != portal->links.end()) {
        for (const auto& [type, other] : links->second) {
          if (type == to) ids.push_back(other);
        }
      }
      if (ids.empty()) {
        Json e = batch_error("OBJECT_NOT_FOUND", "No " + to + " is associated with " + from + " " + id + ".",
                             {{"fromObjectId", Json::array({id})}});
        e["subCategory"] = "crm.associations.NO_ASSOCIATIONS_FOUND";
        errors.push_back(e);
        continue;
      }
      std::sort(ids.begin(), ids.end(), id_less);
      Json targets = Json::array();
      for (const auto& other : ids) {
        targets.push_back({{"toObjectId", other},
                           {"associationTypes", Json::array({{{"category", "HUBSPOT_DEFINED"},
                                                              {"typeId", default_association_type(from, to)},
                                                              {"label", nullptr}}})}});
      }
      results.push_back({{"from", {{"id", id}}}, {"to", targets}});
    }
    return Response::json(errors.empty() ? 200 : 207, batch_body(results, errors));
  }));
}

}  // namespace conflux::test::fake
