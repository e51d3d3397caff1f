#include "conflux/http/retry.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <string>

#include "conflux/common/civil_date.hpp"

namespace conflux::http {
namespace {

constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<const char*, 7> kShortDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 7> kLongDays = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                                  "Thursday", "Friday", "Saturday"};

// A cursor over the text being parsed; every reader returns false without consuming on a mismatch.
struct Scanner {
  std::string_view s;
  size_t i = 0;

  bool literal(std::string_view lit) {
    if (s.substr(i, lit.size()) != lit) return false;
    i += lit.size();
    return true;
  }
  bool spaces(size_t min_count) {
    size_t n = 0;
    while (i < s.size() && s[i] == ' ') ++i, ++n;
    return n >= min_count;
  }
  // Exactly `min`..`max` digits.
  bool number(int min, int max, int& out) {
    int n = 0;
    int value = 0;
    while (i < s.size() && n < max && std::isdigit(static_cast<unsigned char>(s[i]))) {
      value = value * 10 + (s[i] - '0');
      ++i, ++n;
    }
    if (n < min) return false;
    out = value;
    return true;
  }
  template <size_t N>
  bool one_of(const std::array<const char*, N>& names, int& index) {
    for (size_t k = 0; k < N; ++k) {
      if (literal(names[k])) {
        index = static_cast<int>(k);
        return true;
      }
    }
    return false;
  }
  bool time(int& h, int& m, int& sec) {
    return number(2, 2, h) && literal(":") && number(2, 2, m) && literal(":") && number(2, 2, sec);
  }
  bool done() const { return i == s.size(); }
};

std::string_view trim(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return v;
}

std::optional<std::chrono::system_clock::time_point> make_time(int year, int month, int day, int h, int m, int sec) {
  if (month < 0 || month > 11 || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60) return std::nullopt;
  long long days = days_from_civil(year, static_cast<unsigned>(month + 1), static_cast<unsigned>(day));
  long long seconds = days * 86400 + h * 3600LL + m * 60LL + sec;
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view value) {
  value = trim(value);
  int weekday = 0, day = 0, month = 0, year = 0, h = 0, m = 0, sec = 0;
  {  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    Scanner p{value};
    if (p.one_of(kShortDays, weekday) && p.literal(", ") && p.number(2, 2, day) && p.literal(" ") &&
        p.one_of(kMonths, month) && p.literal(" ") && p.number(4, 4, year) && p.literal(" ") && p.time(h, m, sec) &&
        p.literal(" GMT") && p.done()) {
      return make_time(year, month, day, h, m, sec);
    }
  }
  {  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (a two-digit year below 70 is 20xx)
    Scanner p{value};
    if (p.one_of(kLongDays, weekday) && p.literal(", ") && p.number(2, 2, day) && p.literal("-") &&
        p.one_of(kMonths, month) && p.literal("-") && p.number(2, 2, year) && p.literal(" ") && p.time(h, m, sec) &&
        p.literal(" GMT") && p.done()) {
      return make_time(year < 70 ? 2000 + year : 1900 + year, month, day, h, m, sec);
    }
  }
  {  // asctime: Sun Nov  6 08:49:37 1994
    Scanner p{value};
    if (p.one_of(kShortDays, weekday) && p.literal(" ") && p.one_of(kMonths, month) && p.spaces(1) &&
        p.number(1, 2, day) && p.literal(" ") && p.time(h, m, sec) && p.literal(" ") && p.number(4, 4, year) &&
        p.done()) {
      return make_time(year, month, day, h, m, sec);
    }
  }
  return std::nullopt;
}

std::string format_http_date(std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", kShortDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                            std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) return std::chrono::milliseconds(999'999'999'000LL);  // absurd, but a wait nonetheless
    return std::chrono::milliseconds(std::stoll(std::string(value)) * 1000);
  }
  auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  if (*when <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(*when - now);
}

Backoff::Backoff(const RetryPolicy& policy, uint64_t seed) : policy_(policy), rng_(seed) {}

std::chrono::milliseconds Backoff::ceiling(int retry) const {
  // base * 2^retry, without overflowing for large retry numbers.
  long long ceiling = policy_.base_delay.count();
  for (int i = 0; i < retry && ceiling < policy_.max_delay.count(); ++i) ceiling *= 2;
  return std::chrono::milliseconds(std::min<long long>(ceiling, policy_.max_delay.count()));
}

std::chrono::milliseconds Backoff::draw(int retry) {
  std::uniform_int_distribution<long long> pick(0, ceiling(retry).count());
  return std::chrono::milliseconds(pick(rng_));
}

bool should_retry(const RetryPolicy& policy, ErrorKind kind, long status) {
  switch (kind) {
    case ErrorKind::kRateLimited: return true;
    case ErrorKind::kNetwork:
    case ErrorKind::kTimeout:
    case ErrorKind::kTruncated: return policy.retry_network_errors;
    case ErrorKind::kServer:
    case ErrorKind::kClient: return policy.retry_statuses.count(status) > 0;
    default: return false;
  }
}

}  // namespace conflux::http
