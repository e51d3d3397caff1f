// The retry policy: which outcomes are retried, and how long to wait before the next attempt.
//
// Waits grow exponentially with full jitter (a uniform draw in [0, min(max_delay, base_delay * 2^retry)]), so
// clients that failed together do not retry together. A Retry-After header (delta-seconds or HTTP-date) overrides
// the drawn wait: the server said when, so we wait exactly that long. Retrying stops after max_attempts attempts, or
// when the next wait would take the total waited past max_total_wait; the last outcome is then returned.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string_view>

#include "conflux/http/message.hpp"

namespace conflux::http {

struct RetryPolicy {
  int max_attempts = 5;  // attempts in total, the first included; 1 = never retry
  std::chrono::milliseconds base_delay{500};
  std::chrono::milliseconds max_delay{30'000};        // cap of one drawn wait (not of a Retry-After)
  std::chrono::milliseconds max_total_wait{120'000};  // cap of all waits of one request together
  // Statuses retried besides 429 (429 is always retried unless it is a quota exhaustion).
  std::set<long> retry_statuses{500, 502, 503, 504};
  bool retry_network_errors = true;  // kNetwork, kTimeout, kTruncated
};

// Parses a Retry-After value: delta-seconds ("120") or an HTTP-date in any of the three RFC 9110 / 7231 forms
// (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT", asctime
// "Sun Nov  6 08:49:37 1994"). Returns the wait from `now`; a date in the past gives zero. nullopt when unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                            std::chrono::system_clock::time_point now);

// Parses an HTTP-date (the three forms above) to a time point; nullopt when it is not one.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view value);

// Formats a time point as an IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::chrono::system_clock::time_point when);

// Draws back-off waits. Not thread-safe: one per request (or per thread).
class Backoff {
 public:
  explicit Backoff(const RetryPolicy& policy, uint64_t seed = std::random_device{}());
  // The upper bound of the draw before retry number `retry` (0 = the wait before the 2nd attempt).
  std::chrono::milliseconds ceiling(int retry) const;
  // A wait drawn uniformly from [0, ceiling(retry)].
  std::chrono::milliseconds draw(int retry);

 private:
  RetryPolicy policy_;
  std::mt19937_64 rng_;
};

// True when the policy retries an outcome of this kind and status (status 0 when no response arrived).
bool should_retry(const RetryPolicy& policy, ErrorKind kind, long status);

}  // namespace conflux::http
