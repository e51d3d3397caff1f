// A generic, platform-neutral REST dialect over the RecordStore: the model for platform modules (HubSpot,
// Salesforce, amoCRM, Bitrix24), each of which registers its own paths and shapes the same way.
//
//   GET  <prefix>/{collection}?limit=N&after=CURSOR&updated_since=TIME
//        -> 200 {"results":[{"id","properties","createdAt","updatedAt"}], "total":N,
//                "paging":{"next":{"after":CURSOR}}}          ("paging" only when another page follows)
//   GET  <prefix>/{collection}/{id}            -> 200 record | 404
//   POST <prefix>/{collection}/batch/upsert    {"inputs":[{"id":..,"idProperty":..,"properties":{..}}]}
//        -> 200 {"results":[{"id","created","properties",...}]}, or 207 with "errors":[{"index","message"}] when
//           some inputs failed (no properties object, or a partial_batch fault); 400 when over max_batch inputs.
// Unknown collections are 404; a bad cursor or time is 400.
#pragma once

#include <string>

#include "fake_server/fake_server.hpp"

namespace conflux::test::fake {

struct GenericApiOptions {
  std::string prefix = "/api";
  size_t max_page_size = 100;
  size_t default_page_size = 10;
  size_t max_batch = 100;
};

void install_generic_api(FakeServer& server, GenericApiOptions options = {});

// The JSON shape of a record in the generic dialect.
nlohmann::json generic_record_json(const StoredRecord& record);

}  // namespace conflux::test::fake
