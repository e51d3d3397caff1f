// HTTP requests, responses and the outcome of sending one: the value types every part of conflux::http shares.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conflux/common/status.hpp"

namespace spdlog {
class logger;
}

namespace conflux::http {

// Header name/value pairs in order; names compare case-insensitively (RFC 9110), duplicates are kept.
using Headers = std::vector<std::pair<std::string, std::string>>;

// The first value of header `name`, or nullopt.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);

// Which shared token bucket a request draws from: one per (platform, account), process-wide
// (see rate_limiter.hpp). An empty platform means "not rate limited".
struct RateKey {
  std::string platform;
  std::string account;
  bool empty() const { return platform.empty(); }
  bool operator==(const RateKey&) const = default;
};

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  // 0 = the client's default. `timeout` bounds the whole exchange of one attempt, connect included.
  std::chrono::milliseconds connect_timeout{0};
  std::chrono::milliseconds timeout{0};
  RateKey rate_key;
  // Overrides RetryPolicy::max_attempts when set (1 = never retry).
  std::optional<int> max_attempts;
  // Set by the caller to abort waits and transfers early (e.g. the run's cancellation flag). May be null.
  const std::atomic<bool>* cancelled = nullptr;
  // Where the request log line goes; null = the "http" logger.
  std::shared_ptr<spdlog::logger> logger;
};

struct Response {
  long status = 0;  // 0 when no HTTP response arrived
  Headers headers;
  std::string body;
  std::chrono::milliseconds elapsed{0};
  long new_connections = 0;  // connections libcurl opened for this attempt (CURLINFO_NUM_CONNECTS)

  std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
};

// What the caller should do with an outcome. Transient kinds are retried by the client before they are returned.
enum class ErrorKind {
  kNone = 0,        // a 1xx-3xx response
  kNetwork,         // connect/send/receive failed, no complete response (transient)
  kTimeout,         // the attempt ran out of time (transient)
  kTruncated,       // the body ended before its Content-Length (transient)
  kRateLimited,     // 429 or another status the platform uses to throttle (transient)
  kServer,          // 5xx (transient when listed in RetryPolicy::retry_statuses)
  kQuotaExhausted,  // a daily (or other long-window) quota is used up: end the run, resume in the next window
  kAuth,            // 401/403: credentials are wrong or lack permission; retrying will not help
  kClient,          // another 4xx: the request itself is at fault
  kConfig,          // the request could not be made as configured (bad URL, TLS verification failed, bad CA file)
  kCancelled,       // the caller's cancellation flag was set
};

const char* error_kind_name(ErrorKind kind);
// True for the kinds RetryPolicy may retry.
bool is_transient(ErrorKind kind);

// The result of sending a request, after any retries. `response` holds the last attempt's response (status 0 when
// none arrived), so a caller can still read a 4xx error body.
struct Outcome {
  ErrorKind kind = ErrorKind::kNone;
  Response response;
  std::string message;  // empty when ok(); already redacted
  int attempts = 0;
  std::chrono::milliseconds waited{0};  // total back-off slept between attempts

  bool ok() const { return kind == ErrorKind::kNone; }
  // The Status a host module reports: transient kinds -> kUnavailable / kDeadlineExceeded, kAuth and kConfig ->
  // kFailedPrecondition, kQuotaExhausted -> kResourceExhausted, kCancelled -> kCancelled, kClient -> kInternal.
  Status to_status() const;
};

}  // namespace conflux::http
