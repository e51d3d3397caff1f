#include "conflux/transforms/timestamp.hpp"

#include <unicode/basictz.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <array>
#include <cstdio>
#include <map>

#include "conflux/common/civil_date.hpp"
#include "text_util.hpp"

namespace conflux::transforms {

namespace {

constexpr int64_t kSecondsPerDay = 86400;

void civil_from_days(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[static_cast<size_t>(m - 1)];
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_word_byte(char c) { return is_alpha(c) || static_cast<unsigned char>(c) >= 0x80; }

// What a pattern recognised, before any zone arithmetic.
struct Parsed {
  int64_t year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::string_view fraction;  // digits as written
  int pm = -1;                // -1: 24-hour clock; 0: AM; 1: PM
  bool has_offset = false;
  int offset_seconds = 0;
  std::string_view zone_name;  // IANA name written in the input
  bool epoch = false;
  int64_t epoch_seconds = 0;
  std::string epoch_fraction;
};

// English and Russian month names, lower case; the index is the month (1-12) minus one.
int month_from_word(std::string_view word) {
  static const std::array<std::vector<std::string_view>, 12> kNames = {{
      {"jan", "january", "янв", "январь", "января"},
      {"feb", "february", "фев", "февраль", "февраля"},
      {"mar", "march", "мар", "март", "марта"},
      {"apr", "april", "апр", "апрель", "апреля"},
      {"may", "май", "мая"},
      {"jun", "june", "июн", "июнь", "июня"},
      {"jul", "july", "июл", "июль", "июля"},
      {"aug", "august", "авг", "август", "августа"},
      {"sep", "sept", "september", "сен", "сент", "сентябрь", "сентября"},
      {"oct", "october", "окт", "октябрь", "октября"},
      {"nov", "november", "ноя", "нояб", "ноябрь", "ноября"},
      {"dec", "december", "дек", "декабрь", "декабря"},
  }};
  std::string lower = internal::to_lower(word);
  if (!lower.empty() && lower.back() == '.') lower.pop_back();
  for (size_t i = 0; i < kNames.size(); ++i) {
    for (std::string_view name : kNames[i]) {
      if (lower == name) return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

bool is_weekday(std::string_view word) {
  static const std::array<std::string_view, 14> kNames = {"mon",       "monday",   "tue",      "tuesday", "wed",
                                                          "wednesday", "thu",      "thursday", "fri",     "friday",
                                                          "sat",       "saturday", "sun",      "sunday"};
  std::string lower = internal::ascii_lower(word);
  if (lower == "tues" || lower == "thur" || lower == "thurs") return true;
  for (std::string_view name : kNames) {
    if (lower == name) return true;
  }
  return false;
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  size_t pos() const { return pos_; }
  void reset(size_t pos) { pos_ = pos; }
  std::string_view rest() const { return text_.substr(pos_); }

  bool literal(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  bool literal_ci(std::string_view word) {
    if (text_.size() - pos_ < word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      char c = text_[pos_ + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != word[i]) return false;
    }
    pos_ += word.size();
    return true;
  }
  size_t spaces() {
    size_t start = pos_;
    while (!done() && internal::is_ascii_space(peek())) ++pos_;
    return pos_ - start;
  }
  // Between min and max digits; `count` receives how many were read.
  bool number(size_t min, size_t max, int64_t& value, size_t* count = nullptr) {
    size_t start = pos_;
    value = 0;
    while (!done() && is_digit(peek()) && pos_ - start < max) value = value * 10 + (text_[pos_++] - '0');
    size_t n = pos_ - start;
    if (n < min) {
      pos_ = start;
      return false;
    }
    if (count != nullptr) *count = n;
    return true;
  }
  // A maximal run of digits (up to 19).
  bool digit_run(int64_t& value, size_t& count) {
    size_t start = pos_;
    value = 0;
    while (!done() && is_digit(peek())) {
      if (pos_ - start >= 18) return false;
      value = value * 10 + (text_[pos_++] - '0');
    }
    count = pos_ - start;
    return count > 0;
  }
  std::string_view digits_view(size_t min, size_t max) {
    size_t start = pos_;
    while (!done() && is_digit(peek()) && pos_ - start < max) ++pos_;
    if (pos_ - start < min || (!done() && is_digit(peek()))) {
      pos_ = start;
      return {};
    }
    return text_.substr(start, pos_ - start);
  }
  std::string_view word() {
    size_t start = pos_;
    while (!done() && is_word_byte(peek())) ++pos_;
    if (pos_ > start && peek() == '.') ++pos_;  // "Mar." / "сент."
    return text_.substr(start, pos_ - start);
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool valid_date(int64_t y, int m, int d) {
  return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

int64_t expand_two_digit_year(int64_t y) { return y < 69 ? 2000 + y : 1900 + y; }

// ±HH, ±HHMM, ±HH:MM.
bool parse_offset(Scanner& s, Parsed& p) {
  size_t start = s.pos();
  int sign = 0;
  if (s.literal('+'))
    sign = 1;
  else if (s.literal('-'))
    sign = -1;
  else if (s.peek() == '\xE2' && s.peek(1) == '\x88' && s.peek(2) == '\x92') {  // U+2212 minus sign
    s.reset(s.pos() + 3);
    sign = -1;
  }
  if (sign == 0) return false;
  int64_t hours = 0;
  int64_t minutes = 0;
  size_t count = 0;
  if (!s.number(2, 4, hours, &count) || count == 3) {
    s.reset(start);
    return false;
  }
  if (count == 4) {
    minutes = hours % 100;
    hours /= 100;
  } else if (s.literal(':')) {
    if (!s.number(2, 2, minutes)) {
      s.reset(start);
      return false;
    }
  }
  if (hours > 18 || minutes > 59) {
    s.reset(start);
    return false;
  }
  p.has_offset = true;
  p.offset_seconds = sign * static_cast<int>(hours * 3600 + minutes * 60);
  return true;
}

// Z, UTC, GMT, UTC+3, GMT+0300, +03:00, or an IANA name such as Europe/Moscow.
bool parse_zone(Scanner& s, Parsed& p) {
  if (s.peek() == '+' || s.peek() == '-' || s.peek() == '\xE2') return parse_offset(s, p);
  size_t start = s.pos();
  if (s.literal_ci("utc") || s.literal_ci("gmt")) {
    if (s.peek() == '+' || s.peek() == '-') {
      // "UTC+3" allows a one-digit hour.
      size_t sign_pos = s.pos();
      int sign = s.peek() == '+' ? 1 : -1;
      s.reset(sign_pos + 1);
      int64_t hours = 0;
      size_t count = 0;
      if (s.number(1, 4, hours, &count) && count <= 2 && !s.literal(':')) {
        if (hours > 18) return false;
        p.has_offset = true;
        p.offset_seconds = sign * static_cast<int>(hours * 3600);
        return true;
      }
      s.reset(sign_pos);
      return parse_offset(s, p);
    }
    if (!s.done() && is_word_byte(s.peek())) {
      s.reset(start);
      return false;
    }
    p.has_offset = true;
    p.offset_seconds = 0;
    return true;
  }
  if (s.peek() == 'Z' || s.peek() == 'z') {
    s.reset(s.pos() + 1);
    p.has_offset = true;
    p.offset_seconds = 0;
    return true;
  }
  // IANA name: letters, digits, '_', '-', '+', with at least one '/'.
  size_t end = s.pos();
  bool slash = false;
  std::string_view rest = s.rest();
  while (end - start < rest.size()) {
    char c = rest[end - start];
    if (c == '/')
      slash = true;
    else if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '+'))
      break;
    ++end;
  }
  if (!slash || !is_alpha(rest[0])) return false;
  p.zone_name = rest.substr(0, end - start);
  s.reset(end);
  return true;
}

// H:MM[:SS[.fraction]] [AM|PM]
bool parse_time(Scanner& s, Parsed& p) {
  int64_t hour = 0;
  int64_t minute = 0;
  int64_t second = 0;
  if (!s.number(1, 2, hour) || !s.literal(':') || !s.number(2, 2, minute)) return false;
  if (s.literal(':')) {
    if (!s.number(2, 2, second)) return false;
    size_t before_fraction = s.pos();
    if (s.literal('.') || s.literal(',')) {
      p.fraction = s.digits_view(1, 9);
      if (p.fraction.empty()) {
        s.reset(before_fraction);
        return false;
      }
    }
  }
  p.hour = static_cast<int>(hour);
  p.minute = static_cast<int>(minute);
  p.second = static_cast<int>(second);
  size_t before_meridiem = s.pos();
  s.spaces();
  if (s.literal_ci("am") || s.literal_ci("a.m."))
    p.pm = 0;
  else if (s.literal_ci("pm") || s.literal_ci("p.m."))
    p.pm = 1;
  else
    s.reset(before_meridiem);
  if (p.pm >= 0 && !s.done() && is_word_byte(s.peek())) return false;
  return true;
}

// Date part of the auto recogniser.
bool parse_auto_date(Scanner& s, Parsed& p, bool day_first) {
  // Leading weekday: "Tue, 05 Mar 2024" / "Tue Mar 05 2024".
  if (is_word_byte(s.peek())) {
    size_t start = s.pos();
    std::string_view word = s.word();
    if (is_weekday(word)) {
      s.literal(',');
      if (s.spaces() == 0) return false;
    } else {
      s.reset(start);
    }
  }
  if (is_digit(s.peek())) {
    int64_t n1 = 0;
    size_t l1 = 0;
    if (!s.digit_run(n1, l1)) return false;
    char sep = s.peek();
    if (l1 == 8 && (sep == 'T' || sep == 't')) {  // ISO basic 20240305T143000
      p.year = n1 / 10000;
      p.month = static_cast<int>(n1 / 100 % 100);
      p.day = static_cast<int>(n1 % 100);
      return true;
    }
    if (sep == '-' || sep == '/' || sep == '.') {
      s.literal(sep);
      int64_t n2 = 0;
      size_t l2 = 0;
      int month_name = 0;
      if (is_word_byte(s.peek())) {
        month_name = month_from_word(s.word());
        if (month_name == 0) return false;
      } else if (!s.digit_run(n2, l2) || l2 > 2) {
        return false;
      }
      if (!s.literal(sep)) return false;
      int64_t n3 = 0;
      size_t l3 = 0;
      if (!s.digit_run(n3, l3)) return false;
      if (l1 == 4) {
        if (l3 > 2) return false;
        p.year = n1;
        p.month = month_name != 0 ? month_name : static_cast<int>(n2);
        p.day = static_cast<int>(n3);
        return true;
      }
      if (l1 > 2 || (l3 != 4 && l3 != 2)) return false;
      p.year = l3 == 2 ? expand_two_digit_year(n3) : n3;
      if (month_name != 0) {
        p.month = month_name;
        p.day = static_cast<int>(n1);
      } else if (sep == '.' || day_first) {
        p.day = static_cast<int>(n1);
        p.month = static_cast<int>(n2);
      } else {
        p.month = static_cast<int>(n1);
        p.day = static_cast<int>(n2);
      }
      return true;
    }
    if (sep == ' ' && l1 <= 2) {  // "5 Mar 2024", "05 марта 2024"
      s.spaces();
      int month = month_from_word(s.word());
      if (month == 0) return false;
      s.literal(',');
      if (s.spaces() == 0) return false;
      int64_t year = 0;
      if (!s.number(4, 4, year)) return false;
      p.day = static_cast<int>(n1);
      p.month = month;
      p.year = year;
      return true;
    }
    return false;
  }
  if (is_word_byte(s.peek())) {  // "Mar 5, 2024", "March 05 2024"
    int month = month_from_word(s.word());
    if (month == 0 || s.spaces() == 0) return false;
    int64_t day = 0;
    if (!s.number(1, 2, day)) return false;
    s.literal(',');
    if (s.spaces() == 0) return false;
    int64_t year = 0;
    if (!s.number(4, 4, year)) return false;
    p.day = static_cast<int>(day);
    p.month = month;
    p.year = year;
    return true;
  }
  return false;
}

// Epoch forms: 9-10 digits are seconds (1973-2286), 12-13 digits milliseconds; seconds may carry a fraction.
// Eight digits are a basic ISO date (20240305), fourteen a basic date and time (20240305143000).
bool parse_digits_only(std::string_view text, Parsed& p) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  for (char c : whole) {
    if (!is_digit(c)) return false;
  }
  for (char c : fraction) {
    if (!is_digit(c)) return false;
  }
  if (dot != std::string_view::npos && (fraction.empty() || fraction.size() > 9)) return false;
  // 18 digits always fit in int64; longer runs are no timestamp (and would overflow).
  if (whole.empty() || whole.size() > 18) return false;
  int64_t value = 0;
  for (char c : whole) value = value * 10 + (c - '0');
  if (dot == std::string_view::npos && (whole.size() == 8 || whole.size() == 14)) {
    int64_t date = whole.size() == 8 ? value : value / 1000000;
    p.year = date / 10000;
    p.month = static_cast<int>(date / 100 % 100);
    p.day = static_cast<int>(date % 100);
    if (whole.size() == 14) {
      p.hour = static_cast<int>(value / 10000 % 100);
      p.minute = static_cast<int>(value / 100 % 100);
      p.second = static_cast<int>(value % 100);
    }
    return true;
  }
  p.epoch = true;
  if (whole.size() == 9 || whole.size() == 10) {
    p.epoch_seconds = value;
    p.epoch_fraction = std::string(fraction);
    return true;
  }
  if ((whole.size() == 12 || whole.size() == 13) && fraction.empty()) {
    p.epoch_seconds = value / 1000;
    int64_t ms = value % 1000;
    if (ms != 0) {
      p.epoch_fraction = {static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                          static_cast<char>('0' + ms % 10)};
    }
    return true;
  }
  return false;
}

bool parse_auto(std::string_view text, bool day_first, Parsed& p) {
  if (!text.empty() && is_digit(text[0]) && parse_digits_only(text, p)) return true;
  p = Parsed{};
  Scanner s(text);
  if (!parse_auto_date(s, p, day_first)) return false;
  if (s.done()) return true;
  const bool compact = s.pos() == 8 && text.substr(0, 8).find_first_not_of("0123456789") == std::string_view::npos;
  // Date/time separator: 'T', or whitespace optionally after a comma.
  bool separated = s.literal('T') || s.literal('t');
  if (!separated) {
    s.literal(',');
    separated = s.spaces() > 0;
  }
  if (!separated) return false;
  if (s.done()) return false;
  if (compact && is_digit(s.peek())) {  // ISO basic time: HHMM[SS[.fraction]]
    int64_t hhmmss = 0;
    size_t count = 0;
    if (!s.digit_run(hhmmss, count) || (count != 4 && count != 6)) return false;
    if (count == 4) hhmmss *= 100;
    p.hour = static_cast<int>(hhmmss / 10000);
    p.minute = static_cast<int>(hhmmss / 100 % 100);
    p.second = static_cast<int>(hhmmss % 100);
    if (count == 6 && (s.literal('.') || s.literal(','))) {
      p.fraction = s.digits_view(1, 9);
      if (p.fraction.empty()) return false;
    }
  } else if (is_digit(s.peek())) {
    if (!parse_time(s, p)) return false;
  }
  size_t before_zone = s.pos();
  s.spaces();
  if (s.done()) return true;
  if (!parse_zone(s, p)) {
    s.reset(before_zone);
    return false;
  }
  s.spaces();
  if (s.literal('(')) {  // trailing comment such as "(Moscow Standard Time)"
    while (!s.done() && s.peek() != ')') s.reset(s.pos() + 1);
    if (!s.literal(')')) return false;
    s.spaces();
  }
  return s.done();
}

bool parse_pattern(const std::string& pattern, std::string_view text, Parsed& p) {
  Scanner s(text);
  int64_t value = 0;
  bool has_year = false;
  bool two_digit_year = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (internal::is_ascii_space(c)) {
      s.spaces();
      continue;
    }
    if (c != '%') {
      if (!s.literal(c)) return false;
      continue;
    }
    char d = pattern[++i];
    switch (d) {
      case 'Y':
        if (!s.number(4, 4, value)) return false;
        p.year = value;
        has_year = true;
        break;
      case 'y':
        if (!s.number(2, 2, value)) return false;
        p.year = value;
        has_year = true;
        two_digit_year = true;
        break;
      case 'm':
        if (!s.number(1, 2, value)) return false;
        p.month = static_cast<int>(value);
        break;
      case 'd':
      case 'e':
        s.spaces();
        if (!s.number(1, 2, value)) return false;
        p.day = static_cast<int>(value);
        break;
      case 'H':
      case 'I':
        if (!s.number(1, 2, value)) return false;
        p.hour = static_cast<int>(value);
        break;
      case 'M':
        if (!s.number(1, 2, value)) return false;
        p.minute = static_cast<int>(value);
        break;
      case 'S':
        if (!s.number(1, 2, value)) return false;
        p.second = static_cast<int>(value);
        break;
      case 'f':
        p.fraction = s.digits_view(1, 9);
        if (p.fraction.empty()) return false;
        break;
      case 'p':
        if (s.literal_ci("am") || s.literal_ci("a.m."))
          p.pm = 0;
        else if (s.literal_ci("pm") || s.literal_ci("p.m."))
          p.pm = 1;
        else
          return false;
        break;
      case 'z':
      case 'Z':
        if (!parse_zone(s, p)) return false;
        break;
      case 'b':
      case 'B':
      case 'h': {
        int month = month_from_word(s.word());
        if (month == 0) return false;
        p.month = month;
        break;
      }
      case 'a':
      case 'A':
        if (!is_weekday(s.word())) return false;
        break;
      case 's': {
        bool negative = s.literal('-');
        size_t count = 0;
        if (!s.digit_run(value, count)) return false;
        p.epoch = true;
        p.epoch_seconds = negative ? -value : value;
        break;
      }
      case '%':
        if (!s.literal('%')) return false;
        break;
      default: return false;  // rejected when the pattern was compiled
    }
  }
  if (!s.done()) return false;
  if (two_digit_year) p.year = expand_two_digit_year(p.year);
  if (!p.epoch && !has_year) return false;
  return true;
}

// Expands %T %F %D %R and checks every directive; returns an error message or empty.
std::string compile_pattern(const std::string& pattern, std::string& expanded) {
  expanded.clear();
  bool date_year = false;
  bool date_month = false;
  bool date_day = false;
  bool epoch = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      expanded += pattern[i];
      continue;
    }
    if (i + 1 >= pattern.size()) return "ends with a lone '%'";
    char d = pattern[++i];
    switch (d) {
      case 'T': expanded += "%H:%M:%S"; break;
      case 'F':
        expanded += "%Y-%m-%d";
        date_year = date_month = date_day = true;
        break;
      case 'D':
        expanded += "%m/%d/%y";
        date_year = date_month = date_day = true;
        break;
      case 'R': expanded += "%H:%M"; break;
      case 'Y':
      case 'y':
        date_year = true;
        expanded += '%';
        expanded += d;
        break;
      case 'm':
      case 'b':
      case 'B':
      case 'h':
        date_month = true;
        expanded += '%';
        expanded += d;
        break;
      case 'd':
      case 'e':
        date_day = true;
        expanded += '%';
        expanded += d;
        break;
      case 's':
        epoch = true;
        expanded += "%s";
        break;
      case 'H':
      case 'I':
      case 'M':
      case 'S':
      case 'f':
      case 'p':
      case 'z':
      case 'Z':
      case 'a':
      case 'A':
      case '%':
        expanded += '%';
        expanded += d;
        break;
      default: return std::string("unknown directive '%") + d + "'";
    }
  }
  if (!epoch && !(date_year && date_month && date_day))
    return "has no complete date (needs %Y or %y, %m or %b, and %d; or %s)";
  return {};
}

// Per-thread cache of zones named inside values ("... Europe/Berlin"): createTimeZone is far too slow per value.
const icu::BasicTimeZone* named_zone(std::string_view name) {
  thread_local std::map<std::string, std::unique_ptr<icu::TimeZone>, std::less<>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    if (cache.size() > 256) cache.clear();
    icu::UnicodeString id =
        icu::UnicodeString::fromUTF8(icu::StringPiece(name.data(), static_cast<int32_t>(name.size())));
    std::unique_ptr<icu::TimeZone> zone(icu::TimeZone::createTimeZone(id));
    if (*zone == icu::TimeZone::getUnknown()) zone.reset();
    it = cache.emplace(std::string(name), std::move(zone)).first;
  }
  return dynamic_cast<const icu::BasicTimeZone*>(it->second.get());
}

bool local_to_utc(const icu::BasicTimeZone& zone, int64_t local_seconds, int64_t& utc_seconds) {
  int32_t raw = 0;
  int32_t dst = 0;
  UErrorCode status = U_ZERO_ERROR;
  zone.getOffsetFromLocal(static_cast<UDate>(local_seconds) * 1000.0, UCAL_TZ_LOCAL_FORMER, UCAL_TZ_LOCAL_FORMER, raw,
                          dst, status);
  if (U_FAILURE(status)) return false;
  utc_seconds = local_seconds - floor_div(static_cast<int64_t>(raw) + dst, 1000);
  return true;
}

}  // namespace

struct TimestampParser::State {
  std::vector<std::string> patterns;  // expanded; "auto" for the recogniser
  bool day_first = false;
  bool utc = true;
  std::unique_ptr<icu::BasicTimeZone> zone;

