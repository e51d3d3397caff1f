// HttpClient against the fake server on 127.0.0.1: connection reuse, concurrency, timeouts, truncated bodies,
// retries (Retry-After in seconds and as an HTTP-date, 5xx bursts), no retry on 4xx, quota exhaustion, shared rate
// limits, gzip and cancellation. Back-off waits run on a FakeClock, so no test sleeps for a retry.
#include "conflux/http/client.hpp"

#include <catch2/catch.hpp>

#include <thread>

#include "conflux/http/pagination.hpp"
#include "fake_server/generic_api.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using conflux::http::ClientOptions;
using conflux::http::ErrorKind;
using conflux::http::FakeClock;
using conflux::http::HttpClient;
using conflux::http::RateLimiterRegistry;
using conflux::test::get;
namespace fake = conflux::test::fake;

namespace {

// A started server with GET /ok, an echo route and the generic API over a small store.
struct Fixture {
  fake::FakeServer server;
  FakeClock clock;
  RateLimiterRegistry limits{clock};

  explicit Fixture(fake::ServerOptions options = {}) : server(options) {
    conflux::test::add_json_route(server, "GET", "/ok", 200, R"({"ok":true})");
    conflux::test::add_json_route(server, "GET", "/bad", 400, R"({"message":"bad filter"})");
    for (const char* method : {"POST", "PATCH", "PUT", "DELETE"}) {
      server.route(method, "/echo", [](const fake::Request& r) {
        return fake::Response::json(200, {{"method", r.method},
                                          {"body", r.body},
                                          {"content_type", r.header("Content-Type").value_or("")},
                                          {"x_test", r.header("X-Test").value_or("")}});
      });
    }
    fake::install_generic_api(server);
    server.start();
  }
  std::string url(const std::string& path) const { return server.base_url() + path; }
};

ClientOptions quick() {
  ClientOptions o;
  o.retry.base_delay = 500ms;
  return o;
}

}  // namespace

TEST_CASE("sequential requests reuse one connection", "[http][client]") {
  Fixture f;
  HttpClient client(quick(), f.limits, f.clock);
  for (int i = 0; i < 5; ++i) {
    auto outcome = client.send(get(f.url("/ok")));
    REQUIRE(outcome.ok());
    CHECK(outcome.response.body == R"({"ok":true})");
    CHECK(outcome.response.new_connections == (i == 0 ? 1 : 0));
  }
  CHECK(f.server.connection_count() == 1);
  CHECK(f.server.request_count() == 5);
  CHECK(f.server.max_requests_in_window(10s) == 5);
  CHECK(f.server.max_in_flight() == 1);
}

TEST_CASE("send_all runs requests concurrently and keeps their order", "[http][client]") {
  Fixture f;
  fake::Fault slow;
  slow.kind = fake::Fault::Kind::kDelay;
  slow.delay_ms = 300;
  slow.count = 8;
  f.server.add_fault(slow);
  ClientOptions options = quick();
  options.max_parallel = 8;
  HttpClient client(options, f.limits, f.clock);
  std::vector<conflux::http::Request> requests;
  for (int i = 1; i <= 8; ++i) requests.push_back(get(f.url("/api/contacts/" + std::to_string(i))));
  f.server.store().load(nlohmann::json::parse(R"({"contacts":[{"id":"1"},{"id":"2"},{"id":"3"},{"id":"4"},
                                                               {"id":"5"},{"id":"6"},{"id":"7"},{"id":"8"}]})"));
  auto started = std::chrono::steady_clock::now();
  auto outcomes = client.send_all(requests);
  auto elapsed = std::chrono::steady_clock::now() - started;
  REQUIRE(outcomes.size() == 8);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    REQUIRE(outcomes[i].ok());
    CHECK(nlohmann::json::parse(outcomes[i].response.body)["id"] == std::to_string(i + 1));
  }
  CHECK(f.server.max_in_flight() >= 4);  // 8 slow requests overlapped
  CHECK(elapsed < 8 * 300ms);            // far less than one after another
}

