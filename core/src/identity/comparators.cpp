#include "conflux/identity/comparators.hpp"

#include <algorithm>
#include <array>

#include "conflux/common/civil_date.hpp"

namespace conflux::identity {

double jaro_winkler(std::string_view a, std::string_view b, double floor) {
  if (a.size() > 64) a = a.substr(0, 64);
  if (b.size() > 64) b = b.substr(0, 64);
  if (a.empty() || b.empty()) return a.empty() && b.empty() ? 1.0 : 0.0;
  if (a == b) return 1.0;
  const int la = static_cast<int>(a.size());
  const int lb = static_cast<int>(b.size());
  const int window = std::max(0, std::max(la, lb) / 2 - 1);
  // Positions of each byte in b as bit sets: the first free match of a[i] in its window is then one AND and one
  // count of trailing zeros instead of a scan. The table is thread-local and only the bytes of b are cleared after.
  thread_local uint64_t positions[256] = {};
  for (int j = 0; j < lb; ++j) positions[static_cast<unsigned char>(b[static_cast<size_t>(j)])] |= uint64_t{1} << j;
  // With a floor, stop as soon as even matching every remaining byte of a could not reach it. Jaro is at most
  // (m/la + m/lb + 1) / 3, and Winkler's bonus adds at most 0.4 of the rest when the first bytes agree.
  const double jaro_floor = a[0] == b[0] ? (floor - 0.4) / 0.6 : floor;
  int needed = 0;
  if (jaro_floor > 0) {
    // smallest m with (m/la + m/lb + 1) / 3 >= jaro_floor
    const double per_match = 1.0 / la + 1.0 / lb;
    needed = static_cast<int>((3 * jaro_floor - 1) / per_match - 1e-9) + (3 * jaro_floor - 1 > 0 ? 1 : 0);
    needed = std::max(0, needed);
  }
  uint64_t matched_a = 0;
  uint64_t matched_b = 0;
  int matches = 0;
  for (int i = 0; i < la; ++i) {
    if (matches + (la - i) < needed) {
      for (int j = 0; j < lb; ++j) positions[static_cast<unsigned char>(b[static_cast<size_t>(j)])] = 0;
      return 0.0;
    }
    const int lo = std::max(0, i - window);
    const int hi = std::min(lb - 1, i + window);
    if (lo > hi) continue;
    const uint64_t upto = hi >= 63 ? ~uint64_t{0} : (uint64_t{1} << (hi + 1)) - 1;
    const uint64_t in_window = upto & ~((uint64_t{1} << lo) - 1);
    const uint64_t free = positions[static_cast<unsigned char>(a[static_cast<size_t>(i)])] & in_window & ~matched_b;
    if (free == 0) continue;
    matched_a |= uint64_t{1} << i;
    matched_b |= free & (~free + 1);  // lowest set bit
    ++matches;
  }
  for (int j = 0; j < lb; ++j) positions[static_cast<unsigned char>(b[static_cast<size_t>(j)])] = 0;
  if (matches == 0) return 0.0;
  int transpositions = 0;
  uint64_t rest_b = matched_b;
  for (uint64_t rest_a = matched_a; rest_a != 0; rest_a &= rest_a - 1) {
    const int i = __builtin_ctzll(rest_a);
    const int j = __builtin_ctzll(rest_b);
    rest_b &= rest_b - 1;
    if (a[static_cast<size_t>(i)] != b[static_cast<size_t>(j)]) ++transpositions;
  }
  const double m = matches;
  const double jaro = (m / la + m / lb + (m - transpositions / 2) / m) / 3.0;
  int prefix = 0;
  const int max_prefix = std::min({4, la, lb});
  while (prefix < max_prefix && a[static_cast<size_t>(prefix)] == b[static_cast<size_t>(prefix)]) ++prefix;
  return jaro + prefix * 0.1 * (1.0 - jaro);
}

namespace {

// Row-based edit distance with a band cut: returns max + 1 as soon as every cell of a row exceeds `max`. The three
// rows live on the stack, uninitialised beyond what is read, and rotate by pointer: no clearing or copying per call.
template <bool kTranspositions>
int bounded_edit_distance(std::string_view a, std::string_view b, int max) {
  if (a.size() > b.size()) std::swap(a, b);
  const int la = static_cast<int>(a.size());
  const int lb = static_cast<int>(b.size());
  if (lb - la > max) return max + 1;
  if (la == 0) return lb;
  if (lb > 255) return std::min(max + 1, lb);  // identity fields are short; long text is "different"
  int rows[3][257];
  int* before = rows[0];
  int* previous = rows[1];
  int* current = rows[2];
  for (int j = 0; j <= la; ++j) previous[j] = j;
  for (int i = 1; i <= lb; ++i) {
    current[0] = i;
    int row_min = i;
    const char bi = b[static_cast<size_t>(i - 1)];
    for (int j = 1; j <= la; ++j) {
      const char aj = a[static_cast<size_t>(j - 1)];
      const int cost = bi == aj ? 0 : 1;
      int value = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if constexpr (kTranspositions) {
        if (i > 1 && j > 1 && bi == a[static_cast<size_t>(j - 2)] && b[static_cast<size_t>(i - 2)] == aj) {
          value = std::min(value, before[j - 2] + 1);
        }
      }
      current[j] = value;
      row_min = std::min(row_min, value);
    }
    if (row_min > max) return max + 1;
    int* spare = before;
    before = previous;
    previous = current;
    current = spare;
  }
  return std::min(previous[la], max + 1);
}

// Distance 0, 1 or 2 (meaning "more than 1") in one pass: skip the common prefix and suffix, then what is left must
// be one substitution, insertion or deletion (or an adjacent swap with transpositions). Most comparisons in a
// scoring run ask only "at most one edit?".
template <bool kTranspositions>
int within_one_edit(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > 1) return 2;
  size_t prefix = 0;
  while (prefix < a.size() && a[prefix] == b[prefix]) ++prefix;
  if (prefix == a.size() && a.size() == b.size()) return 0;
  size_t suffix = 0;
  while (suffix < a.size() - prefix && a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) ++suffix;
  const size_t rest_a = a.size() - prefix - suffix;
  const size_t rest_b = b.size() - prefix - suffix;
  if (rest_a <= 1 && rest_b <= 1) return 1;
  if constexpr (kTranspositions) {
    if (rest_a == 2 && rest_b == 2 && a[prefix] == b[prefix + 1] && a[prefix + 1] == b[prefix]) return 1;
  }
  return 2;
}

}  // namespace

