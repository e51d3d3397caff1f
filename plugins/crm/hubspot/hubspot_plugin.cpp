// The "hubspot" connector: a source of HubSpot CRM objects (streams contacts, companies, deals; incremental through
// CRM search on the last-modified date) and a sink that batch-upserts one object type by an id property. All HTTP
// goes through the host (conflux::sdk::Http): retries of 429/5xx with Retry-After, the process-wide rate limit per
// (hubspot, account), redacted logs. Pure helpers live in hubspot_model.hpp.
#include <conflux/sdk/plugin.hpp>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "hubspot_model.hpp"

namespace conflux::plugins::hubspot {
namespace {

namespace sdk = conflux::sdk;
using Json = nlohmann::json;

constexpr const char* kConfigSchema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "hubspot connector",
  "description": "HubSpot CRM v3: reads contacts, companies and deals incrementally (source) or batch-upserts one object type by an id property (sink). Keys marked 'source' or 'sink' apply to that role only.",
  "type": "object",
  "additionalProperties": false,
  "required": ["access_token"],
  "properties": {
    "base_url": {"type": "string", "minLength": 1, "default": "https://api.hubapi.com",
                 "description": "The API root, without a trailing slash."},
    "access_token": {"type": "string", "minLength": 1,
                     "description": "Private-app or OAuth access token, sent as a bearer token. A secret: give it as ${env:HUBSPOT_TOKEN} or ${file:...}."},
    "account": {"type": "string", "minLength": 1,
                "description": "Names the portal for the host's rate limit, shared by every pipeline of the process using it. Default: a hash of the token."},
    "object": {"type": "string", "enum": ["contacts", "companies", "deals"], "default": "contacts",
               "description": "sink: the object type records are upserted into."},
    "id_property": {"type": "string", "minLength": 1, "default": "email",
                    "description": "sink: the unique property records are matched by (HubSpot's idProperty); every record must have a field of this name."},
    "batch_size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100,
                   "description": "sink: inputs per batch upsert request (HubSpot allows 100)."},
    "properties": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": true,
                   "description": "source: the properties to read (default: HubSpot's default properties). sink: only these fields are sent (default: every field except id, createdAt, updatedAt, archived and HubSpot's read-only hs_object_id, createdate, lastmodifieddate, hs_lastmodifieddate)."},
    "rate_limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100,
                   "description": "Requests per 10 s for this account's bucket when the host knows no limit for it yet (HubSpot: 100 on Free/Starter, 190 on Pro/Enterprise)."}
  }
})json";

struct Config {
  std::string base_url = "https://api.hubapi.com";
  std::string token;
  std::string account;
  std::string object = "contacts";
  std::string id_property = "email";
  size_t batch_size = kMaxBatch;
  std::vector<std::string> properties;
  uint32_t rate_limit = 100;
};

[[noreturn]] void bad_config(const std::string& message) { throw sdk::config_error("hubspot: " + message); }

Config parse_config(const std::string& text) {
  Config c;
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) bad_config("config must be an object");
  try {
    c.base_url = j.value("base_url", c.base_url);
    while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
    c.token = j.value("access_token", "");
    c.account = j.value("account", "");
    c.object = j.value("object", c.object);
    c.id_property = j.value("id_property", c.id_property);
    c.batch_size = j.value("batch_size", c.batch_size);
    c.properties = j.value("properties", c.properties);
    c.rate_limit = j.value("rate_limit", c.rate_limit);
  } catch (const std::exception& e) {
    bad_config(std::string("config has a value of the wrong type: ") + e.what());
  }
  if (c.token.empty()) bad_config("access_token is empty (is the ${env:...} variable set?)");
  if (!known_object(c.object)) bad_config("object must be contacts, companies or deals");
  if (c.batch_size < 1 || c.batch_size > kMaxBatch) bad_config("batch_size must be 1..100");
  if (c.account.empty()) c.account = token_account(c.token);
  return c;
}

// HubSpot's error body {"status":"error","message":..,"category":..,"correlationId":..} as one line.
std::string hubspot_says(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("message") || !j["message"].is_string()) return {};
  std::string out = j["message"].get<std::string>();
  std::string tags;
  for (const char* key : {"category", "policyName", "correlationId"}) {
    if (j.contains(key) && j[key].is_string()) tags += (tags.empty() ? "" : ", ") + std::string(key) + " " + j[key].get<std::string>();
  }
  return tags.empty() ? out : out + " (" + tags + ")";
}

