// The Bitrix24 REST dialect of the fake server, shaped after /work/shared/specs/API-FACTS.md (Bitrix24 section) and
// Bitrix24's REST documentation (github.com/bitrix24/b24restdocs): CRM contacts, leads and deals behind an inbound
// webhook or an OAuth token, 50-row list pages, `batch`, Bitrix24's error bodies and its leaky-bucket limit.
//
//   POST|GET /rest/{user_id}/{secret}/{method}[.json]   inbound webhook (the secret is part of the path)
//   POST|GET /rest/{method}[.json]?auth=TOKEN           OAuth (auth in the query, a JSON body or a form body)
//
// Parameters come from the query string, a JSON body or a form body, PHP style (filter[>ID]=5, select[]=ID).
// Methods, for {entity} = contact, lead, deal:
//   crm.{entity}.list   select[] (default: every non-multi field; EMAIL / PHONE only when named), filter (prefixes
//                       >=, >, <=, <, =, !=, !, @ (IN), !@, % (substring); EMAIL / PHONE match any entry exactly),
//                       order {FIELD: ASC|DESC} (ties by ID ascending), start (a multiple of 50; -1 = no count)
//                       -> {"result":[..50 items],"total":N,"next":start+50 (only when more),"time":{..}};
//                       with start=-1: "total":0 and no "next".
//   crm.{entity}.get    id -> the item;  crm.{entity}.add  fields, params -> the new ID (an integer)
//   crm.{entity}.update id, fields -> true (multi-fields: an entry with ID and VALUE replaces it, with ID and an
//                       empty VALUE or DELETE=Y removes it, without ID is added);  crm.{entity}.delete id -> true
//   crm.duplicate.findbycomm  type EMAIL|PHONE, values (at most 20), entity_type -> {"CONTACT":[ids],..} or []
//   batch               halt, cmd {key: "method?query"} (at most 50; more are ERROR_BATCH_LENGTH_EXCEEDED; no nested
//                       batch, no $result references) -> {"result":{"result":{..},"result_error":{..},
//                       "result_total":{..},"result_next":{..},"result_time":{..}},"time":{..}}; empty maps are [].
// Items: ID, DATE_CREATE and DATE_MODIFY (ISO 8601 in the portal's offset, to the second), every stored field as
// text, multi-fields as [{"ID","VALUE_TYPE","VALUE","TYPE_ID"}], deals with STAGE_SEMANTIC_ID (P, S, F). Adds and
// updates refuse an invalid e-mail (ERROR_CORE), an unknown lead STATUS_ID or deal STAGE_ID; OPPORTUNITY is kept
// with two decimals. Errors are {"error":..,"error_description":..}: a wrong webhook is 401 INVALID_CREDENTIALS; a
// missing, unknown or expired token is 401 NO_AUTH_FOUND, invalid_token or expired_token; a missing record is 400;
// over the leaky bucket (burst X, drained Y per second, per portal) 503 QUERY_LIMIT_EXCEEDED.
// A partial_batch fault fails every Nth command of the next batch with ERROR_CORE. Store collections: contact,
// lead, deal (ids numeric; properties hold the Bitrix24 fields).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fake_server/fake_server.hpp"

namespace conflux::test::fake {

struct Bitrix24ApiOptions {
  std::string webhook_user = "1";          // the user id of the one inbound webhook
  std::string webhook_secret;              // its secret; "" = no webhook route
  std::vector<std::string> tokens;         // OAuth access tokens accepted
  std::vector<std::string> expired_tokens; // tokens answered with expired_token
  int bucket_burst = 50;                   // X: requests the bucket holds; 0 = unlimited
  double bucket_drain = 2;                 // Y: requests drained per second
  int utc_offset_minutes = 180;            // the portal's time zone, as DATE_* values show it
  // {"webhook_user":"1","webhook_secret":"..","tokens":[..],"expired_tokens":[..],"bucket_burst":50,
  //  "bucket_drain":2,"utc_offset_minutes":180}
  static Bitrix24ApiOptions from_json(const nlohmann::json& j);
};

void install_bitrix24_api(FakeServer& server, Bitrix24ApiOptions options = {});

// PHP's parse_str: "a[b][]=1&a[b][]=2&c=3" -> {"a":{"b":["1","2"]},"c":"3"}. Objects whose keys are 0..n-1 become
// arrays. Exposed for tests.
nlohmann::ordered_json parse_php_query(const std::string& query);

}  // namespace conflux::test::fake
