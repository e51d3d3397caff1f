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

namespace conflux::test::fake {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* const kTypes[] = {"contacts", "companies", "deals"};

// Upserts by e-mail look the address up here instead of scanning the store (RecordStore matches properties
// linearly), so a benchmark of 100,000 contacts stays O(log n) per input. Built from the store at the first upsert;
// the dialect is then the only writer of its object types. Guarded by `mutex`, held across the store write.
struct EmailIndex {
  std::mutex mutex;
  bool built = false;
  std::map<std::string, std::map<std::string, std::string>> id_by_email;  // type -> email -> object id
  std::map<std::string, long long> next_id;                              // type -> next numeric id
};

// Per-token request accounting for the rolling window and the daily quota.
struct Limits {
  std::mutex mutex;
  std::map<std::string, std::deque<Clock::time_point>> window;  // admitted requests inside the window, oldest first
  std::map<std::string, int64_t> daily;                          // admitted requests since start
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
  o.daily_limit = j.value("daily_limit", o.daily_limit);
  return o;
}

void install_hubspot_api(FakeServer& server, HubSpotApiOptions options) {
  RecordStore& store = server.store();
  for (const char* type : kTypes) store.create_collection(type);
  auto limits = std::make_shared<Limits>();
  auto index = std::make_shared<EmailIndex>();

  // Auth, then the per-token limits, then the handler. Requests refused by a limit are not counted against it.
  auto guarded = [limits, options](Handler handler) {
    return [limits, options, handler](const Request& request) -> Response {
      std::string token;
      auto auth = request.header("Authorization");
      if (auth && auth->rfind("Bearer ", 0) == 0) token = auth->substr(7);
      if (!options.token.empty() && token != options.token) {
        return hubspot_error(*limits, 401, "INVALID_AUTHENTICATION",
                             "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
                             "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview");
      }
      std::string remaining_daily;
      {
        std::lock_guard<std::mutex> lock(limits->mutex);
        if (options.daily_limit > 0 && limits->daily[token] >= options.daily_limit) {
          // Falls through to the 429 below, outside the lock (correlation_id locks).
          remaining_daily = "0";
        } else if (options.rate_limit_requests > 0) {
          auto& window = limits->window[token];
          const auto now = Clock::now();
          const auto span = std::chrono::milliseconds(options.rate_limit_window_ms);
          while (!window.empty() && now - window.front() >= span) window.pop_front();
          if (window.size() >= static_cast<size_t>(options.rate_limit_requests)) {
            auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(window.front() + span - now).count();
            remaining_daily = "retry:" + std::to_string(std::max<long long>(1, (wait + 999) / 1000));
          } else {
            window.push_back(now);
          }
        }
        if (remaining_daily.empty()) ++limits->daily[token];
      }
      if (remaining_daily == "0") {
        Response r = rate_limited(*limits, "DAILY", "You have reached your daily limit.");
        r.headers.emplace_back("X-HubSpot-RateLimit-Daily", std::to_string(options.daily_limit));
        r.headers.emplace_back("X-HubSpot-RateLimit-Daily-Remaining", "0");
        return r;
      }
      if (!remaining_daily.empty()) {
        Response r = rate_limited(*limits, "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.");
        r.headers.emplace_back("Retry-After", remaining_daily.substr(6));
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
    RecordStore::Query all;
    all.limit = std::numeric_limits<size_t>::max();
    auto page = store.list(type, all);
    std::vector<StoredRecord> matched;
    for (auto& r : page->records) {
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
  }));

  server.route("POST", "/crm/v3/objects/{type}/batch/upsert", guarded([&store, options, limits, index](const Request& request) {
    const std::string& type = request.path_params.at("type");
    if (!known_type(type)) return hubspot_error(*limits, 404, "OBJECT_NOT_FOUND", "Unknown object type " + type);
    auto body = request.json();
    if (!body || !body->is_object() || !body->contains("inputs") || !(*body)["inputs"].is_array()) {
      return hubspot_error(*limits, 400, "VALIDATION_ERROR", "body must be {\"inputs\":[...]}");
    }
    const Json& inputs = (*body)["inputs"];
    if (inputs.size() > options.max_batch) {
      return hubspot_error(*limits, 400, "VALIDATION_ERROR",
                           "Batch input limit exceeded: at most " + std::to_string(options.max_batch) + " inputs");
    }
    Json results = Json::array();
    Json errors = Json::array();
    auto refuse = [&](const std::string& id, const std::string& message) {
      errors.push_back({{"status", "error"},
                        {"category", "VALIDATION_ERROR"},
                        {"message", message},
                        {"context", {{"ids", Json::array({id})}}}});
    };
    std::vector<std::string> seen;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Json& input = inputs[i];
      std::string id = input.is_object() && input.contains("id") && input["id"].is_string()
                           ? input["id"].get<std::string>() : std::string();
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
      if (id_property == "email") properties["email"] = id;
      if (bad.empty() && properties.contains("email") && !valid_email(properties["email"].get<std::string>())) {
        bad = "Property values were not valid: [{\"isValid\":false,\"message\":\"Email address " +
              properties["email"].get<std::string>() + " is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]";
      }
      if (!bad.empty()) {
        refuse(id, bad);
        continue;
      }
      RecordStore::Upserted upserted;
      if (id_property == "email") {
        std::lock_guard<std::mutex> lock(index->mutex);
        if (!index->built) {
          RecordStore::Query all;
          all.limit = std::numeric_limits<size_t>::max();
          for (const char* t : kTypes) {
            long long next = 1;
            const auto existing = store.list(t, all);  // kept: a range-for over ->records of a temporary dangles
            for (const auto& r : existing->records) {
              auto e = r.properties.find("email");
              if (e != r.properties.end() && e->is_string()) index->id_by_email[t][lower(e->get<std::string>())] = r.id;
              if (!r.id.empty() && r.id.size() < 18 && r.id.find_first_not_of("0123456789") == std::string::npos) {
                next = std::max(next, std::stoll(r.id) + 1);
              }
            }
            index->next_id[t] = next;
          }
          index->built = true;
        }
        auto& ids = index->id_by_email[type];
        auto found = ids.find(id);
        // By object id: an existing one is updated, a new one is created under the id we allocate.
        std::string object_id = found != ids.end() ? found->second : std::to_string(index->next_id[type]++);
        upserted = store.upsert(type, "", object_id, properties);
        ids[id] = object_id;
      } else {
        upserted = store.upsert(type, id_property, id, properties);
      }
      Json item = object_json(type, upserted.record, {});
      item["new"] = upserted.created;
      results.push_back(item);
    }
    Json out = {{"status", "COMPLETE"}, {"results", results}};
    if (!errors.empty()) {
      out["numErrors"] = errors.size();
      out["errors"] = errors;
    }
    return Response::json(errors.empty() ? 200 : 207, out);
  }));
}

}  // namespace conflux::test::fake
