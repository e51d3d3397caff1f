// The hubspot connector's config and its HTTP client: every request goes through the host's toolkit
// (conflux::sdk::Http, ABI 1.1) with HubSpot's bearer auth and the host's rate limits, and every failure becomes the
// error the host classified, with HubSpot's own message.
#pragma once

#include <conflux/sdk/plugin.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hubspot_model.hpp"

namespace conflux::plugins::hubspot {

namespace sdk = conflux::sdk;
using Json = nlohmann::json;

// sink: "associate each record with the `to` object whose `id_property` equals the record's `field`".
struct AssociationSpec {
  std::string to;           // contacts, companies or deals; not the sink's own object
  std::string field;        // the record field holding the partner's id-property value; never sent as a property
  std::string id_property;  // the partner's unique property (default email for contacts)
};

struct Config {
  std::string base_url = "https://api.hubapi.com";
  std::string token;
  std::string account;
  std::string object = "contacts";
  std::string id_property = "email";
  size_t batch_size = kMaxBatch;
  std::vector<std::string> properties;
  uint32_t rate_limit = 100;
  // Searches per second. HubSpot allows 5 per account (its CRM search guide); one under it, so clock jitter between
  // us and HubSpot never trips its window (4 was HubSpot's earlier documented figure).
  uint32_t search_rate_limit = 4;
  SyncMode mode = SyncMode::kUpsert;
  std::map<std::string, FieldRule> field_rules;  // only the rules that are not overwrite
  std::vector<AssociationSpec> associations;
  std::vector<std::string> read_associations;

  // A lookup of the target's copy is needed before writing (a mode other than upsert or a field rule).
  bool needs_lookup() const { return mode != SyncMode::kUpsert || !field_rules.empty(); }
};

// The plugin's config JSON Schema (the host validates against it before parse_config runs).
extern const char* const kConfigSchema;

// Parses and checks the config; throws sdk::config_error naming the key at fault.
Config parse_config(const std::string& text);

// HubSpot's error body {"status":"error","message":..,"category":..,"correlationId":..} as one line, or "".
std::string hubspot_says(const std::string& body);

// Throws the error the host classified, with HubSpot's own message. 401/403 become one CONFIG error that names the
// fix; QUOTA stops the run with committed batches kept; RETRY/TIMEOUT let the host retry the call.
[[noreturn]] void fail(const sdk::HttpResult& r, const std::string& what);

// The body as a JSON object; a body that is not one (cut short) is a retryable error, never half a page.
Json parse_body(const sdk::HttpResult& r, const std::string& what);

// A HubSpot object found by a lookup: its id and the properties read (nullopt = no value).
struct HeldObject {
  std::string id;
  std::map<std::string, std::optional<std::string>> properties;
};

class Api {
 public:
  // Every request draws from the host's (hubspot, account) bucket; searches from (hubspot-search, account), which
  // paces them at HubSpot's search limit.
  Api(const sdk::Context& context, const Config& config);

  sdk::HttpResult get(const std::string& path) const;
  sdk::HttpResult post(const std::string& path, const Json& body) const;
  sdk::HttpResult search(const std::string& type, const Json& body) const;

  // Looks `type` objects up by the values of their unique property `id_property` (already normalised keys; with
  // hs_object_id the values are object ids), kMaxBatch per request, and reads `properties` of each. Returns
  // key -> object for those HubSpot holds; a key it does not hold is absent.
  std::map<std::string, HeldObject> read_by_key(const std::string& type, const std::string& id_property,
                                                const std::vector<std::string>& keys,
                                                const std::vector<std::string>& properties) const;

 private:
  sdk::HttpHeaders headers() const;
  const Config& config_;
  sdk::Http http_;
  sdk::Http search_http_;
};

}  // namespace conflux::plugins::hubspot
