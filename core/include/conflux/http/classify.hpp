// Turning an HTTP response into an ErrorKind: the one place that knows which statuses and bodies mean what.
#pragma once

#include "conflux/http/message.hpp"

namespace conflux::http {

// 1xx-3xx -> kNone; 401/403 -> kAuth, except Salesforce's 403 REQUEST_LIMIT_EXCEEDED (kQuotaExhausted when
// is_quota_exhausted(), else kRateLimited); 429 -> kQuotaExhausted when is_quota_exhausted(), else kRateLimited;
// a 503 that is_rate_limited_503() -> kRateLimited; other 5xx -> kServer; any other 4xx -> kClient. Whether a kind
// is retried is RetryPolicy's business (should_retry).
ErrorKind classify(const Response& response);

// True when a response says a long-window quota (not a short burst limit) is used up, so retrying within the run
// is pointless. Recognises HubSpot's 429 body {"errorType":"RATE_LIMIT","policyName":"DAILY",...} and its header
// X-HubSpot-RateLimit-Daily-Remaining: 0, and Salesforce's 403 body
// [{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}] (the org's 24-hour allocation).
bool is_quota_exhausted(const Response& response);

// True when a 503 says the caller exceeded a request-rate limit, so the request was refused unrun and is retried
// like a 429 (whatever RetryPolicy::retry_statuses says about 503). Recognises Bitrix24's leaky-bucket answer
// {"error":"QUERY_LIMIT_EXCEEDED","error_description":...}.
bool is_rate_limited_503(const Response& response);

}  // namespace conflux::http
