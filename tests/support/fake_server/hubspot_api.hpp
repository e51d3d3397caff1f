// The HubSpot CRM dialect of the fake server, shaped after /work/shared/specs/API-FACTS.md (HubSpot section) and
// HubSpot's public OpenAPI specs (HubSpot/HubSpot-public-api-spec-collection: CRM objects v3, associations v4):
// bearer auth with HubSpot's error body, cursor paging, CRM search for incremental reads, batch upsert / read /
// archive by an id property, default associations kept statefully, the 10-secondly rolling limit, the search
// limit and a daily quota, all per token.
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
//           (invalid email, non-string property value, a partial_batch fault); 400 for duplicate ids.
//   POST /crm/v3/objects/{type}/batch/read {"idProperty":"email","properties":[..],"inputs":[{"id":..}]}
//        -> 200 {"status":"COMPLETE","results":[object..]}, or 207 with one OBJECT_NOT_FOUND error whose
//           context.ids lists the inputs it does not hold. Without idProperty the ids are object ids.
//   POST /crm/v3/objects/{type}/batch/archive {"inputs":[{"id":OBJECT_ID}]} -> 204, held or not; the objects'
//           associations go with them.
//   POST /crm/v4/associations/{from}/{to}/batch/associate/default {"inputs":[{"from":{"id"},"to":{"id"}}]}
//        -> 200 {"status":"COMPLETE","results":[{"from":{"id"},"to":{"id"},"associationSpec":{..}}],
//                "numErrors":N,"errors":[{"category":"VALIDATION_ERROR","message",
//                "context":{"fromObjectId":[..],"toObjectId":[..]}}]}: an input naming an object that does not
//           exist (or hit by a partial_batch fault) is an error; the others are kept, in both directions.
//   POST /crm/v4/associations/{from}/{to}/batch/read {"inputs":[{"id":..}]}
//        -> 200 {"results":[{"from":{"id"},"to":[{"toObjectId","associationTypes":[..]}]}]}, or 207 with an
//           OBJECT_NOT_FOUND error (subCategory crm.associations.NO_ASSOCIATIONS_FOUND) per input with none.
//
// {type}, {from} and {to} are contacts, companies or deals (associations between two different types). The
// modified-time property is `lastmodifieddate` for contacts and `hs_lastmodifieddate` for companies and deals
// (HubSpot's default properties); search accepts either name. Every batch call takes at most max_batch inputs (400
// above). Object ids are allocated in increasing order and never reused.
//
// Errors use HubSpot's body {"status":"error","message","correlationId","category"}. A wrong or missing token is
// 401 INVALID_AUTHENTICATION. Every request counts against the rolling window (over it: 429 with Retry-After,
// policyName TEN_SECONDLY_ROLLING) and the daily quota (over it: 429 policyName DAILY with
// X-HubSpot-RateLimit-Daily-Remaining: 0); searches also against their own window (over it: 429 with Retry-After,
// policyName SECONDLY, the body HubSpot sends for its per-second limits). HubSpot documents the search limit as
// five requests per second per account (its CRM search guide) and earlier as four per second per token (developer
// changelog "CRM Search API Rate Limit Increase"); the fake's default is five.
#pragma once

#include <cstdint>
#include <string>

#include "fake_server/fake_server.hpp"

namespace conflux::test::fake {

struct HubSpotApiOptions {
  std::string token;                 // the bearer token every request must carry; "" = no auth
  size_t max_page_size = 100;        // GET and search `limit` are clamped to this
  size_t max_batch = 100;            // inputs of every batch call; more is 400
  int rate_limit_requests = 100;     // per token per window; 0 = unlimited
  int rate_limit_window_ms = 10000;  // HubSpot's TEN_SECONDLY_ROLLING window
  int search_rate_limit_requests = 5;     // searches per token per search window; 0 = unlimited
  int search_rate_limit_window_ms = 1000;
  int64_t daily_limit = 0;           // requests per token per day; 0 = unlimited
  // {"max_page_size":..,"max_batch":..,"rate_limit_requests":..,"rate_limit_window_ms":..,
  //  "search_rate_limit_requests":..,"search_rate_limit_window_ms":..,"daily_limit":..}
  static HubSpotApiOptions from_json(const nlohmann::json& j, std::string token);
};

void install_hubspot_api(FakeServer& server, HubSpotApiOptions options = {});

// The modified-time property of an object type: lastmodifieddate (contacts) or hs_lastmodifieddate.
std::string hubspot_modified_property(const std::string& type);

}  // namespace conflux::test::fake
