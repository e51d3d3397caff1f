#include "hubspot_source.hpp"

#include <algorithm>
#include <vector>

namespace conflux::plugins::hubspot {
namespace {

// One stream: pages through CRM search with filter modified >= cursor time, sorted ascending, and skips what the
// cursor already covers. Every request starts from the cursor's time, so a record modified while we read moves
// behind the cursor and is read later, never lost; `after` is used only to get past a full page of ties already
// emitted. With read_associations, each page's new records get their associations by one batch read per type.
class Reader : public sdk::StreamReader {
 public:
  Reader(const sdk::Context& context, const Config& config, std::string type, Cursor cursor)
      : config_(config), api_(context, config_), type_(std::move(type)), modified_(modified_property(type_)),
        cursor_(std::move(cursor)) {}

  bool read_batch(size_t max_records, sdk::Emitter& out) override {
    const size_t limit = std::clamp<size_t>(max_records, 1, kMaxBatch);
    Json request = {{"sorts", Json::array({{{"propertyName", modified_}, {"direction", "ASCENDING"}}})},
                    {"limit", limit}};
    if (!cursor_.empty()) {
      request["filterGroups"] = Json::array({{{"filters", Json::array({{{"propertyName", modified_},
                                                                       {"operator", "GTE"},
                                                                       {"value", std::to_string(cursor_.modified_ms)}}})}}});
    }
    if (!config_.properties.empty()) {
      std::vector<std::string> wanted = config_.properties;
      wanted.push_back(modified_);  // the cursor needs it
      request["properties"] = wanted;
    }
    if (skip_ > 0) request["after"] = std::to_string(skip_);
    sdk::HttpResult r = api_.search(type_, request);
    if (!r.ok()) fail(r, "search " + type_);
    Json body = parse_body(r, "search " + type_);
    if (!body.contains("results") || !body["results"].is_array()) {
      throw sdk::retry_error("hubspot: search " + type_ + ": the response has no results array");
    }
    // The page's records the cursor has not covered yet, in order.
    struct Fresh {
      const Json* item;
      std::string id;
      int64_t modified_ms;
    };
    std::vector<Fresh> fresh;
    const Json& results = body["results"];
    Cursor after = cursor_;
    for (const Json& item : results) {
      std::string id = item.contains("id") && item["id"].is_string() ? item["id"].get<std::string>() : "";
      std::optional<int64_t> ms;
      const Json props = item.value("properties", Json::object());
      if (props.is_object() && props.contains(modified_) && props[modified_].is_string()) {
        ms = parse_time_ms(props[modified_].get<std::string>());
      }
      if (!ms && item.contains("updatedAt") && item["updatedAt"].is_string()) {
        ms = parse_time_ms(item["updatedAt"].get<std::string>());
      }
      if (id.empty() || !all_digits(id) || !ms || !props.is_object()) {
        out.invalid(0, "hubspot: a " + type_ + " search result without a numeric id, properties or modified time",
                    item.dump());
        continue;
      }
      if (!after.before(*ms, id)) continue;  // emitted by an earlier batch or run
      fresh.push_back({&item, id, *ms});
      after = Cursor{*ms, id};
    }
    // Read before emitting: a failed association read retries the whole call with nothing emitted.
    std::map<std::string, std::map<std::string, std::vector<std::string>>> associated;  // type -> id -> ids
    if (!fresh.empty()) {
      std::vector<std::string> ids;
      for (const auto& f : fresh) ids.push_back(f.id);
      for (const auto& to : config_.read_associations) {
        if (to != type_) associated[to] = read_associations(to, ids);
      }
    }
    for (const auto& f : fresh) emit(out, *f.item, f.id, associated);
    cursor_ = after;
    const bool more = body.contains("paging") && body["paging"].is_object() && body["paging"].contains("next");
    // A page with nothing new but a next page is all ties at the cursor's time: step over it with `after`.
    skip_ = (fresh.empty() && more) ? skip_ + results.size() : 0;
    out.cursor(encode_cursor(cursor_));
    if (body.contains("total") && body["total"].is_number_unsigned()) {
      read_ += fresh.size();
      // Total: what we read so far plus what the query still matches (an estimate; it includes skipped ties).
      out.progress(read_, read_ + body["total"].get<uint64_t>() - fresh.size());
    }
    return more;
  }

 private:
  // POST /crm/v4/associations/{type}/{to}/batch/read for up to kMaxBatch ids: id -> associated ids in numeric
  // order. An id HubSpot reports no associations for (a 207 error entry) maps to nothing.
  std::map<std::string, std::vector<std::string>> read_associations(const std::string& to,
                                                                    const std::vector<std::string>& ids) const {
    Json inputs = Json::array();
    for (const auto& id : ids) inputs.push_back({{"id", id}});
    const std::string what = "reading the " + to + " associations of " + std::to_string(ids.size()) + " " + type_;
    sdk::HttpResult r = api_.post("/crm/v4/associations/" + type_ + "/" + to + "/batch/read", Json{{"inputs", inputs}});
    if (!r.ok()) fail(r, what);
    Json body = parse_body(r, what);
    std::map<std::string, std::vector<std::string>> out;
    for (const Json& item : body.value("results", Json::array())) {
      if (!item.is_object() || !item.contains("from") || !item["from"].is_object()) continue;
      const Json from = item["from"].value("id", Json());
      if (!from.is_string()) continue;
      auto& list = out[from.get<std::string>()];
      for (const Json& target : item.value("to", Json::array())) {
        const Json id = target.is_object() ? target.value("toObjectId", Json()) : Json();
        // The spec types toObjectId as a string; a number is taken too.
        if (id.is_string()) list.push_back(id.get<std::string>());
        else if (id.is_number_unsigned()) list.push_back(std::to_string(id.get<uint64_t>()));
      }
      std::sort(list.begin(), list.end(), [](const std::string& a, const std::string& b) { return compare_ids(a, b) < 0; });
      list.erase(std::unique(list.begin(), list.end()), list.end());
    }
    return out;
  }

  // Flat record: id, every property as text (null when HubSpot has none), createdAt, updatedAt, archived, and per
  // read_associations type an associated_<type> JSON array of ids ([] when none).
  void emit(sdk::Emitter& out, const Json& item, const std::string& id,
            const std::map<std::string, std::map<std::string, std::vector<std::string>>>& associated) const {
    out.begin().add_string("id", id);
    for (const auto& [name, value] : item["properties"].items()) {
      if (name == "id") continue;
      if (value.is_null()) {
        out.add_null(name);
      } else {
        out.add_string(name, value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
    for (const char* key : {"createdAt", "updatedAt"}) {
      if (item.contains(key) && item[key].is_string()) out.add_string(key, item[key].get<std::string>());
    }
    out.add_bool("archived", item.value("archived", false));
    for (const auto& [to, by_id] : associated) {
      auto ids = by_id.find(id);
      out.add_json("associated_" + to, ids == by_id.end() ? "[]" : Json(ids->second).dump());
    }
    out.end(0);
  }

  const Config config_;
  Api api_;
  std::string type_;
  std::string modified_;
  Cursor cursor_;
  size_t skip_ = 0;
  uint64_t read_ = 0;
};

}  // namespace

std::unique_ptr<sdk::StreamReader> open_reader(const sdk::Context& context, const Config& config, std::string type,
                                               Cursor cursor) {
  return std::make_unique<Reader>(context, config, std::move(type), std::move(cursor));
}

}  // namespace conflux::plugins::hubspot