TEST_CASE("an attempt slower than its timeout fails as a timeout, promptly", "[http][client]") {
  Fixture f;
  fake::Fault slow;
  slow.kind = fake::Fault::Kind::kDelay;
  slow.delay_ms = 3000;
  f.server.add_fault(slow);
  HttpClient client(quick(), f.limits, f.clock);
  auto request = get(f.url("/ok"));
  request.timeout = 200ms;
  request.max_attempts = 1;
  auto started = std::chrono::steady_clock::now();
  auto outcome = client.send(request);
  CHECK(outcome.kind == ErrorKind::kTimeout);
  CHECK(outcome.to_status().code() == conflux::StatusCode::kDeadlineExceeded);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  // With retries, the next attempt (no longer delayed) succeeds.
  request.max_attempts = 2;
  f.server.add_fault(slow);
  auto retried = client.send(request);
  CHECK(retried.ok());
  CHECK(retried.attempts == 2);
}

TEST_CASE("a body cut short of its Content-Length is a clean, retried error", "[http][client]") {
  Fixture f;
  fake::Fault cut;
  cut.kind = fake::Fault::Kind::kTruncate;
  f.server.add_fault(cut);
  HttpClient client(quick(), f.limits, f.clock);
  auto request = get(f.url("/api/contacts?limit=5"));
  f.server.store().load(nlohmann::json::parse(R"({"contacts":[{"id":"1","properties":{"email":"a@b.c"}}]})"));
  request.max_attempts = 1;
  auto outcome = client.send(request);
  CHECK(outcome.kind == ErrorKind::kTruncated);
  CHECK_THAT(outcome.message, Catch::Contains("truncated"));
  CHECK(outcome.to_status().retryable());
  f.server.add_fault(cut);
  request.max_attempts = 3;
  auto retried = client.send(request);
  REQUIRE(retried.ok());
  CHECK(retried.attempts == 2);
  CHECK(conflux::http::parse_json_body(retried.response).is_ok());
}

TEST_CASE("a 200 whose JSON is cut fails at parsing, not in the client", "[http][client]") {
  Fixture f;
  fake::Fault cut;
  cut.kind = fake::Fault::Kind::kCutJson;
  f.server.add_fault(cut);
  f.server.store().load(nlohmann::json::parse(R"({"contacts":[{"id":"1"},{"id":"2"}]})"));
  HttpClient client(quick(), f.limits, f.clock);
  auto outcome = client.send(get(f.url("/api/contacts")));
  REQUIRE(outcome.ok());
  auto parsed = conflux::http::parse_json_body(outcome.response);
  CHECK_FALSE(parsed.is_ok());
  CHECK(parsed.status().retryable());
}

TEST_CASE("429 with Retry-After in seconds: waits exactly that long, then succeeds", "[http][client][retry]") {
  Fixture f;
  fake::Fault limited;
  limited.kind = fake::Fault::Kind::kRateLimit;
  limited.status = 429;
  limited.retry_after = "3";
  limited.count = 2;
  f.server.add_fault(limited);
  HttpClient client(quick(), f.limits, f.clock);
  auto outcome = client.send(get(f.url("/ok")));
  REQUIRE(outcome.ok());
  CHECK(outcome.attempts == 3);
  CHECK(outcome.waited == 6s);
  CHECK(f.clock.slept() == 6s);
  CHECK(f.server.count_status(429) == 2);
}

