#include "conflux/http/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace conflux::http {
namespace {

using Nanos = std::chrono::nanoseconds;
constexpr std::chrono::milliseconds kPoll{50};  // how often a queued waiter rechecks its cancellation flag
// Refills are computed in floating point; a token short by rounding alone counts as whole, so waits come out exact.
constexpr double kWhole = 1.0 - 1e-9;

int capacity(const RateLimit& limit) { return limit.burst > 0 ? limit.burst : limit.requests; }

}  // namespace

std::optional<RateLimit> documented_limit(const std::string& platform) {
  if (platform == "hubspot") return RateLimit{100, std::chrono::milliseconds(10'000), 100};
  if (platform == "amocrm") return RateLimit{7, std::chrono::milliseconds(1000), 7};
  if (platform == "bitrix24") return RateLimit{2, std::chrono::milliseconds(1000), 50};
  return std::nullopt;
}

RateLimiterRegistry& RateLimiterRegistry::process() {
  static RateLimiterRegistry registry;
  return registry;
}

RateLimit RateLimiterRegistry::resolve(const RateKey& key) const {
  if (auto it = key_limits_.find({key.platform, key.account}); it != key_limits_.end()) return it->second;
  if (auto it = platform_limits_.find(key.platform); it != platform_limits_.end()) return it->second;
  if (auto documented = documented_limit(key.platform)) return *documented;
  return RateLimit{};
}

RateLimiterRegistry::Bucket& RateLimiterRegistry::bucket(const RateKey& key) {
  auto& slot = buckets_[{key.platform, key.account}];
  if (!slot) {
    slot = std::make_unique<Bucket>();
    slot->limit = resolve(key);
    slot->tokens = capacity(slot->limit);  // a new bucket starts full: the platform's burst is available at once
    slot->refilled = clock_.now();
  }
  return *slot;
}

void RateLimiterRegistry::refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
  if (b.limit.requests <= 0 || now <= b.refilled) return;
  double elapsed = std::chrono::duration<double>(now - b.refilled).count();
  double period = std::chrono::duration<double>(b.limit.period).count();
  b.tokens = std::min<double>(capacity(b.limit), b.tokens + elapsed * b.limit.requests / period);
  b.refilled = now;
}

void RateLimiterRegistry::set_platform_limit(const std::string& platform, RateLimit limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  platform_limits_[platform] = limit;
  for (auto& [key, b] : buckets_) {
    if (key.first == platform && !key_limits_.count(key)) {
      refill(*b, clock_.now());
      b->limit = limit;
      b->tokens = std::min<double>(b->tokens, capacity(limit));
    }
  }
  changed_.notify_all();
}

void RateLimiterRegistry::set_limit(const RateKey& key, RateLimit limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  key_limits_[{key.platform, key.account}] = limit;
  Bucket& b = bucket(key);
  refill(b, clock_.now());
  b.limit = limit;
  b.tokens = std::min<double>(b.tokens, capacity(limit));
  changed_.notify_all();
}

RateLimit RateLimiterRegistry::set_limit_if_absent(const RateKey& key, RateLimit limit) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (key_limits_.count({key.platform, key.account}) || platform_limits_.count(key.platform)) return resolve(key);
  }
  set_limit(key, limit);
  return limit;
}

RateLimit RateLimiterRegistry::limit(const RateKey& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  return resolve(key);
}

Status RateLimiterRegistry::acquire(const RateKey& key, const std::atomic<bool>* cancelled) {
  if (key.empty()) return Status::ok();
  std::unique_lock<std::mutex> lock(mutex_);
  Bucket& b = bucket(key);
  if (b.limit.requests <= 0 && b.paused_until <= clock_.now()) return Status::ok();
  const uint64_t ticket = next_ticket_++;
  b.waiters.push_back(ticket);
  auto leave = [&] {
    b.waiters.erase(std::find(b.waiters.begin(), b.waiters.end(), ticket));
    changed_.notify_all();
  };
  while (true) {
    if (cancelled && cancelled->load()) {
      leave();
      return conflux::cancelled("cancelled while waiting for the rate limit of " + key.platform);
    }
    if (b.waiters.front() != ticket) {
      // Not our turn: wait for the waiter ahead of us to take its token (or give up).
      changed_.wait_for(lock, kPoll);
      continue;
    }
    auto now = clock_.now();
    refill(b, now);
    Nanos wait{0};
    if (b.paused_until > now) {
      wait = b.paused_until - now;
    } else if (b.limit.requests <= 0 || b.tokens >= kWhole) {
      if (b.limit.requests > 0) b.tokens = std::max(0.0, b.tokens - 1.0);
      leave();
      return Status::ok();
    } else {
      double period_ns = static_cast<double>(std::chrono::duration_cast<Nanos>(b.limit.period).count());
      wait = Nanos(static_cast<long long>(std::ceil((1.0 - b.tokens) * period_ns / b.limit.requests)));
    }
    // Sleep on the clock (a fake clock advances instead), without the lock, so others can queue and pause.
    lock.unlock();
    bool completed = clock_.sleep_for(wait, cancelled);
    lock.lock();
    if (!completed) {
      leave();
      return conflux::cancelled("cancelled while waiting for the rate limit of " + key.platform);
    }
  }
}

bool RateLimiterRegistry::try_acquire(const RateKey& key) {
  if (key.empty()) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  Bucket& b = bucket(key);
  auto now = clock_.now();
  if (b.paused_until > now || !b.waiters.empty()) return false;
  if (b.limit.requests <= 0) return true;
  refill(b, now);
  if (b.tokens < kWhole) return false;
  b.tokens = std::max(0.0, b.tokens - 1.0);
  return true;
}

void RateLimiterRegistry::pause_until(const RateKey& key, std::chrono::steady_clock::time_point until) {
  if (key.empty()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  Bucket& b = bucket(key);
  b.paused_until = std::max(b.paused_until, until);
  changed_.notify_all();
}

}  // namespace conflux::http