int levenshtein(std::string_view a, std::string_view b, int max) {
  if (a == b) return 0;
  if (max <= 1) return std::min(within_one_edit<false>(a, b), max + 1);
  return bounded_edit_distance<false>(a, b, max);
}

int damerau_levenshtein(std::string_view a, std::string_view b, int max) {
  if (a == b) return 0;
  if (max <= 1) return std::min(within_one_edit<true>(a, b), max + 1);
  return bounded_edit_distance<true>(a, b, max);
}

namespace {

bool read_digits(std::string_view text, size_t at, size_t count, int32_t& out) {
  if (at + count > text.size()) return false;
  int32_t value = 0;
  for (size_t i = at; i < at + count; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

bool valid_day(int32_t year, int32_t month, int32_t day) {
  static constexpr std::array<int32_t, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1800 || year > 2200 || month < 1 || month > 12 || day < 1) return false;
  if (day > kDays[static_cast<size_t>(month - 1)]) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return !(month == 2 && day == 29 && !leap);
}

}  // namespace

std::optional<Date> parse_date(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  Date d;
  bool ok = false;
  if (text.size() == 8) {
    ok = read_digits(text, 0, 4, d.year) && read_digits(text, 4, 2, d.month) && read_digits(text, 6, 2, d.day);
  } else if (text.size() >= 10 && (text[4] == '-' || text[4] == '/') && text[7] == text[4]) {
    ok = read_digits(text, 0, 4, d.year) && read_digits(text, 5, 2, d.month) && read_digits(text, 8, 2, d.day);
  } else if (text.size() == 10 && text[2] == '.' && text[5] == '.') {
    ok = read_digits(text, 6, 4, d.year) && read_digits(text, 3, 2, d.month) && read_digits(text, 0, 2, d.day);
  }
  if (!ok || !valid_day(d.year, d.month, d.day)) return std::nullopt;
  d.days = static_cast<int32_t>(conflux::days_from_civil(d.year, d.month, d.day));
  return d;
}

std::string normalise_email(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const size_t at = out.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= out.size()) return {};
  return out;
}

std::string normalise_phone(std::string_view text, std::string_view default_country) {
  std::string digits;
  bool plus = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') digits += c;
    else if (c == '+' && digits.empty()) plus = true;
  }
  if (!plus) {
    if (digits.rfind("00", 0) == 0) {  // international call prefix
      digits.erase(0, 2);
    } else if (default_country == "7") {
      if (digits.size() == 11 && (digits[0] == '8' || digits[0] == '7')) digits.erase(0, 1);
      if (digits.size() == 10) digits.insert(0, "7");
    } else if (default_country == "1") {
      if (digits.size() == 10) digits.insert(0, "1");
    } else if (!default_country.empty() && !digits.empty() && digits[0] == '0') {
      digits = std::string(default_country) + digits.substr(1);  // trunk prefix 0 (most of Europe)
    }
  }
  if (digits.size() < 7 || digits.size() > 15) return {};
  return "+" + digits;
}

}  // namespace conflux::identity
