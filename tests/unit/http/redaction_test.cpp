// No secret used in a request reaches the logs: requests carry known secrets in headers, query parameters, form and
// JSON bodies and the URL path; the server echoes everything back in error bodies; retries and OAuth refreshes log
// too. The test captures the process's stderr (where every logger writes) and greps it for each secret.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "../test_support.hpp"
#include "conflux/common/logging.hpp"
#include "conflux/http/client.hpp"
#include "conflux/http/oauth2.hpp"
#include "conflux/http/redact.hpp"
#include "fake_server/fake_server.hpp"

using namespace std::chrono_literals;
namespace fake = conflux::test::fake;

namespace {

// Redirects fd 2 into a file for its lifetime; text() returns what was written.
class CapturedStderr {
 public:
  explicit CapturedStderr(std::string path) : path_(std::move(path)) {
    std::fflush(stderr);
    saved_ = dup(2);
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
  }
  ~CapturedStderr() { restore(); }
  std::string text() {
    restore();
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }
  std::string path_;
  int saved_ = -1;
};

// Echoes the whole request (headers, query, body) in the body of a 400: the worst case of a chatty server.
fake::Response echo(const fake::Request& r, int status) {
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [k, v] : r.headers) headers[k] = v;
  return fake::Response::json(status, {{"path", r.path}, {"query", r.query}, {"headers", headers}, {"body", r.body}});
}

}  // namespace

TEST_CASE("request logs and error messages never show a secret", "[http][redaction]") {
  const std::string kBearer = "hdr-bearer-7f3a9c1d";
  const std::string kHeaderKey = "hdr-apikey-44e1b0a2";
  const std::string kApiKeyParam = "qry-apikey-41d2e8f0";
  const std::string kAccessTokenParam = "qry-access-99aa77bb";
  const std::string kClientApiId = "qry-calltouch-5c5c5c5c";
  const std::string kFormSecret = "body-client-secret-5b6c";
  const std::string kJsonPassword = "body-json-password-8d8d";
  const std::string kPathSecret = "path-webhook-0e0e0e0e";  // Bitrix24 puts its webhook secret in the path
  const std::string kWebhookCode = "x7k2abc9def0ghij";        // the same, never registered: found by its shape
  const std::string kClientSecret = "oauth-client-secret-1a1a";
  const std::string kRefreshToken = "oauth-refresh-2b2b2b2b";
  const std::string kIssuedToken = "oauth-issued-access-3c3c3c";
  const std::vector<std::string> all = {kBearer,       kHeaderKey,   kApiKeyParam,  kAccessTokenParam,
                                        kClientApiId,  kFormSecret,  kJsonPassword, kPathSecret,
                                        kClientSecret, kRefreshToken, kIssuedToken, kWebhookCode};

  fake::FakeServer server;
  server.route("GET", "/echo", [](const fake::Request& r) { return echo(r, 400); });
  server.route("POST", "/echo", [](const fake::Request& r) { return echo(r, 422); });
  server.route("GET", "/rest/1/{secret}/crm.contact.list", [](const fake::Request& r) { return echo(r, 404); });
  server.route("POST", "/rest/7/{secret}/{method}", [](const fake::Request& r) { return echo(r, 503); });
  server.route("GET", "/flaky", [](const fake::Request& r) { return echo(r, 503); });
  server.route("POST", "/oauth/token", [&](const fake::Request&) {
    return fake::Response::json(200, {{"access_token", kIssuedToken}, {"expires_in", 3600}});
  });
  server.route("GET", "/me", [&](const fake::Request& r) { return echo(r, r.header("Authorization") ==
                                                                              "Bearer " + kIssuedToken ? 401 : 400); });
  server.start();
  const std::string base = server.base_url();

  conflux::test::TempDir dir;
  conflux::logging::set_level("debug");
  conflux::http::register_secret(kPathSecret);  // what the host does for config values from ${env:..}
  std::vector<std::string> messages;
  std::string log;
  {
    CapturedStderr captured(dir.file("stderr.txt"));
    conflux::http::FakeClock clock;
    conflux::http::RateLimiterRegistry limits(clock);
    conflux::http::HttpClient client({}, limits, clock);
    auto report = [&](const conflux::http::Outcome& o) {
      messages.push_back(o.message);
      // The host logs failures it reports; that path must be clean too.
      conflux::logging::get("redaction-test")->error("request failed: {}", o.message);
    };

    conflux::http::Request query;
    query.url = base + "/echo?limit=10&api_key=" + kApiKeyParam + "&access_token=" + kAccessTokenParam +
                "&clientApiId=" + kClientApiId;
    query.headers = {{"Authorization", "Bearer " + kBearer}, {"X-Api-Key", kHeaderKey}};
    report(client.send(query));

    conflux::http::Request form;
    form.method = "POST";
    form.url = base + "/echo";
    form.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    form.body = "grant_type=client_credentials&client_secret=" + kFormSecret;
    report(client.send(form));

    conflux::http::Request json;
    json.method = "POST";
    json.url = base + "/echo";
    json.headers = {{"Content-Type", "application/json"}};
    json.body = R"({"user":{"login":"ann","password":")" + kJsonPassword + R"("}})";
    report(client.send(json));

    conflux::http::Request webhook;
    webhook.url = base + "/rest/1/" + kPathSecret + "/crm.contact.list";
    report(client.send(webhook));

    // An unregistered webhook code in the path (a literal webhook_url in a pipeline file), retried twice.
    conflux::http::Request bitrix;
    bitrix.method = "POST";
    bitrix.url = base + "/rest/7/" + kWebhookCode + "/crm.contact.list.json";
    bitrix.headers = {{"Content-Type", "application/json"}};
    bitrix.body = R"({"select":["ID"]})";
    bitrix.max_attempts = 3;
    report(client.send(bitrix));

    conflux::http::Request flaky;
    flaky.url = base + "/flaky?token=" + kAccessTokenParam;
    flaky.max_attempts = 3;  // two "retrying" warnings and a final one
    report(client.send(flaky));

    conflux::http::TokenCache cache(client, clock);
    auto token = cache.get({base + "/oauth/token", "client-id", kClientSecret, kRefreshToken, ""});
    REQUIRE(token.is_ok());
    conflux::http::Request me;
    me.url = base + "/me";
    me.headers = {{"Authorization", token->authorization()}};
    report(client.send(me));
    conflux::logging::get("http")->flush();
    conflux::logging::get("redaction-test")->flush();
    log = captured.text();
  }
  conflux::logging::set_level("info");

  // The log really holds the request lines and the echoed errors, with redaction markers.
  REQUIRE_THAT(log, Catch::Contains("GET " + base + "/echo?limit=10&api_key=***"));
  REQUIRE_THAT(log, Catch::Contains("retrying in"));
  REQUIRE_THAT(log, Catch::Contains("POST " + base + "/rest/7/***/crm.contact.list.json -> 503"));
  REQUIRE_THAT(log, Catch::Contains("POST " + base + "/oauth/token -> 200"));
  REQUIRE_THAT(log, Catch::Contains("request failed"));
  REQUIRE_THAT(log, Catch::Contains("***"));
  for (const std::string& secret : all) {
    INFO("secret " << secret);
    CHECK(log.find(secret) == std::string::npos);
    for (const std::string& m : messages) CHECK(m.find(secret) == std::string::npos);
  }
}

