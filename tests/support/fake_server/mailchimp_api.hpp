// The Mailchimp Marketing API 3.0 list-members dialect of the fake server, shaped after
// /work/shared/specs/API-FACTS.md (Mailchimp row) and Mailchimp's OpenAPI spec (shared/specs/mailchimp): HTTP Basic
// auth with the API key as password, `count`/`offset` paging with `total_items`, `since_last_changed`, and
// application/problem+json errors.
//
//   GET /3.0/lists/{list_id}/members?count=N&offset=M&since_last_changed=TIME&sort_field=last_changed&sort_dir=ASC
//       -> 200 {"members":[member],"list_id":..,"total_items":N,"_links":[]}
//   PUT /3.0/lists/{list_id}/members/{subscriber_hash}
//       {"email_address":..,"status_if_new":..,"status":..,"merge_fields":{..}}
//       -> 200 member (added or updated; its last_changed becomes now); 400 when the hash is not the MD5 of the
//          lower-cased email_address
// member: {"id": MD5(lower-cased email), "email_address", "unique_email_id", "status", "merge_fields", "list_id",
//          "timestamp_opt", "last_changed": "2024-03-05T11:22:10+00:00"}
//
// count defaults to 10; above 1000 is a 400 (the spec's maximum). since_last_changed keeps members changed strictly
// after the time ("changed after the set timeframe"), compared at Mailchimp's one-second resolution. Members are
// listed in id order unless sort_field=last_changed (sort_dir ASC or DESC). A wrong or missing key is 401 "API Key
// Invalid"; an unknown list is 404 "Resource Not Found". The store's collection named by the list id holds the
// members: properties email_address, status, merge_fields, timestamp_opt; its updated time is last_changed.
#pragma once

#include <string>

#include "fake_server/fake_server.hpp"

namespace conflux::test::fake {

struct MailchimpApiOptions {
  std::string api_key;    // the password every request's Basic credentials must carry; "" = no auth
  size_t max_count = 1000;
};

void install_mailchimp_api(FakeServer& server, MailchimpApiOptions options = {});

// MD5 of the lower-cased address, hex: Mailchimp's subscriber hash and member id.
std::string mailchimp_subscriber_hash(const std::string& email);

}  // namespace conflux::test::fake
