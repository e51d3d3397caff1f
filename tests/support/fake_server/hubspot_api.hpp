// The HubSpot CRM v3 dialect of the fake server, shaped after /work/shared/specs/API-FACTS.md (HubSpot section) and
// HubSpot's public OpenAPI spec: bearer auth with HubSpot's error body, cursor paging, CRM search for incremental
// reads, batch upsert by an id property, the 10-secondly rolling limit and a daily quota, both per token.
//
//   GET  /crm/v3/objects/{type}?limit=N&after=CURSOR&properties=a,b
//        -> 200 {"results":[{"id","properties","createdAt","updatedAt","archived"}],
//                "paging":{"next":{"after":CURSOR,"link":URL}}}        ("paging" only when another page follows)
//   POST /crm/v3/objects/{type}/search
//        {"filterGroups":[{"filters":[{"propertyName":"lastmodifieddate","operator":"GT"|"GTE","value":MS}]}],
//         "sorts":[{"propertyName":"lastmodifieddate","direction":"ASCENDING"}],"properties":[..],"limit":N,
//         "after":OFFSET}
//        -> 200 {"total":N,"results":[..],"paging":{"next":{"after":OFFSET}}}; ties in the sort are in id order.
//   POST /crm/v3/objects/{type}/batch/upsert {"inputs":[{"id":..,"idProperty":"email","properties":{..}}]}
//        -> 200 {"status":"COMPLETE","results":[{"id","new",...}]}, or 207 with "errors":[{"status":"error",
//           "category":"VALIDATION_ERROR","message",..,"context":{"ids":[input id]}}] for inputs it refused
//           (invalid email, non-string property value, a partial_batch fault); 400 above max_batch inputs.
//
// {type} is contacts, companies or deals. The modified-time property is `lastmodifieddate` for contacts and
// `hs_lastmodifieddate` for companies and deals (HubSpot's default properties); search accepts either name.
// Errors use HubSpot's body {"status":"error","message","correlationId","category"}. A wrong or missing token is
// 401 INVALID_AUTHENTICATION; over the rolling limit a 429 with Retry-After and policyName TEN_SECONDLY_ROLLING; over
// the daily quota a 429 with policyName DAILY and X-HubSpot-RateLimit-Daily-Remaining: 0. Associations are not
// served: API-FACTS documents no association endpoint.
#pragma once

#include <cstdint>
#include <string>

#include "fake_server/fake_server.hpp"

namespace conflux::test::fake {

struct HubSpotApiOptions {
  std::string token;                 // the bearer token every request must carry; "" = no auth
  size_t max_page_size = 100;        // GET and search `limit` are clamped to this
  size_t max_batch = 100;            // batch upsert inputs; more is 400
  int rate_limit_requests = 100;     // per token per window; 0 = unlimited
  int rate_limit_window_ms = 10000;  // HubSpot's TEN_SECONDLY_ROLLING window
  int64_t daily_limit = 0;           // requests per token per day; 0 = unlimited
  // {"max_page_size":..,"max_batch":..,"rate_limit_requests":..,"rate_limit_window_ms":..,"daily_limit":..}
  static HubSpotApiOptions from_json(const nlohmann::json& j, std::string token);
};

void install_hubspot_api(FakeServer& server, HubSpotApiOptions options = {});

// The modified-time property of an object type: lastmodifieddate (contacts) or hs_lastmodifieddate.
std::string hubspot_modified_property(const std::string& type);

}  // namespace conflux::test::fake
