#include "hubspot_client.hpp"

#include <algorithm>

namespace conflux::plugins::hubspot {

const char* const kConfigSchema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "hubspot connector",
  "description": "HubSpot CRM: reads contacts, companies and deals incrementally (source) or batch-upserts one object type by an id property, with sync modes, field rules, associations and mirror deletes (sink). Keys marked 'source' or 'sink' apply to that role only.",
  "type": "object",
  "additionalProperties": false,
  "required": ["access_token"],
  "properties": {
    "base_url": {"type": "string", "minLength": 1, "default": "https://api.hubapi.com",
                 "description": "The API root, without a trailing slash."},
    "access_token": {"type": "string", "minLength": 1,
                     "description": "Private-app or OAuth access token, sent as a bearer token. A secret: give it as ${env:HUBSPOT_TOKEN} or ${file:...}."},
    "account": {"type": "string", "minLength": 1,
                "description": "Names the portal for the host's rate limits, shared by every pipeline of the process using it. Default: a hash of the token."},
    "object": {"type": "string", "enum": ["contacts", "companies", "deals"], "default": "contacts",
               "description": "sink: the object type records are upserted into."},
    "id_property": {"type": "string", "minLength": 1, "default": "email",
                    "description": "sink: the unique property records are matched by (HubSpot's idProperty); every record must have a field of this name."},
    "batch_size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100,
                   "description": "sink: inputs per batch request (HubSpot allows 100)."},
    "properties": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": true,
                   "description": "source: the properties to read (default: HubSpot's default properties). sink: only these fields are sent (default: every field except id, createdAt, updatedAt, archived, association fields and HubSpot's read-only hs_object_id, createdate, lastmodifieddate, hs_lastmodifieddate)."},
    "mode": {"type": "string", "enum": ["upsert", "update_only", "insert_only"], "default": "upsert",
             "description": "sink: update_only rejects records HubSpot does not hold (dead-lettered, replayable); insert_only leaves records it holds unchanged."},
    "fields": {"type": "object", "additionalProperties": {"type": "string", "enum": ["overwrite", "only_if_empty", "never"]},
               "description": "sink: per-property rule when HubSpot holds the record: only_if_empty sends the value only over an empty one; never sends it only when the record is created."},
    "associations": {"type": "array",
                     "description": "sink: after each batch, associate every written record with the object named by one of its fields (HubSpot's default association).",
                     "items": {"type": "object", "additionalProperties": false, "required": ["to", "field"],
                               "if": {"properties": {"to": {"enum": ["companies", "deals"]}}},
                               "then": {"required": ["id_property"]},
                               "properties": {
                                 "to": {"type": "string", "enum": ["contacts", "companies", "deals"],
                                        "description": "The partner object type."},
                                 "field": {"type": "string", "minLength": 1,
                                           "description": "The record field holding the partner's id-property value; not sent as a property."},
                                 "id_property": {"type": "string", "minLength": 1,
                                                 "description": "The partner's unique property the field matches (default: email for contacts; required otherwise)."}}}},
    "read_associations": {"type": "array", "items": {"type": "string", "enum": ["contacts", "companies", "deals"]},
                          "uniqueItems": true,
                          "description": "source: also read each record's associations to these object types, as a field associated_<type> (a JSON array of object ids)."},
    "rate_limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100,
                   "description": "Requests per 10 s for this account's bucket when the host knows no limit for it yet (HubSpot: 100 on Free/Starter, 190 on Pro/Enterprise)."},
    "search_rate_limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 4,
                          "description": "source: CRM search requests per second for this account's search bucket when the host knows no limit for it yet (HubSpot allows 5; the default stays one under it)."}
  }
})json";

