// Time as conflux::http sees it: injectable so back-off, rate limits and token expiry are tested without sleeping.
#pragma once

#include <atomic>
#include <chrono>

namespace conflux::http {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for intervals (back-off, buckets, token expiry).
  virtual std::chrono::steady_clock::time_point now() = 0;
  // Wall time, only to interpret HTTP-dates (Retry-After).
  virtual std::chrono::system_clock::time_point wall_now() = 0;
  // Waits `duration` or until *cancelled becomes true (checked at least every 50 ms; null = never cancelled).
  // Returns false when cancelled.
  virtual bool sleep_for(std::chrono::nanoseconds duration, const std::atomic<bool>* cancelled) = 0;
};

// The real clocks and a real sleep.
class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() override { return std::chrono::system_clock::now(); }
  bool sleep_for(std::chrono::nanoseconds duration, const std::atomic<bool>* cancelled) override;
};

// The process-wide SystemClock.
Clock& system_clock();

// A clock that only moves when slept on or advanced: sleep_for returns at once after adding the duration.
// Thread-safe; every sleeper advances the same time, which is what a test of a shared limiter wants.
class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns_.load()));
  }
  std::chrono::system_clock::time_point wall_now() override {
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::nanoseconds(wall_base_ns_ + ns_.load())));
  }
  bool sleep_for(std::chrono::nanoseconds duration, const std::atomic<bool>* cancelled) override {
    if (cancelled && cancelled->load()) return false;
    if (duration.count() > 0) {
      ns_ += duration.count();
      slept_ns_ += duration.count();
    }
    return true;
  }
  void advance(std::chrono::nanoseconds d) { ns_ += d.count(); }
  // Total time spent in sleep_for.
  std::chrono::nanoseconds slept() const { return std::chrono::nanoseconds(slept_ns_.load()); }
  // Sets the wall time that corresponds to now().
  void set_wall(std::chrono::system_clock::time_point wall) {
    wall_base_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()).count() - ns_.load();
  }

 private:
  std::atomic<long long> ns_{1'000'000'000};  // start past zero so "zero time point" never means "now"
  std::atomic<long long> slept_ns_{0};
  long long wall_base_ns_ = 1'700'000'000LL * 1'000'000'000LL;
};

}  // namespace conflux::http
