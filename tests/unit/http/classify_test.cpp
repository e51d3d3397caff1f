// Response classification: auth, quota exhaustion (HubSpot's DAILY policy, Salesforce's REQUEST_LIMIT_EXCEEDED),
// throttling, server and client errors.
#include "conflux/http/classify.hpp"

#include "conflux/http/retry.hpp"

#include <catch2/catch.hpp>

using conflux::http::ErrorKind;
using conflux::http::Response;

namespace {
Response response(long status, std::string body = {}, conflux::http::Headers headers = {}) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}
}  // namespace

TEST_CASE("statuses map to error kinds", "[http][classify]") {
  CHECK(conflux::http::classify(response(200)) == ErrorKind::kNone);
  CHECK(conflux::http::classify(response(204)) == ErrorKind::kNone);
  CHECK(conflux::http::classify(response(304)) == ErrorKind::kNone);
  CHECK(conflux::http::classify(response(401)) == ErrorKind::kAuth);
  CHECK(conflux::http::classify(response(403)) == ErrorKind::kAuth);
  CHECK(conflux::http::classify(response(400)) == ErrorKind::kClient);
  CHECK(conflux::http::classify(response(404)) == ErrorKind::kClient);
  CHECK(conflux::http::classify(response(429)) == ErrorKind::kRateLimited);
  CHECK(conflux::http::classify(response(500)) == ErrorKind::kServer);
  CHECK(conflux::http::classify(response(503)) == ErrorKind::kServer);
  CHECK(conflux::http::classify(response(0)) == ErrorKind::kNetwork);
}

TEST_CASE("HubSpot's daily-limit 429 is quota exhaustion, its burst 429 is not", "[http][classify]") {
  // The body HubSpot documents for a 429 (docs/api/usage-details, quoted in API-FACTS [H6]).
  const std::string daily =
      R"({"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT",)"
      R"("correlationId":"c6f7b1a2","policyName":"DAILY","requestId":"r-1"})";
  const std::string burst =
      R"({"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT",)"
      R"("correlationId":"c6f7b1a2","policyName":"TEN_SECONDLY_ROLLING","requestId":"r-2"})";
  CHECK(conflux::http::classify(response(429, daily)) == ErrorKind::kQuotaExhausted);
  CHECK(conflux::http::classify(response(429, burst)) == ErrorKind::kRateLimited);
  // The daily-remaining header at zero says the same without a body.
  CHECK(conflux::http::classify(response(429, "", {{"x-hubspot-ratelimit-daily-remaining", "0"}})) ==
        ErrorKind::kQuotaExhausted);
  CHECK(conflux::http::classify(response(429, "", {{"X-HubSpot-RateLimit-Daily-Remaining", "12"}})) ==
        ErrorKind::kRateLimited);
  // "DAILY" elsewhere in the body, or a body that is not JSON, is not a quota signal.
  CHECK(conflux::http::classify(response(429, R"({"message":"DAILY"})")) == ErrorKind::kRateLimited);
  CHECK(conflux::http::classify(response(429, R"({"policyName":"DAILY")")) == ErrorKind::kRateLimited);
  // Only a 429 can be quota exhaustion.
  CHECK(conflux::http::classify(response(400, daily)) == ErrorKind::kClient);
}

TEST_CASE("Salesforce's daily allocation (403 REQUEST_LIMIT_EXCEEDED) is quota exhaustion", "[http][classify]") {
  // Salesforce's error array (REST API guide, "Status Codes and Error Responses": 403 with REQUEST_LIMIT_EXCEEDED
  // when the org's API request limit is exceeded).
  const std::string total = R"([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])";
  const std::string concurrent =
      R"([{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])";
  CHECK(conflux::http::classify(response(403, total)) == ErrorKind::kQuotaExhausted);
  CHECK(conflux::http::is_quota_exhausted(response(403, total)));
  // Too many concurrent long requests clears within seconds: retried like a 429.
  CHECK(conflux::http::classify(response(403, concurrent)) == ErrorKind::kRateLimited);
  CHECK_FALSE(conflux::http::is_quota_exhausted(response(403, concurrent)));
  // Any other 403 stays an authorisation failure, whatever the text says.
  CHECK(conflux::http::classify(response(403, R"([{"message":"no","errorCode":"INSUFFICIENT_ACCESS"}])")) ==
        ErrorKind::kAuth);
  CHECK(conflux::http::classify(response(403, R"({"errorCode":"REQUEST_LIMIT_EXCEEDED"})")) == ErrorKind::kAuth);
  CHECK(conflux::http::classify(response(403, "REQUEST_LIMIT_EXCEEDED")) == ErrorKind::kAuth);
  CHECK(conflux::http::classify(response(401, R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])")) ==
        ErrorKind::kAuth);
  // Only a 403 carries it.
  CHECK(conflux::http::classify(response(400, total)) == ErrorKind::kClient);
}

TEST_CASE("Bitrix24's 503 QUERY_LIMIT_EXCEEDED is rate limiting, other 503s are server errors", "[http][classify]") {
  // Bitrix24's error body for its leaky bucket (b24restdocs error-codes.md, limits.md; API-FACTS [B5]).
  const std::string limited = R"({"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"})";
  CHECK(conflux::http::classify(response(503, limited)) == ErrorKind::kRateLimited);
  CHECK(conflux::http::is_rate_limited_503(response(503, limited)));
  // Retried even by a policy that does not retry 503 as a server error.
  conflux::http::RetryPolicy no_503;
  no_503.retry_statuses = {500};
  CHECK(conflux::http::should_retry(no_503, conflux::http::classify(response(503, limited)), 503));
  CHECK_FALSE(conflux::http::should_retry(no_503, conflux::http::classify(response(503)), 503));
  // The code elsewhere, another error, a body that is not JSON, or another status: not a rate limit.
  CHECK(conflux::http::classify(response(503, R"({"error_description":"QUERY_LIMIT_EXCEEDED"})")) == ErrorKind::kServer);
  CHECK(conflux::http::classify(response(503, R"({"error":"INTERNAL_SERVER_ERROR"})")) == ErrorKind::kServer);
  CHECK(conflux::http::classify(response(503, "QUERY_LIMIT_EXCEEDED")) == ErrorKind::kServer);
  CHECK(conflux::http::classify(response(503)) == ErrorKind::kServer);
  CHECK(conflux::http::classify(response(500, limited)) == ErrorKind::kServer);
  CHECK(conflux::http::classify(response(400, limited)) == ErrorKind::kClient);
}

TEST_CASE("outcomes map to the Status code that tells the caller what to do", "[http][classify]") {
  conflux::http::Outcome o;
  CHECK(o.to_status().is_ok());
  o.kind = ErrorKind::kQuotaExhausted;
  CHECK(o.to_status().code() == conflux::StatusCode::kResourceExhausted);
  CHECK_FALSE(o.to_status().retryable());
  o.kind = ErrorKind::kAuth;
  CHECK(o.to_status().code() == conflux::StatusCode::kFailedPrecondition);
  o.kind = ErrorKind::kRateLimited;
  CHECK(o.to_status().retryable());
  o.kind = ErrorKind::kTimeout;
  CHECK(o.to_status().code() == conflux::StatusCode::kDeadlineExceeded);
}