namespace {

[[noreturn]] void bad_config(const std::string& message) { throw sdk::config_error("hubspot: " + message); }

}  // namespace

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
    c.search_rate_limit = j.value("search_rate_limit", c.search_rate_limit);
    const std::string mode = j.value("mode", "upsert");
    auto parsed = parse_sync_mode(mode);
    if (!parsed) bad_config("mode must be upsert, update_only or insert_only, not '" + mode + "'");
    c.mode = *parsed;
    const Json fields = j.value("fields", Json::object());
    for (const auto& [name, rule] : fields.items()) {
      auto r = rule.is_string() ? parse_field_rule(rule.get<std::string>()) : std::nullopt;
      if (!r) bad_config("fields." + name + " must be overwrite, only_if_empty or never");
      if (*r != FieldRule::kOverwrite) c.field_rules[name] = *r;
    }
    const Json associations = j.value("associations", Json::array());
    for (const Json& a : associations) {
      AssociationSpec spec{a.value("to", ""), a.value("field", ""), a.value("id_property", "")};
      if (spec.id_property.empty() && spec.to == "contacts") spec.id_property = "email";
      const std::string where = "associations (to " + spec.to + ")";
      if (!known_object(spec.to)) bad_config(where + ": to must be contacts, companies or deals");
      if (spec.to == c.object) bad_config(where + ": to must differ from the sink's object");
      if (spec.field.empty()) bad_config(where + ": field is required");
      if (spec.id_property.empty()) {
        bad_config(where + ": id_property is required (the " + singular(spec.to) +
                   " property with unique values that `" + spec.field + "` holds)");
      }
      if (spec.field == c.id_property) bad_config(where + ": field must not be the id_property");
      c.associations.push_back(std::move(spec));
    }
    c.read_associations = j.value("read_associations", c.read_associations);
  } catch (const sdk::Error&) {
    throw;
  } catch (const std::exception& e) {
    bad_config(std::string("config has a value of the wrong type: ") + e.what());
  }
  if (c.token.empty()) bad_config("access_token is empty (is the ${env:...} variable set?)");
  if (!known_object(c.object)) bad_config("object must be contacts, companies or deals");
  if (c.batch_size < 1 || c.batch_size > kMaxBatch) bad_config("batch_size must be 1..100");
  if (c.search_rate_limit < 1) bad_config("search_rate_limit must be at least 1");
  for (const auto& type : c.read_associations) {
    if (!known_object(type)) bad_config("read_associations: '" + type + "' is not contacts, companies or deals");
  }
  if (c.account.empty()) c.account = token_account(c.token);
  return c;
}

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

void fail(const sdk::HttpResult& r, const std::string& what) {
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

Api::Api(const sdk::Context& context, const Config& config)
    : config_(config), http_(context), search_http_(context) {
  http_.rate_limit("hubspot", config.account, config.rate_limit, 10'000);
  // Burst 1: searches are spaced evenly, so no window of a second ever holds more than the limit.
  search_http_.rate_limit("hubspot-search", config.account, config.search_rate_limit, 1'000, 1);
}

sdk::HttpHeaders Api::headers() const {
  return {{"Authorization", "Bearer " + config_.token}, {"Accept", "application/json"}, {"Content-Type", "application/json"}};
}

sdk::HttpResult Api::get(const std::string& path) const { return http_.get(config_.base_url + path, headers()); }

sdk::HttpResult Api::post(const std::string& path, const Json& body) const {
  return http_.post(config_.base_url + path, body.dump(), headers());
}

sdk::HttpResult Api::search(const std::string& type, const Json& body) const {
  return search_http_.post(config_.base_url + "/crm/v3/objects/" + type + "/search", body.dump(), headers());
}

std::map<std::string, HeldObject> Api::read_by_key(const std::string& type, const std::string& id_property,
                                                   const std::vector<std::string>& keys,
                                                   const std::vector<std::string>& properties) const {
  const bool by_object_id = id_property == "hs_object_id";
  std::map<std::string, HeldObject> held;
  for (size_t start = 0; start < keys.size(); start += kMaxBatch) {
    Json inputs = Json::array();
    for (size_t i = start; i < keys.size() && i < start + kMaxBatch; ++i) inputs.push_back({{"id", keys[i]}});
    Json request = {{"inputs", inputs}, {"properties", properties}};
    if (!by_object_id) {
      request["idProperty"] = id_property;
      request["properties"].push_back(id_property);
    }
    const std::string what = "lookup of " + std::to_string(inputs.size()) + " " + type + " by " + id_property;
    sdk::HttpResult r = post("/crm/v3/objects/" + type + "/batch/read", request);
    if (!r.ok() && r.status == 400) {
      // HubSpot refuses the whole lookup when the property is not a unique one: a configuration error.
      const std::string says = hubspot_says(r.body);
      throw sdk::config_error("hubspot: " + what + " refused: " + (says.empty() ? r.error : says) + "; is '" + id_property +
                              "' a " + singular(type) + " property with unique values?");
    }
    if (!r.ok()) fail(r, what);
    Json body = parse_body(r, what);
    // 207 lists the keys it does not hold under errors: they stay absent. Results are matched by the value read.
    for (const Json& item : body.value("results", Json::array())) {
      if (!item.is_object() || !item.contains("id") || !item["id"].is_string()) continue;
      const Json props = item.value("properties", Json::object());
      if (!props.is_object()) continue;
      std::string key = item["id"].get<std::string>();
      if (!by_object_id) {
        if (!props.contains(id_property) || !props[id_property].is_string()) continue;
        key = normalise_key(id_property, props[id_property].get<std::string>());
      }
      HeldObject object{item["id"].get<std::string>(), {}};
      for (const auto& [name, value] : props.items()) {
        object.properties[name] = value.is_null() ? std::nullopt
                                                  : std::optional<std::string>(value.is_string() ? value.get<std::string>()
                                                                                                 : value.dump());
      }
      held[key] = std::move(object);
    }
  }
  return held;
}

}  // namespace conflux::plugins::hubspot
