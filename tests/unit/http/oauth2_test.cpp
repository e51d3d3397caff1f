// The OAuth2 refresh-token grant and the token cache, against a token endpoint on the fake server that checks the
// form, issues numbered tokens and rotates refresh tokens.
#include "conflux/http/oauth2.hpp"

#include <catch2/catch.hpp>

#include <thread>

#include "conflux/http/client.hpp"
#include "conflux/http/url.hpp"
#include "fake_server/fake_server.hpp"

using namespace std::chrono_literals;
namespace fake = conflux::test::fake;
using conflux::http::FakeClock;
using conflux::http::HttpClient;
using conflux::http::OAuth2Credentials;
using conflux::http::RateLimiterRegistry;
using conflux::http::TokenCache;

namespace {

// A token endpoint: accepts grant_type=refresh_token with the current refresh token of client "cid"/"csecret",
// answers {"access_token":"access-token-N","expires_in":3600} and, when rotating, a new refresh token "refresh-token-N".
struct TokenServer {
  fake::FakeServer server;
  std::mutex mutex;
  std::string valid_refresh = "refresh-token-0";
  int issued = 0;
  bool rotate = false;

  TokenServer() {
    server.route("POST", "/oauth/token", [this](const fake::Request& r) {
      std::map<std::string, std::string> form;
      size_t start = 0;
      while (start < r.body.size()) {
        size_t amp = r.body.find('&', start);
        std::string item = r.body.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
        size_t eq = item.find('=');
        form[conflux::http::url_decode(item.substr(0, eq))] = conflux::http::url_decode(item.substr(eq + 1));
        start = amp == std::string::npos ? r.body.size() : amp + 1;
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (r.header("Content-Type") != "application/x-www-form-urlencoded" || form["grant_type"] != "refresh_token") {
        return fake::Response::json(400, {{"error", "unsupported_grant_type"}});
      }
      if (form["client_id"] != "cid" || form["client_secret"] != "csecret") {
        return fake::Response::json(401, {{"error", "invalid_client"}});
      }
      if (form["refresh_token"] != valid_refresh) return fake::Response::json(400, {{"error", "invalid_grant"}});
      nlohmann::json body = {{"access_token", "access-token-" + std::to_string(++issued)},
                             {"token_type", "bearer"},
                             {"expires_in", 3600}};
      if (rotate) {
        valid_refresh = "refresh-token-" + std::to_string(issued);
        body["refresh_token"] = valid_refresh;
      }
      return fake::Response::json(200, body);
    });
    server.start();
  }
  OAuth2Credentials credentials(const std::string& refresh = "refresh-token-0") {
    return {server.base_url() + "/oauth/token", "cid", "csecret", refresh, ""};
  }
};

}  // namespace

TEST_CASE("a token is fetched once, cached, and refreshed ahead of its expiry", "[http][oauth2]") {
  TokenServer ts;
  FakeClock clock;
  RateLimiterRegistry limits(clock);
  HttpClient client({}, limits, clock);
  TokenCache cache(client, clock, 60s);
  auto first = cache.get(ts.credentials());
  INFO(first.status().to_string());
  REQUIRE(first.is_ok());
  CHECK(first->value == "access-token-1");
  CHECK(first->authorization() == "Bearer access-token-1");
  CHECK(cache.get(ts.credentials())->value == "access-token-1");
  CHECK(cache.refresh_count() == 1);
  clock.advance(3600s - 61s);  // still more than refresh_ahead left
  CHECK(cache.get(ts.credentials())->value == "access-token-1");
  clock.advance(2s);  // within the last minute: refresh ahead of expiry
  CHECK(cache.get(ts.credentials())->value == "access-token-2");
  CHECK(cache.refresh_count() == 2);
  cache.invalidate(ts.credentials());  // e.g. the API answered 401
  CHECK(cache.get(ts.credentials())->value == "access-token-3");
}

TEST_CASE("concurrent callers share one refresh", "[http][oauth2]") {
  TokenServer ts;
  FakeClock clock;
  RateLimiterRegistry limits(clock);
  HttpClient client({}, limits, clock);
  TokenCache cache(client, clock);
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto token = cache.get(ts.credentials());
      if (token.is_ok()) got[i] = token->value;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(cache.refresh_count() == 1);
  for (const auto& v : got) CHECK(v == "access-token-1");
}

TEST_CASE("a rotated refresh token is used for the next refresh", "[http][oauth2]") {
  TokenServer ts;
  ts.rotate = true;
  FakeClock clock;
  RateLimiterRegistry limits(clock);
  HttpClient client({}, limits, clock);
  TokenCache cache(client, clock);
  REQUIRE(cache.get(ts.credentials())->value == "access-token-1");  // server now only accepts refresh-token-1
  clock.advance(3600s);
  auto second = cache.get(ts.credentials());  // the caller still holds refresh-token-0; the cache knows refresh-token-1
  INFO(second.status().to_string());
  REQUIRE(second.is_ok());
  CHECK(second->value == "access-token-2");
}

TEST_CASE("a refused refresh is one clear configuration error", "[http][oauth2]") {
  TokenServer ts;
  FakeClock clock;
  RateLimiterRegistry limits(clock);
  HttpClient client({}, limits, clock);
  TokenCache cache(client, clock);
  auto revoked = cache.get(ts.credentials("refresh-token-revoked"));
  REQUIRE_FALSE(revoked.is_ok());
  CHECK(revoked.status().code() == conflux::StatusCode::kFailedPrecondition);
  CHECK_THAT(revoked.status().message(), Catch::Contains("invalid_grant"));
  CHECK_THAT(revoked.status().message(), !Catch::Contains("refresh-token-revoked"));
  OAuth2Credentials wrong_client = ts.credentials();
  wrong_client.client_secret = "not-the-secret";
  auto refused = cache.get(wrong_client);
  REQUIRE_FALSE(refused.is_ok());
  CHECK(refused.status().code() == conflux::StatusCode::kFailedPrecondition);
  CHECK(ts.server.request_count() == 2);  // neither was retried
}