TEST_CASE("redact_url hides secret query values and user-info", "[http][redaction]") {
  using conflux::http::redact_url;
  CHECK(redact_url("https://api.x.io/a?limit=5&hapikey=abc123456&after=z") ==
        "https://api.x.io/a?limit=5&hapikey=***&after=z");
  CHECK(redact_url("https://u:pw-very-secret@api.x.io/a?Access_Token=t0ken-value#f") ==
        "https://***@api.x.io/a?Access_Token=***#f");
  CHECK(redact_url("https://api.x.io/plain?q=1") == "https://api.x.io/plain?q=1");
  CHECK(conflux::http::is_secret_param("clientApiId"));
  CHECK(conflux::http::is_secret_param("REFRESH_TOKEN"));
  CHECK_FALSE(conflux::http::is_secret_param("limit"));
}

TEST_CASE("redact_url hides a Bitrix24 webhook code in the path, and only that", "[http][redaction]") {
  using conflux::http::redact_url;
  CHECK(redact_url("https://b24-x1.bitrix24.ru/rest/1/x7k2abc9def0ghij/crm.contact.list.json?start=50") ==
        "https://b24-x1.bitrix24.ru/rest/1/***/crm.contact.list.json?start=50");
  CHECK(redact_url("https://b24-x1.bitrix24.ru/rest/12/QWERTYUIOPASDFGH/") == "https://b24-x1.bitrix24.ru/rest/12/***/");
  CHECK(redact_url("http://127.0.0.1:8080/rest/1/abcdefghijklmnop/batch.json") ==
        "http://127.0.0.1:8080/rest/1/***/batch.json");
  auto at = conflux::http::find_webhook_secret("https://p.bitrix24.de/rest/1/x7k2abc9def0ghij/batch");
  REQUIRE(at);
  CHECK(std::string("https://p.bitrix24.de/rest/1/x7k2abc9def0ghij/batch").substr(at->first, at->second) ==
        "x7k2abc9def0ghij");
  // OAuth calls, method names, short segments and other REST paths are left alone.
  CHECK(redact_url("https://p.bitrix24.de/rest/crm.contact.list.json") == "https://p.bitrix24.de/rest/crm.contact.list.json");
  CHECK(redact_url("https://p.bitrix24.de/rest/1/batch.json") == "https://p.bitrix24.de/rest/1/batch.json");
  CHECK(redact_url("https://jira.x.io/rest/api/2/issue/ABC12345") == "https://jira.x.io/rest/api/2/issue/ABC12345");
  CHECK(redact_url("https://x.io/rest/1/crm.deal.add") == "https://x.io/rest/1/crm.deal.add");
  CHECK_FALSE(conflux::http::find_webhook_secret("https://x.io/other/1/x7k2abc9def0ghij/m"));
}
