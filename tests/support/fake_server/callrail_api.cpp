#include "fake_server/callrail_api.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace conflux::test::fake {
namespace {

using Json = nlohmann::json;

bool authorised(const Request& request, const CallRailApiOptions& options) {
  if (options.api_key.empty()) return true;
  auto header = request.header("Authorization");
  return header && (*header == "Token token=\"" + options.api_key + "\"" || *header == "Token token=" + options.api_key);
}

std::optional<size_t> number_param(const Request& request, const std::string& name, size_t fallback) {
  auto text = request.param(name);
  if (!text) return fallback;
  if (text->empty() || text->size() > 9 ||
      !std::all_of(text->begin(), text->end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::nullopt;
  }
  return static_cast<size_t>(std::stoul(*text));
}

std::optional<int64_t> start_time_ms(const StoredRecord& r) {
  auto it = r.properties.find("start_time");
  if (it == r.properties.end() || !it->is_string()) return std::nullopt;
  return parse_time(it->get<std::string>());
}

Json call_json(const StoredRecord& r) {
  Json call = {{"id", r.id}};
  for (const auto& [k, v] : r.properties.items()) call[k] = v;
  return call;
}

}  // namespace

void install_callrail_api(FakeServer& server, CallRailApiOptions options) {
  RecordStore& store = server.store();
  server.route("GET", "/v3/a/{account_id}/calls.json", [&store, options](const Request& request) {
    if (!authorised(request, options)) return Response::json(401, {{"error", "HTTP Token: Access denied."}});
    const std::string& account = request.path_params.at("account_id");
    if (!store.has_collection(account)) return Response::json(404, {{"error", "Account not found"}});
    auto page = number_param(request, "page", 1);
    auto per_page = number_param(request, "per_page", options.default_per_page);
    if (!page || *page < 1 || !per_page || *per_page < 1 || *per_page > options.max_per_page) {
      return Response::json(400, {{"error", "page must be 1 or more and per_page 1 to " +
                                                std::to_string(options.max_per_page)}});
    }
    std::optional<int64_t> since;
    if (auto start = request.param("start_date")) {
      since = parse_time(*start);
      if (!since) return Response::json(400, {{"error", "start_date is not a date: " + *start}});
    }
    RecordStore::Query query;
    query.limit = std::numeric_limits<size_t>::max();
    std::vector<std::pair<int64_t, StoredRecord>> calls;
    auto listed = store.list(account, query);
    for (auto& r : listed->records) {
      auto t = start_time_ms(r);
      if (!t) continue;  // a call without a start time is not listed
      if (since && *t < *since) continue;
      calls.emplace_back(*t, std::move(r));
    }
    const bool ascending = request.param("order").value_or("desc") == "asc";
    std::stable_sort(calls.begin(), calls.end(), [&](const auto& a, const auto& b) {
      return ascending ? a.first < b.first : a.first > b.first;
    });
    const size_t total_pages = (calls.size() + *per_page - 1) / *per_page;
    Json body = {{"page", *page},
                 {"per_page", *per_page},
                 {"total_pages", total_pages},
                 {"total_records", calls.size()},
                 {"calls", Json::array()}};
    for (size_t i = (*page - 1) * *per_page; i < calls.size() && i < *page * *per_page; ++i) {
      body["calls"].push_back(call_json(calls[i].second));
    }
    return Response::json(200, body);
  });
}

}  // namespace conflux::test::fake
