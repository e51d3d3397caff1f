// RetryPolicy pieces: Retry-After / HTTP-date parsing, the back-off ceiling and jitter bounds, what is retried.
#include "conflux/http/retry.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using conflux::http::Backoff;
using conflux::http::ErrorKind;
using conflux::http::RetryPolicy;

namespace {
std::chrono::system_clock::time_point at_epoch_seconds(long long s) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}
}  // namespace

TEST_CASE("HTTP-dates parse in all three RFC 7231 forms", "[http][retry]") {
  // 784111777 = Sun, 06 Nov 1994 08:49:37 GMT (the RFC's own example).
  const auto expected = at_epoch_seconds(784111777);
  CHECK(conflux::http::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == expected);
  CHECK(conflux::http::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected);
  CHECK(conflux::http::parse_http_date("Sun Nov  6 08:49:37 1994") == expected);
  CHECK(conflux::http::parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT ") == expected);
  CHECK(conflux::http::parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT") == at_epoch_seconds(0));
  CHECK(conflux::http::parse_http_date("Sat, 29 Feb 2048 23:59:59 GMT") == at_epoch_seconds(2466633599));
  CHECK_FALSE(conflux::http::parse_http_date("Sun, 06 Nov 1994 08:49:37"));      // no zone
  CHECK_FALSE(conflux::http::parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));  // no such month
  CHECK_FALSE(conflux::http::parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));  // no such hour
  CHECK_FALSE(conflux::http::parse_http_date("2024-03-05T11:22:10Z"));
  CHECK_FALSE(conflux::http::parse_http_date(""));
}

TEST_CASE("format_http_date round-trips through parse_http_date", "[http][retry]") {
  auto when = at_epoch_seconds(1'710'000'000);
  std::string text = conflux::http::format_http_date(when);
  CHECK(text == "Sat, 09 Mar 2024 16:00:00 GMT");
  CHECK(conflux::http::parse_http_date(text) == when);
}

TEST_CASE("Retry-After is delta-seconds or an HTTP-date relative to now", "[http][retry]") {
  const auto now = at_epoch_seconds(784111777);
  CHECK(conflux::http::parse_retry_after("120", now) == 120'000ms);
  CHECK(conflux::http::parse_retry_after(" 0 ", now) == 0ms);
  CHECK(conflux::http::parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now) == 30'000ms);
  CHECK(conflux::http::parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now) == 0ms);  // in the past
  CHECK_FALSE(conflux::http::parse_retry_after("-5", now));
  CHECK_FALSE(conflux::http::parse_retry_after("1.5", now));
  CHECK_FALSE(conflux::http::parse_retry_after("soon", now));
  CHECK_FALSE(conflux::http::parse_retry_after("", now));
}

TEST_CASE("back-off ceilings double from the base delay up to the cap", "[http][retry]") {
  RetryPolicy policy;
  policy.base_delay = 500ms;
  policy.max_delay = 8s;
  Backoff backoff(policy, 1);
  CHECK(backoff.ceiling(0) == 500ms);
  CHECK(backoff.ceiling(1) == 1000ms);
  CHECK(backoff.ceiling(2) == 2000ms);
  CHECK(backoff.ceiling(4) == 8000ms);
  CHECK(backoff.ceiling(5) == 8000ms);
  CHECK(backoff.ceiling(200) == 8000ms);  // no overflow for absurd retry numbers
}

TEST_CASE("full jitter draws stay within [0, ceiling] and spread over it", "[http][retry]") {
  RetryPolicy policy;
  policy.base_delay = 100ms;
  policy.max_delay = 10s;
  Backoff backoff(policy, 42);
  for (int retry = 0; retry < 6; ++retry) {
    auto ceiling = backoff.ceiling(retry);
    std::chrono::milliseconds low = ceiling, high = 0ms;
    for (int i = 0; i < 2000; ++i) {
      auto d = backoff.draw(retry);
      REQUIRE(d >= 0ms);
      REQUIRE(d <= ceiling);
      low = std::min(low, d);
      high = std::max(high, d);
    }
    // Full jitter: the draws cover (nearly) the whole range, not just its top.
    CHECK(low <= ceiling / 10);
    CHECK(high >= ceiling * 9 / 10);
  }
}

TEST_CASE("should_retry: transient kinds yes, auth, quota and plain 4xx no", "[http][retry]") {
  RetryPolicy policy;
  CHECK(conflux::http::should_retry(policy, ErrorKind::kRateLimited, 429));
  CHECK(conflux::http::should_retry(policy, ErrorKind::kServer, 503));
  CHECK(conflux::http::should_retry(policy, ErrorKind::kServer, 500));
  CHECK_FALSE(conflux::http::should_retry(policy, ErrorKind::kServer, 501));  // not implemented: permanent
  CHECK(conflux::http::should_retry(policy, ErrorKind::kNetwork, 0));
  CHECK(conflux::http::should_retry(policy, ErrorKind::kTimeout, 0));
  CHECK(conflux::http::should_retry(policy, ErrorKind::kTruncated, 200));
  CHECK_FALSE(conflux::http::should_retry(policy, ErrorKind::kClient, 400));
  CHECK_FALSE(conflux::http::should_retry(policy, ErrorKind::kAuth, 401));
  CHECK_FALSE(conflux::http::should_retry(policy, ErrorKind::kQuotaExhausted, 429));
  CHECK_FALSE(conflux::http::should_retry(policy, ErrorKind::kConfig, 0));
  policy.retry_statuses.insert(423);  // HubSpot's "Locked": configurable
  CHECK(conflux::http::should_retry(policy, ErrorKind::kClient, 423));
  policy.retry_network_errors = false;
  CHECK_FALSE(conflux::http::should_retry(policy, ErrorKind::kNetwork, 0));
}
