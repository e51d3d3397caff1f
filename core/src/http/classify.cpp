#include "conflux/http/classify.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace conflux::http {
namespace {

// Salesforce refuses a request over an org limit with 403 and its error array
// [{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}] (REST API guide, "Status Codes
// and Error Responses"). Returns that element's message, or nullopt when the body is not such an array.
std::optional<std::string> salesforce_request_limit(const Response& response) {
  if (response.status != 403 || response.body.find("REQUEST_LIMIT_EXCEEDED") == std::string::npos) return std::nullopt;
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_array()) return std::nullopt;
  for (const auto& error : body) {
    if (!error.is_object()) continue;
    auto code = error.find("errorCode");
    if (code == error.end() || !code->is_string() || code->get<std::string>() != "REQUEST_LIMIT_EXCEEDED") continue;
    auto message = error.find("message");
    return message != error.end() && message->is_string() ? message->get<std::string>() : std::string();
  }
  return std::nullopt;
}

}  // namespace

bool is_quota_exhausted(const Response& response) {
  // Salesforce's rolling 24-hour allocation ("TotalRequests Limit exceeded."). Its other REQUEST_LIMIT_EXCEEDED,
  // too many concurrent long requests (ConcurrentPerOrgLongTxn), clears within seconds: classify() retries it.
  if (auto limit = salesforce_request_limit(response)) return limit->find("TotalRequests") != std::string::npos;
  if (response.status != 429) return false;
  // HubSpot sends X-HubSpot-RateLimit-Daily-Remaining with every response; 0 on a 429 means the daily quota.
  if (auto remaining = response.header("X-HubSpot-RateLimit-Daily-Remaining"); remaining && *remaining == "0") {
    return true;
  }
  // HubSpot's 429 body: {"status":"error","errorType":"RATE_LIMIT","policyName":"DAILY",...}. Burst limits name
  // other policies (e.g. TEN_SECONDLY_ROLLING) and are retried.
  if (response.body.find("DAILY") == std::string::npos) return false;  // cheap filter before parsing
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return false;
  auto policy = body.find("policyName");
  return policy != body.end() && policy->is_string() && policy->get<std::string>() == "DAILY";
}

bool is_rate_limited_503(const Response& response) {
  if (response.status != 503) return false;
  // Bitrix24's leaky bucket: 503 {"error":"QUERY_LIMIT_EXCEEDED","error_description":...}.
  if (response.body.find("QUERY_LIMIT_EXCEEDED") == std::string::npos) return false;  // cheap filter before parsing
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return false;
  auto error = body.find("error");
  return error != body.end() && error->is_string() && error->get<std::string>() == "QUERY_LIMIT_EXCEEDED";
}

ErrorKind classify(const Response& response) {
  const long s = response.status;
  if (s >= 100 && s < 400) return ErrorKind::kNone;
  if (s == 403 && salesforce_request_limit(response)) {
    return is_quota_exhausted(response) ? ErrorKind::kQuotaExhausted : ErrorKind::kRateLimited;
  }
  if (s == 401 || s == 403) return ErrorKind::kAuth;
  if (s == 429) return is_quota_exhausted(response) ? ErrorKind::kQuotaExhausted : ErrorKind::kRateLimited;
  if (is_rate_limited_503(response)) return ErrorKind::kRateLimited;
  if (s >= 500 && s < 600) return ErrorKind::kServer;
  if (s >= 400 && s < 500) return ErrorKind::kClient;
  return ErrorKind::kNetwork;  // no status, or one outside HTTP's range: no usable response arrived
}

}  // namespace conflux::http