// Throws the error the host classified, with HubSpot's own message. 401/403 become one CONFIG error that names the
// fix; QUOTA stops the run with committed batches kept; RETRY/TIMEOUT let the host retry the call.
[[noreturn]] void fail(const sdk::HttpResult& r, const std::string& what) {
  std::string says = hubspot_says(r.body);
  std::string message = "hubspot: " + what + " failed: " + r.error;
  // The host's error may quote the body already; add HubSpot's message only when it does not.
  Json body = Json::parse(r.body, nullptr, false);
  if (!says.empty() && !(body.is_object() && body.contains("message") && body["message"].is_string() &&
                         r.error.find(body["message"].get<std::string>()) != std::string::npos)) {
    message += "; HubSpot says: " + says;
  }
  if (r.code == CONFLUX_ERR_CONFIG && (r.status == 401 || r.status == 403)) {
    message += "; check access_token (a private-app or OAuth token with the CRM scopes for this object)";
  }
  throw sdk::Error(r.code == CONFLUX_OK ? CONFLUX_ERR_FATAL : r.code, message);
}

Json parse_body(const sdk::HttpResult& r, const std::string& what) {
  Json j = Json::parse(r.body, nullptr, false);
  // A cut body arrives as a clean 2xx: retry the call rather than take half a page for a whole one.
  if (!j.is_object()) throw sdk::retry_error("hubspot: " + what + ": the response is not a JSON object (truncated?)");
  return j;
}

class Api {
 public:
  Api(const sdk::Context& context, const Config& config) : config_(config), http_(context) {
    http_.rate_limit("hubspot", config.account, config.rate_limit, 10'000);
  }
  sdk::HttpResult get(const std::string& path) const { return http_.get(config_.base_url + path, headers()); }
  sdk::HttpResult post(const std::string& path, const Json& body) const {
    return http_.post(config_.base_url + path, body.dump(), headers());
  }

 private:
  sdk::HttpHeaders headers() const {
    return {{"Authorization", "Bearer " + config_.token},
            {"Accept", "application/json"},
            {"Content-Type", "application/json"}};
  }
  const Config& config_;
  sdk::Http http_;
};

// One stream: pages through CRM search with filter modified >= cursor time, sorted ascending, and skips what the
// cursor already covers. Every request starts from the cursor's time, so a record modified while we read moves
// behind the cursor and is read later, never lost; `after` is used only to get past a full page of ties already
// emitted.
class Reader : public sdk::StreamReader {
 public:
  Reader(const sdk::Context& context, const Config& config, std::string type, Cursor cursor)
      : config_(config), api_(context, config_), type_(std::move(type)), modified_(modified_property(type_)),
        cursor_(std::move(cursor)) {}

  bool read_batch(size_t max_records, sdk::Emitter& out) override {
    const size_t limit = std::clamp<size_t>(max_records, 1, kMaxBatch);
    Json request = {{"sorts", Json::array({{{"propertyName", modified_}, {"direction", "ASCENDING"}}})},
                    {"limit", limit}};
    if (!cursor_.empty()) {
      request["filterGroups"] = Json::array({{{"filters", Json::array({{{"propertyName", modified_},
                                                                       {"operator", "GTE"},
                                                                       {"value", std::to_string(cursor_.modified_ms)}}})}}});
    }
    if (!config_.properties.empty()) {
      std::vector<std::string> wanted = config_.properties;
      wanted.push_back(modified_);  // the cursor needs it
      request["properties"] = wanted;
    }
    if (skip_ > 0) request["after"] = std::to_string(skip_);
    sdk::HttpResult r = api_.post("/crm/v3/objects/" + type_ + "/search", request);
    if (!r.ok()) fail(r, "search " + type_);
    Json body = parse_body(r, "search " + type_);
    if (!body.contains("results") || !body["results"].is_array()) {
      throw sdk::retry_error("hubspot: search " + type_ + ": the response has no results array");
    }
    size_t emitted = 0;
    const Json& results = body["results"];
    for (const Json& item : results) {
      std::string id = item.contains("id") && item["id"].is_string() ? item["id"].get<std::string>() : "";
      std::optional<int64_t> ms;
      const Json props = item.value("properties", Json::object());
      if (props.is_object() && props.contains(modified_) && props[modified_].is_string()) {
        ms = parse_time_ms(props[modified_].get<std::string>());
      }
      if (!ms && item.contains("updatedAt") && item["updatedAt"].is_string()) {
        ms = parse_time_ms(item["updatedAt"].get<std::string>());
      }
      if (id.empty() || !all_digits(id) || !ms || !props.is_object()) {
        out.invalid(0, "hubspot: a " + type_ + " search result without a numeric id, properties or modified time",
                    item.dump());
        continue;
      }
      if (!cursor_.before(*ms, id)) continue;  // emitted by an earlier batch or run
      emit(out, item, props, id);
      cursor_ = Cursor{*ms, id};
      ++emitted;
    }
    const bool more = body.contains("paging") && body["paging"].is_object() && body["paging"].contains("next");
    // A page with nothing new but a next page is all ties at the cursor's time: step over it with `after`.
    skip_ = (emitted == 0 && more) ? skip_ + results.size() : 0;
    out.cursor(encode_cursor(cursor_));
    if (body.contains("total") && body["total"].is_number_unsigned()) {
      read_ += emitted;
      // Total: what we read so far plus what the query still matches (an estimate; it includes skipped ties).
      out.progress(read_, read_ + body["total"].get<uint64_t>() - emitted);
    }
    return more;
  }

