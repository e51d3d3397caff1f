#include "conflux/http/classify.hpp"

#include <nlohmann/json.hpp>

namespace conflux::http {

bool is_quota_exhausted(const Response& response) {
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
  if (s == 401 || s == 403) return ErrorKind::kAuth;
  if (s == 429) return is_quota_exhausted(response) ? ErrorKind::kQuotaExhausted : ErrorKind::kRateLimited;
  if (is_rate_limited_503(response)) return ErrorKind::kRateLimited;
  if (s >= 500 && s < 600) return ErrorKind::kServer;
  if (s >= 400 && s < 500) return ErrorKind::kClient;
  return ErrorKind::kNetwork;  // no status, or one outside HTTP's range: no usable response arrived
}

}  // namespace conflux::http
