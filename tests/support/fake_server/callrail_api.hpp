// The CallRail API v3 calls dialect of the fake server, shaped after /work/shared/specs/API-FACTS.md (CallRail row;
// its sources are secondary: CallRail publishes no OpenAPI file): `Authorization: Token token="KEY"`, offset
// pagination by `page`/`per_page` (default 100, calls at most 250), and the `start_date` filter.
//
//   GET /v3/a/{account_id}/calls.json?page=N&per_page=M&start_date=TIME&sort=start_time&order=asc|desc
//       -> 200 {"page":N,"per_page":M,"total_pages":P,"total_records":R,"calls":[call]}
//   call: {"id", and every stored property: "answered", "customer_name", "customer_phone_number", "direction",
//          "duration", "start_time", "tracking_phone_number", "source", ...}
//
// start_date keeps calls whose start_time is at or after it (a date or a date-time with an offset). Calls are listed
// by start_time, newest first, unless order=asc; ties in id order. per_page above 250 is a 400, and so is an
// unreadable page, per_page or start_date. A page past the last is empty. A wrong or missing token is 401 (the body
// shape is not documented in the facts; this one is {"error": "..."}); an unknown account is 404. The store's
// collection named by the account id holds the calls; calls arrive through the test control POST /__store.
#pragma once

#include <string>

#include "fake_server/fake_server.hpp"

namespace conflux::test::fake {

struct CallRailApiOptions {
  std::string api_key;  // the key `Authorization: Token token="..."` must carry; "" = no auth
  size_t max_per_page = 250;
  size_t default_per_page = 100;
};

void install_callrail_api(FakeServer& server, CallRailApiOptions options = {});

}  // namespace conflux::test::fake