TEST_CASE("429 with Retry-After as an HTTP-date waits until that date", "[http][client][retry]") {
  Fixture f;
  f.clock.set_wall(std::chrono::system_clock::time_point(std::chrono::seconds(1'710'000'000)));
  fake::Fault limited;
  limited.kind = fake::Fault::Kind::kRateLimit;
  limited.retry_after = conflux::http::format_http_date(f.clock.wall_now() + 7s);
  f.server.add_fault(limited);
  HttpClient client(quick(), f.limits, f.clock);
  auto outcome = client.send(get(f.url("/ok")));
  REQUIRE(outcome.ok());
  CHECK(outcome.attempts == 2);
  CHECK(f.clock.slept() == 7s);
}

TEST_CASE("a 5xx burst is retried with jittered exponential back-off", "[http][client][retry]") {
  Fixture f;
  fake::Fault burst;
  burst.kind = fake::Fault::Kind::kServerError;
  burst.status = 503;
  burst.count = 3;
  f.server.add_fault(burst);
  ClientOptions options = quick();
  options.retry.base_delay = 1000ms;
  HttpClient client(options, f.limits, f.clock);
  auto outcome = client.send(get(f.url("/ok")));
  REQUIRE(outcome.ok());
  CHECK(outcome.attempts == 4);
  // Full jitter: each wait is within [0, 1 s], [0, 2 s], [0, 4 s].
  CHECK(f.clock.slept() <= 7s);
  CHECK(f.server.count_status(503) == 3);
}

TEST_CASE("retries stop at max_attempts and within the wait budget", "[http][client][retry]") {
  Fixture f;
  fake::Fault burst;
  burst.kind = fake::Fault::Kind::kServerError;
  burst.status = 502;
  burst.count = 10;
  f.server.add_fault(burst);
  ClientOptions options = quick();
  options.retry.max_attempts = 3;
  HttpClient client(options, f.limits, f.clock);
  auto outcome = client.send(get(f.url("/ok")));
  CHECK(outcome.kind == ErrorKind::kServer);
  CHECK(outcome.attempts == 3);
  CHECK_THAT(outcome.message, Catch::Contains("gave up after 3 attempts"));
  CHECK(outcome.response.status == 502);

  // A Retry-After beyond the budget is not waited for at all.
  fake::Fault far;
  far.kind = fake::Fault::Kind::kRateLimit;
  far.retry_after = "1000";
  f.server.clear_faults();
  f.server.add_fault(far);
  auto before = f.clock.slept();
  auto limited = client.send(get(f.url("/ok")));
  CHECK(limited.kind == ErrorKind::kRateLimited);
  CHECK(limited.attempts == 1);
  CHECK(f.clock.slept() == before);
  CHECK_THAT(limited.message, Catch::Contains("retry budget"));
}

TEST_CASE("400 and 401 return at once, without retrying", "[http][client][retry]") {
  Fixture f;
  HttpClient client(quick(), f.limits, f.clock);
  auto bad = client.send(get(f.url("/bad")));
  CHECK(bad.kind == ErrorKind::kClient);
  CHECK(bad.attempts == 1);
  CHECK(bad.response.body == R"({"message":"bad filter"})");  // the caller can still read the error body
  CHECK_THAT(bad.message, Catch::Contains("HTTP 400"));
  f.server.set_auth(fake::Auth{fake::Auth::Kind::kBearer, "right-token", ""});
  auto request = get(f.url("/ok"));
  request.headers = {{"Authorization", "Bearer wrong-token"}};
  auto denied = client.send(request);
  CHECK(denied.kind == ErrorKind::kAuth);
  CHECK(denied.attempts == 1);
  CHECK(denied.to_status().code() == conflux::StatusCode::kFailedPrecondition);
  CHECK(f.server.request_count() == 2);
  CHECK(f.clock.slept() == 0ns);
  request.headers = {{"Authorization", "Bearer right-token"}};
  CHECK(client.send(request).ok());
}

TEST_CASE("HubSpot's daily-quota 429 ends at once as kQuotaExhausted", "[http][client][quota]") {
  Fixture f;
  fake::Fault daily;
  daily.kind = fake::Fault::Kind::kRateLimit;
  daily.retry_after = "1";
  daily.count = 5;
  daily.body = R"({"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT",)"
               R"("correlationId":"x","policyName":"DAILY","requestId":"y"})";
  f.server.add_fault(daily);
  HttpClient client(quick(), f.limits, f.clock);
  auto outcome = client.send(get(f.url("/ok")));
  CHECK(outcome.kind == ErrorKind::kQuotaExhausted);
  CHECK(outcome.attempts == 1);
  CHECK(outcome.to_status().code() == conflux::StatusCode::kResourceExhausted);
  CHECK_THAT(outcome.message, Catch::Contains("daily quota"));
  CHECK(f.server.count_status(429) == 1);
}

TEST_CASE("requests of one (platform, account) share a bucket; a 429 pauses it for everyone",
          "[http][client][ratelimit]") {
  Fixture f;
  f.limits.set_limit({"fake", "acct"}, conflux::http::RateLimit{5, 1s, 5});
  HttpClient a(quick(), f.limits, f.clock);
  HttpClient b(quick(), f.limits, f.clock);  // another pipeline's client, same process registry
  auto request = get(f.url("/ok"));
  request.rate_key = {"fake", "acct"};
  for (int i = 0; i < 6; ++i) {
    REQUIRE(a.send(request).ok());
    REQUIRE(b.send(request).ok());
  }
  // 12 requests at 5 per second with a burst of 5: 7 had to wait 200 ms each.
  CHECK(f.clock.slept() >= 1400ms - 1ms);
  CHECK(f.clock.slept() <= 1400ms + 1ms);

  fake::Fault limited;
  limited.kind = fake::Fault::Kind::kRateLimit;
  limited.retry_after = "10";
  f.server.add_fault(limited);
  auto before = f.clock.now();
  REQUIRE(a.send(request).ok());  // 429, wait 10 s, retry
  CHECK(f.clock.now() - before >= 10s);
  CHECK(f.limits.try_acquire({"fake", "other-account"}));  // other accounts are not paused
}

TEST_CASE("methods, bodies and headers reach the server", "[http][client]") {
  Fixture f;
  HttpClient client(quick(), f.limits, f.clock);
  for (const char* method : {"POST", "PATCH", "PUT", "DELETE"}) {
    conflux::http::Request r;
    r.method = method;
    r.url = f.url("/echo");
    r.body = R"({"name":"Ада"})";
    r.headers = {{"Content-Type", "application/json"}, {"X-Test", "yes"}};
    auto outcome = client.send(r);
    REQUIRE(outcome.ok());
    auto echo = nlohmann::json::parse(outcome.response.body);
    CHECK(echo["method"] == method);
    CHECK(echo["body"] == R"({"name":"Ада"})");
    CHECK(echo["content_type"] == "application/json");
    CHECK(echo["x_test"] == "yes");
  }
}

TEST_CASE("gzip-encoded responses are decoded", "[http][client]") {
  fake::ServerOptions options;
  options.gzip = true;
  Fixture f(options);
  std::string big = R"({"contacts":[)";
  for (int i = 1; i <= 50; ++i) big += (i > 1 ? "," : "") + std::string(R"({"id":")") + std::to_string(i) + R"("})";
  big += "]}";
  f.server.store().load(nlohmann::json::parse(big));
  HttpClient client(quick(), f.limits, f.clock);
  auto outcome = client.send(get(f.url("/api/contacts?limit=50")));
  REQUIRE(outcome.ok());
  CHECK(outcome.response.header("Content-Encoding") == "gzip");
  auto body = conflux::http::parse_json_body(outcome.response);
  REQUIRE(body.is_ok());
  CHECK((*body)["results"].size() == 50);
}

TEST_CASE("a cancelled request stops a slow transfer and a retry wait", "[http][client]") {
  Fixture f;
  fake::Fault slow;
  slow.kind = fake::Fault::Kind::kDelay;
  slow.delay_ms = 5000;
  f.server.add_fault(slow);
  HttpClient client(quick());  // real clock: the wait is real and must be cut short
  std::atomic<bool> cancelled{false};
  auto request = get(f.url("/ok"));
  request.cancelled = &cancelled;
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    cancelled = true;
  });
  auto started = std::chrono::steady_clock::now();
  auto outcome = client.send(request);
  canceller.join();
  CHECK(outcome.kind == ErrorKind::kCancelled);
  CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_CASE("TLS and URL problems are configuration errors, not retried", "[http][client]") {
  Fixture f;
  HttpClient client(quick(), f.limits, f.clock);
  // The fake server speaks plain HTTP: a TLS handshake with it fails before any request is made.
  auto tls_request = get("https://127.0.0.1:" + std::to_string(f.server.port()) + "/ok");
  tls_request.timeout = 1s;  // the plain-HTTP server may wait for the rest of the "request" it was sent
  tls_request.max_attempts = 1;
  auto tls = client.send(tls_request);
  CHECK_FALSE(tls.ok());
  auto scheme = client.send(get("ftp://127.0.0.1/file"));
  CHECK(scheme.kind == ErrorKind::kConfig);
  CHECK(scheme.attempts == 1);
  ClientOptions bad_ca = quick();
  bad_ca.ca_bundle = "/nonexistent/ca.pem";
  HttpClient strict(bad_ca, f.limits, f.clock);
  auto ca = strict.send(get("https://127.0.0.1:" + std::to_string(f.server.port()) + "/ok"));
  CHECK(ca.kind == ErrorKind::kConfig);
  CHECK(ca.attempts == 1);
}

TEST_CASE("the generic dialect pages with real cursors and filters by modified-since", "[http][fake_server]") {
  Fixture f;
  f.server.store().load(nlohmann::json::parse(R"({"contacts":[
      {"id":"1","updated_at":"2024-01-01T00:00:00Z"},{"id":"2","updated_at":"2024-02-01T00:00:00Z"},
      {"id":"10","updated_at":"2024-03-01T00:00:00Z"},{"id":"3","updated_at":"2024-04-01T00:00:00Z"}]})"));
  HttpClient client(quick(), f.limits, f.clock);
  conflux::http::AfterCursorPaginator paginator;
  std::vector<std::string> ids;
  std::string url = f.url("/api/contacts?limit=2&updated_since=2024-01-15T00:00:00Z");
  for (int pages = 0; pages < 10 && !url.empty(); ++pages) {
    auto outcome = client.send(get(url));
    REQUIRE(outcome.ok());
    auto body = conflux::http::parse_json_body(outcome.response);
    REQUIRE(body.is_ok());
    auto records = conflux::http::select_records(*body, "/results");
    REQUIRE(records.is_ok());
    for (const auto& r : **records) ids.push_back(r["id"]);
    auto next = paginator.next({url, &outcome.response, &*body, (*records)->size()});
    REQUIRE(next.is_ok());
    url = next->value_or("");
    if (ids.size() == 2) {
      // A record created between pages sorts after the cursor and still arrives.
      conflux::test::fake::StoredRecord late;
      late.id = "11";
      late.updated_ms = *conflux::test::fake::parse_time("2024-05-01T00:00:00Z");
      f.server.store().put("contacts", late);
    }
  }
  CHECK(ids == std::vector<std::string>{"2", "3", "10", "11"});
  // Batch upsert keeps what it accepted; a partial_batch fault fails every 2nd input with 207.
  fake::Fault partial;
  partial.kind = fake::Fault::Kind::kPartialBatch;
  partial.fail_every = 2;
  f.server.add_fault(partial);
  conflux::http::Request upsert;
  upsert.method = "POST";
  upsert.url = f.url("/api/contacts/batch/upsert");
  upsert.headers = {{"Content-Type", "application/json"}};
  upsert.body = R"({"inputs":[{"id":"a@x.io","idProperty":"email","properties":{"name":"A"}},
                              {"id":"b@x.io","idProperty":"email","properties":{"name":"B"}},
                              {"id":"1","properties":{"name":"One"}}]})";
  auto outcome = client.send(upsert);
  REQUIRE(outcome.ok());
  CHECK(outcome.response.status == 207);
  auto body = nlohmann::json::parse(outcome.response.body);
  CHECK(body["results"].size() == 2);
  CHECK(body["errors"][0]["index"] == 1);
  CHECK(f.server.store().get("contacts", "1")->properties["name"] == "One");
  CHECK(f.server.store().size("contacts") == 6);  // 5 before, a@x.io created, b@x.io failed
}
