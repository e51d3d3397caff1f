// Writing JSON Lines: hand-written serialization of field values (no JSON library per record). Independent of the
// Conflux SDK (unit-tested in tests/unit/plugins/jsonl_test.cpp).
//
// Strings pass UTF-8 through unchanged and escape only what JSON requires (quote, backslash, control characters);
// doubles use the shortest text that reads back as the same value, with ".0" added to integral values so that they
// read back as doubles; decimals must already be JSON number literals; JSON values are copied with line breaks
// turned into spaces (a line break is only ever insignificant whitespace in valid JSON, and would split the line).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace conflux::plugins::jsonl {

namespace detail {
// First byte in [p, end) that a JSON string must escape: quote, backslash or a control character.
inline const char* find_escape(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control_max = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(block, control_max), control_max);
    __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(block, quote), _mm_cmpeq_epi8(block, backslash)), control);
    if (int mask = _mm_movemask_epi8(hits); mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
  return p;
}
}  // namespace detail

// Appends `value` as a JSON string literal, quotes included.
inline void append_json_string(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  const char* p = value.data();
  const char* end = p + value.size();
  for (;;) {
    const char* stop = detail::find_escape(p, end);
    out.append(p, stop);
    if (stop == end) break;
    const auto c = static_cast<unsigned char>(*stop);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    p = stop + 1;
  }
  out += '"';
}

inline void append_json_int(std::string& out, int64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// Appends the shortest round-trip text of `value`; false (nothing appended) for NaN and infinities, which JSON
// cannot represent.
inline bool append_json_double(std::string& out, double value) {
  if (!std::isfinite(value)) return false;
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string_view text(buffer, static_cast<size_t>(result.ptr - buffer));
  out.append(text);
  if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
  return true;
}

// True when `text` is a JSON number literal: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
inline bool is_json_number(std::string_view text) {
  size_t i = 0, n = text.size();
  auto digits = [&] {
    size_t start = i;
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
    return i > start;
  };
  if (i < n && text[i] == '-') ++i;
  if (i < n && text[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < n && text[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

// Appends a serialized JSON array or object, line breaks turned into spaces. False (nothing appended) when the text
// does not start with '[' or '{' after whitespace; the content is otherwise trusted (the host produced it).
inline bool append_json_raw(std::string& out, std::string_view json) {
  size_t first = json.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || (json[first] != '{' && json[first] != '[')) return false;
  size_t last = json.find_last_not_of(" \t\r\n");
  json = json.substr(first, last - first + 1);
  size_t start = out.size();
  out.append(json);
  for (size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
  }
  return true;
}

}  // namespace conflux::plugins::jsonl