 private:
  // Flat record: id, every property as text (null when HubSpot has none), createdAt, updatedAt, archived.
  static void emit(sdk::Emitter& out, const Json& item, const Json& props, const std::string& id) {
    out.begin().add_string("id", id);
    for (const auto& [name, value] : props.items()) {
      if (name == "id") continue;
      if (value.is_null()) {
        out.add_null(name);
      } else {
        out.add_string(name, value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
    for (const char* key : {"createdAt", "updatedAt"}) {
      if (item.contains(key) && item[key].is_string()) out.add_string(key, item[key].get<std::string>());
    }
    out.add_bool("archived", item.value("archived", false));
    out.end(0);
  }

  const Config config_;
  Api api_;
  std::string type_;
  std::string modified_;
  Cursor cursor_;
  size_t skip_ = 0;
  uint64_t read_ = 0;
};

// Fields of a record that are never sent as properties: our own metadata and HubSpot's read-only ones.
bool is_read_only(std::string_view name) {
  for (const char* n : {"id", "createdAt", "updatedAt", "archived", "hs_object_id", "createdate",
                        "lastmodifieddate", "hs_lastmodifieddate"}) {
    if (name == n) return true;
  }
  return false;
}

class HubSpot : public sdk::Plugin {
 public:
  explicit HubSpot(const sdk::Context& context) : Plugin(context), config_(parse_config(context.config_json())) {}

  void check() override {
    Api api(context(), config_);
    sdk::HttpResult r = api.get("/crm/v3/objects/" + config_.object + "?limit=1");
    if (!r.ok()) fail(r, "reading " + config_.object);
  }

  std::string discover() override {
    Json streams = Json::array();
    for (const char* type : {"contacts", "companies", "deals"}) {
      Json fields = {{"id", "string"}, {"createdAt", "string"}, {"updatedAt", "string"}, {"archived", "bool"},
                     {modified_property(type), "string"}};
      for (const auto& p : config_.properties) fields[p] = "string";
      streams.push_back({{"name", type}, {"fields", fields}});
    }
    return Json{{"streams", streams}}.dump();
  }

  std::unique_ptr<sdk::StreamReader> open_stream(std::string_view stream, std::string_view cursor) override {
    if (!known_object(stream)) {
      bad_config("no stream '" + std::string(stream) + "' (streams: contacts, companies, deals)");
    }
    auto decoded = decode_cursor(cursor);
    if (!decoded) {
      bad_config("unreadable cursor '" + std::string(cursor) + "' for stream " + std::string(stream) +
                 "; run `conflux state reset`");
    }
    return std::make_unique<Reader>(context(), config_, std::string(stream), *decoded);
  }

  void write_batch(const sdk::BatchView& batch, sdk::Results& results) override {
    Api api(context(), config_);
    std::vector<Input> inputs;
    std::vector<std::string> keys;
    for (size_t i = 0; i < batch.size(); ++i) {
      sdk::RecordView record = batch[i];
      auto key = record.find(config_.id_property);
      std::string value = key && !key->is_null() ? key->to_string() : std::string();
      if (value.find_first_not_of(" \t") == std::string::npos) {
        results.rejected(i, "hubspot: the record has no '" + config_.id_property +
                                "' (id_property), which HubSpot upserts by");
        continue;
      }
      Input in{i, value, Json::object()};
      for (size_t f = 0; f < record.field_count(); ++f) {
        sdk::FieldView field = record.field_at(f);
        std::string name(field.name());
        if (field.is_null() || is_read_only(name)) continue;
        if (!config_.properties.empty() &&
            std::find(config_.properties.begin(), config_.properties.end(), name) == config_.properties.end()) {
          continue;
        }
        in.properties[name] = field.to_string();  // HubSpot property values are strings
      }
      keys.push_back(normalise_key(config_.id_property, value));
      inputs.push_back(std::move(in));
    }
    for (const auto& chunk : chunk_inputs(keys, config_.batch_size)) {
      std::vector<const Input*> part;
      for (size_t k : chunk) part.push_back(&inputs[k]);
      upsert(api, part, results);
    }
  }

 private:
  struct Input {
    size_t index;  // in the batch
    std::string id;
    Json properties;
  };

  // One batch upsert. 200/207: per-input outcomes. A 400 refusing the whole request (HubSpot does that for some
  // invalid values) is split in halves until the offending record stands alone and is rejected by itself.
  void upsert(const Api& api, const std::vector<const Input*>& part, sdk::Results& results) const {
    Json inputs = Json::array();
    for (const Input* in : part) {
      inputs.push_back({{"id", in->id}, {"idProperty", config_.id_property}, {"properties", in->properties}});
    }
    const std::string what = "batch upsert of " + std::to_string(part.size()) + " " + config_.object;
    sdk::HttpResult r = api.post("/crm/v3/objects/" + config_.object + "/batch/upsert", Json{{"inputs", inputs}});
    if (!r.ok() && r.code == CONFLUX_ERR_FATAL && r.status == 400) {
      if (part.size() == 1) {
        std::string says = hubspot_says(r.body);
        results.rejected(part[0]->index, "hubspot: HubSpot refused the record: " + (says.empty() ? r.error : says));
        return;
      }
      const auto middle = part.begin() + static_cast<std::ptrdiff_t>(part.size() / 2);
      upsert(api, std::vector<const Input*>(part.begin(), middle), results);
      upsert(api, std::vector<const Input*>(middle, part.end()), results);
      return;
    }
    if (!r.ok()) fail(r, what);
    Json body = parse_body(r, what);
    // Outcomes come back by id property value, not by position.
    std::map<std::string, std::pair<conflux_write_outcome, std::string>> outcome;
    for (const Json& item : body.value("results", Json::array())) {
      const Json props = item.value("properties", Json::object());
      if (!props.is_object() || !props.contains(config_.id_property) || !props[config_.id_property].is_string()) continue;
      outcome[normalise_key(config_.id_property, props[config_.id_property].get<std::string>())] = {
          item.value("new", false) ? CONFLUX_WRITE_CREATED : CONFLUX_WRITE_UPDATED, ""};
    }
    for (const Json& error : body.value("errors", Json::array())) {
      std::string message = error.value("message", "refused");
      if (error.contains("category") && error["category"].is_string()) {
        message += " (" + error["category"].get<std::string>() + ")";
      }
      const Json ids = error.contains("context") && error["context"].is_object()
                           ? error["context"].value("ids", Json::array()) : Json::array();
      for (const Json& id : ids) {
        if (id.is_string()) {
          outcome[normalise_key(config_.id_property, id.get<std::string>())] = {CONFLUX_WRITE_REJECTED,
                                                                                "hubspot: " + message};
        }
      }
    }
    for (const Input* in : part) {
      auto it = outcome.find(normalise_key(config_.id_property, in->id));
      if (it == outcome.end()) {
        results.rejected(in->index, "hubspot: HubSpot returned neither a result nor an error for this record");
      } else {
        results.set(in->index, it->second.first, it->second.second);
      }
    }
  }

  Config config_;
};

}  // namespace
}  // namespace conflux::plugins::hubspot

CONFLUX_PLUGIN(conflux::plugins::hubspot::HubSpot,
               {"hubspot", "1.0.0", CONFLUX_KIND_SOURCE | CONFLUX_KIND_SINK,
                "HubSpot CRM v3: reads contacts, companies and deals incrementally; batch-upserts by an id property",
                conflux::plugins::hubspot::kConfigSchema, R"(["contacts","companies","deals"])"})
