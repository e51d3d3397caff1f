#include "conflux/http/clock.hpp"

#include <algorithm>
#include <thread>

namespace conflux::http {

bool SystemClock::sleep_for(std::chrono::nanoseconds duration, const std::atomic<bool>* cancelled) {
  // Sleep in slices so a cancellation is noticed within 50 ms.
  constexpr std::chrono::nanoseconds kSlice = std::chrono::milliseconds(50);
  auto deadline = std::chrono::steady_clock::now() + duration;
  while (true) {
    if (cancelled && cancelled->load()) return false;
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) return true;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(left, kSlice));
  }
}

Clock& system_clock() {
  static SystemClock clock;
  return clock;
}

}  // namespace conflux::http
