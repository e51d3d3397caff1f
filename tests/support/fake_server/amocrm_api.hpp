// The amoCRM API v4 dialect of the fake server, shaped after amoCRM's public v4 documentation (contacts, leads,
// filters, account, pipelines) and /work/shared/specs/API-FACTS.md (amoCRM section): bearer auth on the account's
// own host, page/limit paging with HAL bodies, filters and ordering for incremental reads, array creates and updates
// with per-item validation errors, and the 7 requests per second limit.
//
//   GET   /api/v4/account                   -> {"id","name","subdomain","currency","currency_symbol",...}
//   GET   /api/v4/leads/pipelines           -> {"_embedded":{"pipelines":[{"id","name","is_main",
//                                                "_embedded":{"statuses":[{"id","name","sort","type"}]}}]}}
//   GET   /api/v4/{contacts|leads}?page=N&limit=L (max 250)&query=TEXT&filter[id][]=ID...
//         &filter[updated_at][from]=S&filter[updated_at][to]=S&order[updated_at|id|created_at]=asc|desc&with=contacts
//         -> 200 application/hal+json {"_page":N,"_links":{"self","next"?},"_embedded":{"<entity>":[...]}},
//            or 204 with no body when the page is empty. Ties of the order are in ascending id order.
//   POST  /api/v4/{contacts|leads}  [{...,"request_id":".."}]   (1..250 entities) -> 200 {"_embedded":{"<entity>":
//         [{"id","request_id","_links"}]}}
//   PATCH /api/v4/{contacts|leads}  [{"id":N,...}]              -> 200 {"_embedded":{"<entity>":[{"id","updated_at",
//         "request_id"}]}}
//
// Entities: contacts {id, name, first_name, last_name, responsible_user_id, created_at, updated_at (unix seconds),
// custom_fields_values, _embedded.tags/companies}; leads add price, status_id, pipeline_id, closed_at and, with
// `with=contacts`, _embedded.contacts [{id, is_main}]. custom_fields_values: [{field_id, field_name, field_code,
// field_type, values:[{value, enum_id, enum_code}]}]. Writes name custom fields by field_id or field_code; an update
// replaces the values of each field it names and keeps the others. A lead write links contacts by
// _embedded.contacts [{id, is_main?}] (the first is main when none says so) and tags by _embedded.tags [{name}].
//
// Errors are application/problem+json {"title","type","status","detail"}. A wrong or missing token is 401. A write
// that any entity fails is refused whole: 400 with "validation-errors":[{"request_id","errors":[{"code","path",
// "detail"}]}] for each failing entity (a bad e-mail, an enum_code the field does not have, an unknown field, status
// or id, a partial_batch fault), and nothing is stored. Over the rate limit (a rolling window) a 429, with
// Retry-After only when the options set one: amoCRM documents no Retry-After. The error `code` values are the
// fake's own: amoCRM's documentation shows the shape, not the list.
//
// Deletes are not served: API v4 has no delete for contacts or leads.
#pragma once

#include <cstdint>
#include <string>

#include "fake_server/fake_server.hpp"

namespace conflux::test::fake {

struct AmoCrmApiOptions {
  std::string token;                 // the bearer token every request must carry; "" = no auth
  std::string subdomain = "example";
  std::string currency = "RUB";
  size_t max_page_size = 250;        // `limit` is clamped to this
  size_t max_batch = 250;            // entities per POST/PATCH; more is 400
  int rate_limit_requests = 7;       // per window, for the whole account; 0 = unlimited
  int rate_limit_window_ms = 1000;
  std::string retry_after;           // Retry-After of a 429; "" = none
  // Extra custom fields: {"contacts":[{"id":N,"name":"..","code":"..","type":"text"}], "leads":[...]}.
  nlohmann::json custom_fields = nlohmann::json::object();
  // {"subdomain","currency","max_page_size","max_batch","rate_limit_requests","rate_limit_window_ms",
  //  "retry_after","custom_fields"}
  static AmoCrmApiOptions from_json(const nlohmann::json& j, std::string token);
};

void install_amocrm_api(FakeServer& server, AmoCrmApiOptions options = {});

}  // namespace conflux::test::fake
