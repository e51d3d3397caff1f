#include "fake_server/generic_api.hpp"

#include <algorithm>

namespace conflux::test::fake {

nlohmann::json generic_record_json(const StoredRecord& record) {
  return {{"id", record.id},
          {"properties", record.properties},
          {"createdAt", format_time(record.created_ms)},
          {"updatedAt", format_time(record.updated_ms)}};
}

void install_generic_api(FakeServer& server, GenericApiOptions options) {
  RecordStore& store = server.store();

  server.route("GET", options.prefix + "/{collection}", [&store, options](const Request& request) {
    const std::string& collection = request.path_params.at("collection");
    if (!store.has_collection(collection)) return Response::error(404, "no collection '" + collection + "'");
    RecordStore::Query query;
    query.limit = options.default_page_size;
    if (auto limit = request.param("limit")) {
      try {
        query.limit = std::clamp<size_t>(std::stoul(*limit), 1, options.max_page_size);
      } catch (...) {
        return Response::error(400, "limit is not a number");
      }
    }
    query.after = request.param("after").value_or("");
    if (auto since = request.param("updated_since")) {
      query.modified_since_ms = parse_time(*since);
      if (!query.modified_since_ms) return Response::error(400, "updated_since is not a time: " + *since);
    }
    auto page = store.list(collection, query);
    if (!page) return Response::error(400, "invalid cursor '" + query.after + "'");
    nlohmann::json body = {{"results", nlohmann::json::array()}, {"total", page->total}};
    for (const auto& r : page->records) body["results"].push_back(generic_record_json(r));
    if (!page->next.empty()) body["paging"] = {{"next", {{"after", page->next}}}};
    return Response::json(200, body);
  });

  server.route("GET", options.prefix + "/{collection}/{id}", [&store](const Request& request) {
    auto record = store.get(request.path_params.at("collection"), request.path_params.at("id"));
    if (!record) return Response::error(404, "no such record");
    return Response::json(200, generic_record_json(*record));
  });

  server.route("POST", options.prefix + "/{collection}/batch/upsert", [&store, options](const Request& request) {
    const std::string& collection = request.path_params.at("collection");
    auto body = request.json();
    if (!body || !body->is_object() || !(*body)["inputs"].is_array()) {
      return Response::error(400, "body must be {\"inputs\":[...]}");
    }
    const auto& inputs = (*body)["inputs"];
    if (inputs.size() > options.max_batch) {
      return Response::error(400, "at most " + std::to_string(options.max_batch) + " inputs per batch");
    }
    store.create_collection(collection);
    nlohmann::json results = nlohmann::json::array();
    nlohmann::json errors = nlohmann::json::array();
    for (size_t i = 0; i < inputs.size(); ++i) {
      const auto& input = inputs[i];
      if (request.fail_every > 0 && (i + 1) % static_cast<size_t>(request.fail_every) == 0) {
        errors.push_back({{"index", i}, {"message", "injected failure of this input"}});
        continue;
      }
      if (!input.is_object() || !input.contains("properties") || !input["properties"].is_object()) {
        errors.push_back({{"index", i}, {"message", "input has no properties object"}});
        continue;
      }
      std::string id = input.contains("id") ? (input["id"].is_string() ? input["id"].get<std::string>()
                                                                        : input["id"].dump())
                                            : std::string();
      std::string id_property = input.value("idProperty", "");
      auto upserted = store.upsert(collection, id_property, id, input["properties"]);
      nlohmann::json item = generic_record_json(upserted.record);
      item["index"] = i;
      item["created"] = upserted.created;
      item["changed"] = upserted.changed;
      results.push_back(item);
    }
    nlohmann::json out = {{"results", results}};
    if (!errors.empty()) out["errors"] = errors;
    return Response::json(errors.empty() ? 200 : 207, out);
  });
}

}  // namespace conflux::test::fake
