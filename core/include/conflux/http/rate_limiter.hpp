// Process-wide rate limits: one token bucket per (platform, account), shared by every pipeline, plugin instance and
// thread in the process, so two pipelines reading the same HubSpot account together stay under its 100 per 10 s.
//
// A bucket holds at most `burst` tokens and gains `requests` tokens per `period`, continuously. Each request takes
// one token; when none is left, acquire() blocks until one accrues. Waiters are served first come, first served, so
// no thread starves. A 429 pauses the bucket (pause_until) until its Retry-After has passed, for every user of it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "conflux/common/status.hpp"
#include "conflux/http/clock.hpp"
#include "conflux/http/message.hpp"

namespace conflux::http {

struct RateLimit {
  int requests = 0;                   // tokens gained per period; 0 = unlimited
  std::chrono::milliseconds period{1000};
  int burst = 0;                      // bucket capacity; 0 = `requests`
  bool operator==(const RateLimit&) const = default;
};

// Limits documented by platforms (docs/http.md lists the sources): "hubspot" 100 per 10 s, "amocrm" 7 per second,
// "bitrix24" 2 per second with a burst of 50. nullopt for other platforms.
std::optional<RateLimit> documented_limit(const std::string& platform);

class RateLimiterRegistry {
 public:
  // `clock` must outlive the registry.
  explicit RateLimiterRegistry(Clock& clock = system_clock()) : clock_(clock) {}
  RateLimiterRegistry(const RateLimiterRegistry&) = delete;
  RateLimiterRegistry& operator=(const RateLimiterRegistry&) = delete;

  // The registry every HttpClient uses unless given another.
  static RateLimiterRegistry& process();

  // Sets the limit of every account of `platform` that has no limit of its own.
  void set_platform_limit(const std::string& platform, RateLimit limit);
  // Sets the limit of one (platform, account); an existing bucket keeps its tokens, capped to the new burst.
  void set_limit(const RateKey& key, RateLimit limit);
  // Sets the limit only when the key (and its platform) have none yet; returns the limit in force.
  RateLimit set_limit_if_absent(const RateKey& key, RateLimit limit);
  // The limit in force for `key`: its own, else its platform's, else documented_limit(platform), else unlimited.
  RateLimit limit(const RateKey& key);

  // Takes one token, waiting as long as needed. Returns kCancelled when *cancelled became true while waiting.
  // An empty key or an unlimited limit returns at once.
  Status acquire(const RateKey& key, const std::atomic<bool>* cancelled = nullptr);
  // Takes one token only if one is available now.
  bool try_acquire(const RateKey& key);
  // No token is handed out for `key` before `until` (a 429's Retry-After). Later pauses extend, earlier ones don't.
  void pause_until(const RateKey& key, std::chrono::steady_clock::time_point until);

 private:
  struct Bucket {
    RateLimit limit;
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled;
    std::chrono::steady_clock::time_point paused_until;
    std::deque<uint64_t> waiters;  // tickets in arrival order; the front one may take the next token
  };
  // Caller holds mutex_.
  Bucket& bucket(const RateKey& key);
  void refill(Bucket& b, std::chrono::steady_clock::time_point now) const;
  RateLimit resolve(const RateKey& key) const;

  Clock& clock_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, RateLimit> platform_limits_;
  std::map<std::pair<std::string, std::string>, RateLimit> key_limits_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Bucket>> buckets_;
  uint64_t next_ticket_ = 0;
};

}  // namespace conflux::http
