// ABI-level test of http_request: the host loads tests/plugins/http_source.cpp, which reads the fake server through
// conflux::sdk::Http. Proves the request crosses the ABI with its headers, the host retries a 429 for the plugin,
// and each failure class arrives as the code the host maps to the right Status (auth -> fix config, quota ->
// resource exhausted).
#include <catch2/catch.hpp>

#include "conflux/plugin_host/plugin_host.hpp"
#include "fake_server/fake_server.hpp"
#include "fake_server/generic_api.hpp"

namespace fake = conflux::test::fake;
using conflux::StatusCode;

namespace {

struct Setup {
  fake::FakeServer server;
  conflux::plugin_host::PluginHost host{{CONFLUX_TEST_PLUGIN_DIR}};
  std::shared_ptr<conflux::plugin_host::LoadedPlugin> plugin;

  Setup() {
    nlohmann::json contacts = nlohmann::json::array();
    for (int i = 1; i <= 25; ++i) {
      contacts.push_back({{"id", std::to_string(i)}, {"properties", {{"email", "c" + std::to_string(i) + "@x.io"}}}});
    }
    server.store().load({{"contacts", contacts}});
    server.set_auth(fake::Auth{fake::Auth::Kind::kBearer, "plugin-token-5150", ""});
    fake::install_generic_api(server);
    server.start();
    auto loaded = host.load("http_source");
    INFO(loaded.status().to_string());
    REQUIRE(loaded.is_ok());
    plugin = *loaded;
    CHECK(plugin->manifest().abi_version == CONFLUX_ABI_VERSION);
  }

  std::shared_ptr<conflux::plugin_host::PluginInstance> instance(const std::string& token) {
    conflux::plugin_host::InstanceOptions options;
    options.logger_name = "test/http/http_source";
    options.retries = 0;  // the HTTP client retries; the host's call retries would hide what it did
    auto created = plugin->instantiate({{"base_url", server.base_url()}, {"token", token}}, options);
    INFO(created.status().to_string());
    REQUIRE(created.is_ok());
    return *created;
  }
};

// Reads the stream to its end from `cursor`; returns the ids, the last cursor and the first failure.
struct ReadAll {
  std::vector<std::string> ids;
  std::string cursor;
  conflux::Status status;
  int64_t max_attempts = 0;
};

ReadAll read_all(conflux::plugin_host::PluginInstance& instance, const std::string& cursor, size_t batch) {
  ReadAll out;
  auto source = instance.as_source();
  auto stream = source->open("contacts", cursor);
  if (!stream.is_ok()) {
    out.status = stream.status();
    return out;
  }
  for (int guard = 0; guard < 100; ++guard) {
    conflux::engine::SourceBatch b;
    out.status = (*stream)->read(batch, b);
    if (!out.status.is_ok()) return out;
    for (const auto& r : b.records) {
      out.ids.push_back(r.find("id")->text);
      out.max_attempts = std::max(out.max_attempts, r.find("attempts")->int_value);
    }
    if (b.cursor) out.cursor = *b.cursor;
    if (b.end) break;
  }
  return out;
}

}  // namespace

TEST_CASE("a plugin pages through the fake server with http_request", "[http][plugin_host][abi]") {
  Setup s;
  auto instance = s.instance("plugin-token-5150");
  CHECK(instance->check().is_ok());
  // A 429 with Retry-After: 0 on the second page: the host retries it, the plugin never sees it.
  fake::Fault limited;
  limited.kind = fake::Fault::Kind::kRateLimit;
  limited.retry_after = "0";
  s.server.add_fault(limited);
  ReadAll all = read_all(*instance, "", 10);
  INFO(all.status.to_string());
  REQUIRE(all.status.is_ok());
  REQUIRE(all.ids.size() == 25);
  CHECK(all.ids.front() == "1");
  CHECK(all.ids.back() == "25");
  CHECK(all.max_attempts == 2);
  CHECK(s.server.count_status(429) == 1);
  CHECK(s.server.connection_count() == 1);  // every page and the retry went over one connection

  // Resuming from the cursor after the first page reads the rest, as a second run would.
  auto resumed = s.instance("plugin-token-5150");
  ReadAll first_page;
  {
    auto source = resumed->as_source();
    auto stream = source->open("contacts", "");
    REQUIRE(stream.is_ok());
    conflux::engine::SourceBatch b;
    REQUIRE((*stream)->read(10, b).is_ok());
    REQUIRE(b.cursor);
    first_page.cursor = *b.cursor;
  }
  ReadAll rest = read_all(*resumed, first_page.cursor, 10);
  REQUIRE(rest.status.is_ok());
  REQUIRE(rest.ids.size() == 15);
  CHECK(rest.ids.front() == "11");
}

TEST_CASE("http_request failures reach the host as the codes that say what to do", "[http][plugin_host][abi]") {
  Setup s;
  SECTION("wrong credentials: fix the configuration, no retry") {
    auto instance = s.instance("wrong-token-0000");
    conflux::Status checked = instance->check();
    CHECK(checked.code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(checked.message(), Catch::Contains("HTTP 401"));
    CHECK(s.server.request_count() == 1);
  }
  SECTION("daily quota used up: resource exhausted, not retried") {
    fake::Fault daily;
    daily.kind = fake::Fault::Kind::kRateLimit;
    daily.count = 3;
    daily.body = R"({"status":"error","errorType":"RATE_LIMIT","policyName":"DAILY","message":"daily limit"})";
    s.server.add_fault(daily);
    auto instance = s.instance("plugin-token-5150");
    ReadAll all = read_all(*instance, "", 10);
    CHECK(all.status.code() == StatusCode::kResourceExhausted);
    CHECK_FALSE(all.status.retryable());
    CHECK(s.server.count_status(429) == 1);
  }
  SECTION("a bad cursor is the request's fault: fatal") {
    auto instance = s.instance("plugin-token-5150");
    ReadAll all = read_all(*instance, "not-a-cursor", 10);
    CHECK(all.status.code() == StatusCode::kInternal);
    CHECK_THAT(all.status.message(), Catch::Contains("HTTP 400"));
  }
  SECTION("a server that keeps failing: retryable once the client's retries are spent") {
    fake::Fault burst;
    burst.kind = fake::Fault::Kind::kServerError;
    burst.status = 503;
    burst.count = 100;
    burst.retry_after = "0";  // honoured on a 503: the shared client (real clock) retries without waiting
    s.server.add_fault(burst);
    auto instance = s.instance("plugin-token-5150");
    auto started = std::chrono::steady_clock::now();
    ReadAll all = read_all(*instance, "", 10);
    CHECK(all.status.code() == StatusCode::kUnavailable);
    CHECK(all.status.retryable());
    CHECK(s.server.count_status(503) == 5);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  }
}
