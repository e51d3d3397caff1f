// Token buckets keyed by (platform, account): pacing, bursts, sharing between threads, FIFO fairness, 429 pauses
// and cancellation. A FakeClock makes every wait instant and exact.
#include "conflux/http/rate_limiter.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using conflux::http::FakeClock;
using conflux::http::RateKey;
using conflux::http::RateLimit;
using conflux::http::RateLimiterRegistry;

namespace {
// Refills are floating point: compare waits to the nanosecond-rounding they may carry.
bool near(std::chrono::nanoseconds actual, std::chrono::nanoseconds expected) {
  return actual >= expected - 1us && actual <= expected + 1us;
}
}  // namespace

TEST_CASE("a bucket allows its burst at once, then paces at its rate", "[http][ratelimit]") {
  FakeClock clock;
  RateLimiterRegistry limits(clock);
  RateKey key{"hubspot", "portal-1"};
  limits.set_limit(key, RateLimit{100, 10s, 100});  // HubSpot: 100 requests per 10 s
  auto start = clock.now();
  for (int i = 0; i < 100; ++i) REQUIRE(limits.acquire(key).is_ok());
  CHECK(clock.now() - start == 0ns);  // the burst costs no waiting
  REQUIRE(limits.acquire(key).is_ok());
  CHECK(near(clock.now() - start, 100ms));  // one more token accrues every 10 s / 100
  for (int i = 0; i < 100; ++i) REQUIRE(limits.acquire(key).is_ok());
  // 201 requests since start: never more than 100 in any 10 s window, so the 201st comes at 10.1 s.
  CHECK(near(clock.now() - start, 10'100ms));
}

TEST_CASE("documented platform limits apply without configuration; unknown platforms are unlimited", "[http][ratelimit]") {
  FakeClock clock;
  RateLimiterRegistry limits(clock);
  CHECK(limits.limit({"amocrm", "acct"}) == RateLimit{7, 1s, 7});
  auto start = clock.now();
  for (int i = 0; i < 14; ++i) REQUIRE(limits.acquire({"amocrm", "acct"}).is_ok());
  CHECK(near(clock.now() - start, 1s));  // 7 at once, 7 more over the next second
  for (int i = 0; i < 1000; ++i) REQUIRE(limits.acquire({"local", "x"}).is_ok());
  for (int i = 0; i < 1000; ++i) REQUIRE(limits.acquire({"", ""}).is_ok());
  CHECK(near(clock.now() - start, 1s));
  // A platform-wide setting overrides the documented one; a key's own setting overrides both.
  limits.set_platform_limit("amocrm", RateLimit{1, 1s, 1});
  CHECK(limits.limit({"amocrm", "other"}).requests == 1);
  limits.set_limit({"amocrm", "vip"}, RateLimit{50, 1s, 50});
  CHECK(limits.limit({"amocrm", "vip"}).requests == 50);
  CHECK(limits.set_limit_if_absent({"amocrm", "vip"}, RateLimit{3, 1s, 3}).requests == 50);
  CHECK(limits.set_limit_if_absent({"newplatform", "a"}, RateLimit{3, 1s, 3}).requests == 3);
}

TEST_CASE("accounts have separate buckets", "[http][ratelimit]") {
  FakeClock clock;
  RateLimiterRegistry limits(clock);
  limits.set_platform_limit("p", RateLimit{2, 1s, 2});
  auto start = clock.now();
  for (int i = 0; i < 2; ++i) REQUIRE(limits.acquire({"p", "a"}).is_ok());
  for (int i = 0; i < 2; ++i) REQUIRE(limits.acquire({"p", "b"}).is_ok());
  CHECK(clock.now() == start);
  CHECK_FALSE(limits.try_acquire({"p", "a"}));
  CHECK_FALSE(limits.try_acquire({"p", "b"}));
}

TEST_CASE("threads share one bucket: the total rate holds whatever the number of threads", "[http][ratelimit]") {
  FakeClock clock;
  RateLimiterRegistry limits(clock);
  RateKey key{"shared", "acct"};
  limits.set_limit(key, RateLimit{10, 1s, 10});
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::vector<std::chrono::steady_clock::time_point>> taken(kThreads);
  std::vector<std::thread> threads;
  auto start = clock.now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        REQUIRE(limits.acquire(key).is_ok());
        taken[t].push_back(clock.now());
      }
    });
  }
  for (auto& th : threads) th.join();
  // 100 tokens at 10/s with a burst of 10: 9 s of waiting in all, however the threads interleave. Only the head
  // of the queue ever sleeps, so the clock's total sleep is exactly the bucket's pacing.
  CHECK(near(clock.slept(), 9s));
  std::vector<std::chrono::steady_clock::time_point> all;
  for (auto& v : taken) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  REQUIRE(all.size() == kThreads * kEach);
  CHECK(near(all.back() - start, 9s));
  // The clock never moves after the last token, so no thread saw a time past 9 s: none waited longer than needed.
}

TEST_CASE("waiters are served first come, first served", "[http][ratelimit]") {
  // A real clock: the order threads queue in is made deterministic by starting them 30 ms apart, and the tokens
  // arrive every 200 ms, so each thread is queued before the first token it could take.
  RateLimiterRegistry limits;
  RateKey key{"fifo", "acct"};
  limits.set_limit(key, RateLimit{5, 1s, 1});
  REQUIRE(limits.acquire(key).is_ok());  // empty the bucket
  std::mutex m;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      REQUIRE(limits.acquire(key).is_ok());
      std::lock_guard<std::mutex> lock(m);
      order.push_back(t);
    });
    std::this_thread::sleep_for(20ms);
  }
  for (auto& th : threads) th.join();
  CHECK(order == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("a 429 pauses the whole bucket until its Retry-After", "[http][ratelimit]") {
  FakeClock clock;
  RateLimiterRegistry limits(clock);
  RateKey key{"p", "a"};
  limits.set_limit(key, RateLimit{100, 1s, 100});
  auto start = clock.now();
  limits.pause_until(key, start + 5s);
  CHECK_FALSE(limits.try_acquire(key));
  REQUIRE(limits.acquire(key).is_ok());
  CHECK(near(clock.now() - start, 5s));
  limits.pause_until(key, start + 1s);  // an earlier pause does not shorten anything or block now
  CHECK(limits.try_acquire(key));
  // Unlimited keys can be paused too.
  limits.pause_until({"free", "x"}, clock.now() + 2s);
  auto before = clock.now();
  REQUIRE(limits.acquire({"free", "x"}).is_ok());
  CHECK(near(clock.now() - before, 2s));
}

TEST_CASE("a waiting acquire returns kCancelled once its flag is set", "[http][ratelimit]") {
  RateLimiterRegistry limits;  // real clock: the waiter really blocks
  RateKey key{"slow", "a"};
  limits.set_limit(key, RateLimit{1, 3600s, 1});
  REQUIRE(limits.acquire(key).is_ok());
  std::atomic<bool> cancelled{false};
  conflux::Status status;
  auto started = std::chrono::steady_clock::now();
  std::thread waiter([&] { status = limits.acquire(key, &cancelled); });
  std::this_thread::sleep_for(100ms);
  cancelled = true;
  waiter.join();
  CHECK(status.code() == conflux::StatusCode::kCancelled);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  // A cancelled waiter leaves the queue: the next caller is not stuck behind it.
  limits.set_limit(key, RateLimit{1000, 1s, 1000});
  CHECK(limits.acquire(key).is_ok());
}
