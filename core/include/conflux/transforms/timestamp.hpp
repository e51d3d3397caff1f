// Timestamp and date parsing for the cast stage: the usual ways people and exports write an instant, turned into
// ISO-8601 UTC ("2024-03-05T11:30:00Z"). Time zone rules come from ICU (IANA names).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conflux/common/status.hpp"

namespace conflux::transforms {

struct TimestampOptions {
  // Patterns tried in order. "auto" is the built-in recogniser (ISO-8601 with or without 'T', seconds, fraction and
  // offset; YYYY/MM/DD; DD.MM.YYYY; MM/DD/YYYY or DD/MM/YYYY per day_first; month names in English and Russian;
  // RFC 2822 and JavaScript Date strings; 12-hour clock with AM/PM; unix seconds (9-10 digits) and milliseconds
  // (12-13 digits)). Other entries are strptime-like: %Y %y %m %d %e %H %I %M %S %f %p %z %Z %b %B %h %a %A %s %T
  // %F %D %R %%; whitespace in a pattern matches any run of whitespace, including none.
  std::vector<std::string> formats = {"auto"};
  // IANA zone applied to inputs without an offset or zone of their own.
  std::string timezone = "UTC";
  // For "auto": 03/05/2024 and 03-05-2024 mean 3 May when true, March 5 when false. Dotted dates (05.03.2024) are
  // always day first.
  bool day_first = false;
};

// Thread-safe after construction: all methods are const and keep no mutable shared state.
class TimestampParser {
 public:
  // kFailedPrecondition naming the bad option: an unknown zone, an unknown %-directive, a pattern without a date.
  static Result<TimestampParser> create(const TimestampOptions& options);

  // "YYYY-MM-DDTHH:MM:SS[.fraction]Z", the fraction kept as written (epoch milliseconds give three digits unless
  // they are zero); nullopt when `text` matches no pattern or names an impossible time (31 April, 25:00).
  // Wall times skipped by a DST change are moved forward by the gap; repeated ones take the earlier instant.
  std::optional<std::string> to_utc_iso(std::string_view text) const;
  // "YYYY-MM-DD": the calendar date as written, ignoring any time and offset; an epoch number gives its date in
  // the configured zone.
  std::optional<std::string> to_date(std::string_view text) const;

  struct State;  // internal

 private:
  explicit TimestampParser(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace conflux::transforms