  bool parse(std::string_view text, Parsed& p) const {
    text = internal::trim_ascii(text);
    if (text.empty()) return false;
    for (const std::string& pattern : patterns) {
      p = Parsed{};
      bool ok = pattern == "auto" ? parse_auto(text, day_first, p) : parse_pattern(pattern, text, p);
      if (!ok) continue;
      if (p.epoch) return true;
      if (p.pm >= 0) {
        if (p.hour < 1 || p.hour > 12) continue;
        p.hour = p.hour % 12 + (p.pm == 1 ? 12 : 0);
      }
      if (!valid_date(p.year, p.month, p.day) || p.hour > 23 || p.minute > 59 || p.second > 59) continue;
      return true;
    }
    return false;
  }

  // Seconds since the epoch (UTC) of a parsed wall time.
  bool utc_seconds(const Parsed& p, int64_t& out) const {
    if (p.epoch) {
      out = p.epoch_seconds;
      return true;
    }
    int64_t local = days_from_civil(p.year, p.month, p.day) * kSecondsPerDay + p.hour * 3600 + p.minute * 60 + p.second;
    if (p.has_offset) {
      out = local - p.offset_seconds;
      return true;
    }
    if (!p.zone_name.empty()) {
      const icu::BasicTimeZone* named = named_zone(p.zone_name);
      return named != nullptr && local_to_utc(*named, local, out);
    }
    if (utc) {
      out = local;
      return true;
    }
    return local_to_utc(*zone, local, out);
  }
};

Result<TimestampParser> TimestampParser::create(const TimestampOptions& options) {
  auto state = std::make_shared<State>();
  state->day_first = options.day_first;
  if (options.formats.empty()) return failed_precondition("timestamp_formats is empty");
  for (const std::string& format : options.formats) {
    if (format == "auto") {
      state->patterns.push_back(format);
      continue;
    }
    std::string expanded;
    std::string problem = compile_pattern(format, expanded);
    if (!problem.empty()) return failed_precondition("timestamp format '" + format + "' " + problem);
    state->patterns.push_back(std::move(expanded));
  }
  if (options.timezone != "UTC" && options.timezone != "Etc/UTC") {
    icu::UnicodeString id = icu::UnicodeString::fromUTF8(options.timezone);
    std::unique_ptr<icu::TimeZone> zone(icu::TimeZone::createTimeZone(id));
    auto* basic = dynamic_cast<icu::BasicTimeZone*>(zone.get());
    if (*zone == icu::TimeZone::getUnknown() || basic == nullptr) {
      return failed_precondition("unknown time zone '" + options.timezone +
                                 "' (expected an IANA name such as Europe/Moscow)");
    }
    zone.release();
    state->zone.reset(basic);
    state->utc = false;
  }
  return TimestampParser(std::move(state));
}

std::optional<std::string> TimestampParser::to_utc_iso(std::string_view text) const {
  Parsed p;
  if (!state_->parse(text, p)) return std::nullopt;
  int64_t seconds = 0;
  if (!state_->utc_seconds(p, seconds)) return std::nullopt;
  int64_t year = 0;
  int month = 0;
  int day = 0;
  int64_t days = floor_div(seconds, kSecondsPerDay);
  int64_t in_day = seconds - days * kSecondsPerDay;
  civil_from_days(days, year, month, day);
  if (year < 1 || year > 9999) return std::nullopt;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d", static_cast<int>(year), month, day,
                static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60), static_cast<int>(in_day % 60));
  std::string out = buffer;
  std::string_view fraction = p.epoch ? std::string_view(p.epoch_fraction) : p.fraction;
  if (!fraction.empty()) {
    out += '.';
    out += fraction;
  }
  out += 'Z';
  return out;
}

std::optional<std::string> TimestampParser::to_date(std::string_view text) const {
  Parsed p;
  if (!state_->parse(text, p)) return std::nullopt;
  int64_t year = p.year;
  int month = p.month;
  int day = p.day;
  if (p.epoch) {
    int64_t local = p.epoch_seconds;
    if (!state_->utc) {
      int32_t raw = 0;
      int32_t dst = 0;
      UErrorCode status = U_ZERO_ERROR;
      state_->zone->getOffset(static_cast<UDate>(p.epoch_seconds) * 1000.0, false, raw, dst, status);
      if (U_FAILURE(status)) return std::nullopt;
      local += floor_div(static_cast<int64_t>(raw) + dst, 1000);
    }
    civil_from_days(floor_div(local, kSecondsPerDay), year, month, day);
    if (year < 1 || year > 9999) return std::nullopt;
  }
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", static_cast<int>(year), month, day);
  return std::string(buffer);
}

}  // namespace conflux::transforms
