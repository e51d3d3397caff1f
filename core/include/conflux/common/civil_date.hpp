// Calendar arithmetic shared by the timestamp cast, HTTP-date parsing and the identity date comparator.
#pragma once

#include <cstdint>

namespace conflux {

// Days since 1970-01-01 of a proleptic Gregorian date; month 1-12 (Howard Hinnant's days_from_civil algorithm).
constexpr int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t yoe = year - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static_assert(days_from_civil(1970, 1, 1) == 0 && days_from_civil(2000, 3, 1) == 11017);

}  // namespace conflux
