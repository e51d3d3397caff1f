// The "hubspot" connector: a source of HubSpot CRM objects (streams contacts, companies, deals; incremental through
// CRM search on the last-modified date, optionally with their associations) and a sink that batch-upserts one
// object type by an id property (sync modes, field rules, associations, mirror deletes). All HTTP goes through the
// host (conflux::sdk::Http): retries of 429/5xx with Retry-After, the process-wide rate limits per (hubspot,
// account) and (hubspot-search, account), redacted logs.
//
//   hubspot_client  config, the HTTP client, error mapping, lookups by id property
//   hubspot_source  the stream reader
//   hubspot_sink    the write path
//   hubspot_model   pure helpers (cursor, times, chunking, sync-mode planning), unit-tested
#include <conflux/sdk/plugin.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "hubspot_client.hpp"
#include "hubspot_sink.hpp"
#include "hubspot_source.hpp"

namespace conflux::plugins::hubspot {
namespace {

class HubSpot : public sdk::Plugin {
 public:
  explicit HubSpot(const sdk::Context& context)
      : Plugin(context), config_(parse_config(context.config_json())), sink_(context, config_) {}

  void check() override {
    Api api(context(), config_);
    sdk::HttpResult r = api.get("/crm/v3/objects/" + config_.object + "?limit=1");
    if (!r.ok()) fail(r, "reading " + config_.object);
  }

  std::string discover() override {
    Json streams = Json::array();
    for (const char* type : {"contacts", "companies", "deals"}) {
      Json fields = {{"id", "string"}, {"createdAt", "string"}, {"updatedAt", "string"}, {"archived", "bool"},
                     {modified_property(type), "string"}};
      for (const auto& p : config_.properties) fields[p] = "string";
      for (const auto& to : config_.read_associations) {
        if (to != type) fields["associated_" + to] = "json";
      }
      streams.push_back({{"name", type}, {"fields", fields}});
    }
    return Json{{"streams", streams}}.dump();
  }

  std::unique_ptr<sdk::StreamReader> open_stream(std::string_view stream, std::string_view cursor) override {
    if (!known_object(stream)) {
      throw sdk::config_error("hubspot: no stream '" + std::string(stream) + "' (streams: contacts, companies, deals)");
    }
    auto decoded = decode_cursor(cursor);
    if (!decoded) {
      throw sdk::config_error("hubspot: unreadable cursor '" + std::string(cursor) + "' for stream " +
                              std::string(stream) + "; run `conflux state reset`");
    }
    return open_reader(context(), config_, std::string(stream), *decoded);
  }

  void write_batch(const sdk::BatchView& batch, sdk::Results& results) override { sink_.write(batch, results); }
  void delete_batch(const sdk::BatchView& batch, sdk::Results& results) override { sink_.remove(batch, results); }

 private:
  Config config_;
  Sink sink_;
};

}  // namespace
}  // namespace conflux::plugins::hubspot

CONFLUX_PLUGIN(conflux::plugins::hubspot::HubSpot,
               {"hubspot", "1.1.0", CONFLUX_KIND_SOURCE | CONFLUX_KIND_SINK,
                "HubSpot CRM: reads contacts, companies and deals incrementally (with associations); batch-upserts by "
                "an id property with sync modes, field rules, associations and mirror deletes",
                conflux::plugins::hubspot::kConfigSchema, R"(["contacts","companies","deals"])", /*deletes=*/true})
