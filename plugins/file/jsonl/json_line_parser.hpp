// JsonLineParser: parses one JSON Lines line into the top-level fields of its object.
//
// Independent of the Conflux SDK so that unit tests drive it directly (tests/unit/plugins/jsonl_test.cpp).
//
// Why hand-written rather than simdjson: a line is small (hundreds of bytes), where simdjson's advantage is small,
// and we need three things it does not give together: full validation of nested values we do not otherwise read,
// the exact source text of every number (to keep long decimals exact), and error messages with the byte position.
// The parser validates everything (RFC 8259 grammar, escapes, surrogate pairs, UTF-8), copies nothing it does not
// have to, and scans strings 16 bytes at a time with SSE2.
//
// Value mapping:
//   string -> kString (unescaped)          true/false -> kBool        null -> kNull
//   integer that fits int64 -> kInt         larger integer -> kDecimal (source text)
//   number with fraction/exponent -> kDouble, unless it has more than 15 significant digits and the double's shortest
//   text differs from it (the double would round it): then kDecimal, the source text (exponent written out)
//   object or array -> kJson, compacted (insignificant whitespace removed, everything else as in the source)
//
// Errors: parse() returns false and error() says what and where ("expected ':' after the key at byte 17"). A line
// whose top-level value is not an object, and an object with a duplicate key, are errors too.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "utf8.hpp"

namespace conflux::plugins::jsonl {

enum class ValueKind { kNull, kBool, kInt, kDouble, kDecimal, kString, kJson };

struct JsonField {
  std::string_view name;
  ValueKind kind = ValueKind::kNull;
  std::string_view text;  // kString: unescaped; kDecimal: the number's text; kJson: compact array/object
  int64_t int_value = 0;  // kInt; kBool: 0 or 1
  double double_value = 0;
};

class JsonLineParser {
 public:
  static constexpr size_t kMaxDepth = 512;

  // `utf8_fast_check`: optional fast whole-line UTF-8 check (the plugin passes simdjson's SIMD validator); true means
  // valid. The built-in scalar check still locates the first bad byte when it returns false.
  explicit JsonLineParser(bool (*utf8_fast_check)(const char*, size_t) = nullptr) : utf8_fast_check_(utf8_fast_check) {}

  // Parses `line` (without its line break). On success fields() holds the members in order; its views point into
  // `line` or into the parser and stay valid until the next parse() or the line's storage changes.
  bool parse(std::string_view line) {
    line_ = line;
    storage_.clear();
    pending_.clear();
    fields_.clear();
    error_.clear();
    if (utf8_fast_check_ == nullptr || !utf8_fast_check_(line.data(), line.size())) {
      if (size_t bad = find_invalid_utf8(line.data(), line.size()); bad != kValidUtf8) {
        error_ = "invalid UTF-8 at byte " + std::to_string(bad + 1);
        return false;
      }
    }
    p_ = line.data();
    end_ = p_ + line.size();
    if (!parse_object()) return false;
    skip_whitespace();
    if (p_ != end_) return fail("unexpected text after the object");
    resolve();
    return check_duplicates();
  }

  const std::vector<JsonField>& fields() const { return fields_; }
  const std::string& error() const { return error_; }

 private:
  // Text lives either in the line or in storage_ (unescaped strings, compacted JSON); views are made once parsing is
  // over and storage_ stops moving.
  struct Text {
    size_t offset = 0;
    size_t size = 0;
    bool in_storage = false;
  };
  struct Pending {
    Text name;
    ValueKind kind = ValueKind::kNull;
    Text text;
    int64_t int_value = 0;
    double double_value = 0;
  };

  bool parse_object() {
    skip_whitespace();
    if (p_ == end_) return fail("empty line");
    if (*p_ != '{') {
      return fail(*p_ == '[' ? "the line is a JSON array; expected an object" : "expected a JSON object");
    }
    ++p_;
    skip_whitespace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      skip_whitespace();
      if (p_ == end_ || *p_ != '"') return fail("expected a key (a string)");
      Pending field;
      if (!read_string(field.name)) return false;
      skip_whitespace();
      if (p_ == end_ || *p_ != ':') return fail("expected ':' after the key");
      ++p_;
      skip_whitespace();
      if (!read_member_value(field)) return false;
      pending_.push_back(field);
      skip_whitespace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ < end_ && *p_ == '}') {
        ++p_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool read_member_value(Pending& field) {
    if (p_ == end_) return fail("expected a value");
    switch (*p_) {
      case '"':
        field.kind = ValueKind::kString;
        return read_string(field.text);
      case '{':
      case '[':
        nested_.clear();
        if (!copy_value(nested_, 1)) return false;
        field.kind = ValueKind::kJson;
        field.text = {storage_.size(), nested_.size(), true};
        storage_ += nested_;
        return true;
      case 't':
        field.kind = ValueKind::kBool;
        field.int_value = 1;
        return literal("true");
      case 'f':
        field.kind = ValueKind::kBool;
        return literal("false");
      case 'n':
        field.kind = ValueKind::kNull;
        return literal("null");
      default:
        return read_number(field);
    }
  }

  bool read_number(Pending& field) {
    const char* start = p_;
    bool fraction = false, exponent = false;
    if (!scan_number(fraction, exponent)) return false;
    std::string_view text(start, static_cast<size_t>(p_ - start));
    Text source{static_cast<size_t>(start - line_.data()), text.size(), false};
    if (!fraction && !exponent) {
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), field.int_value);
      if (error == std::errc() && end == text.data() + text.size()) {
        field.kind = ValueKind::kInt;
      } else {
        field.kind = ValueKind::kDecimal;  // beyond int64: keep it exact
        field.text = source;
      }
      return true;
    }
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), field.double_value);
    if (error != std::errc()) {
      p_ = start;
      return fail("number out of the range of a double");
    }
    field.kind = ValueKind::kDouble;
    // Up to 15 significant digits always survive a double. Beyond that, keep the double only when its shortest text
    // has the same digits; otherwise the exact decimal text (exponent written out).
    Digits written = normalize(text);
    if (written.digits.size() <= 15) return true;
    char shortest[32];
    auto printed = std::to_chars(shortest, shortest + sizeof shortest, field.double_value);
    Digits round_trip = normalize(std::string_view(shortest, static_cast<size_t>(printed.ptr - shortest)));
    if (round_trip.digits == written.digits && round_trip.exponent == written.exponent) return true;
    field.kind = ValueKind::kDecimal;
    if (!exponent) {
      field.text = source;
      return true;
    }
    field.text = {storage_.size(), 0, true};
    append_plain(storage_, written);
    field.text.size = storage_.size() - field.text.offset;
    return true;
  }

  // A number as sign, significant digits (no leading or trailing zeros) and exponent: value = 0.DIGITS x 10^exponent.
  struct Digits {
    bool negative = false;
    std::string digits;
    int64_t exponent = 0;
  };

  static Digits normalize(std::string_view number) {
    Digits out;
    size_t i = 0;
    if (i < number.size() && number[i] == '-') {
      out.negative = true;
      ++i;
    }
    // All mantissa digits in order, and how many stood before the point: value = 0.DIGITS x 10^integer_digits.
    int64_t integer_digits = 0;
    bool after_point = false;
    for (; i < number.size() && number[i] != 'e' && number[i] != 'E'; ++i) {
      if (number[i] == '.') {
        after_point = true;
        continue;
      }
      out.digits += number[i];
      if (!after_point) ++integer_digits;
    }
    out.exponent = integer_digits;
    if (i < number.size()) {
      std::string_view tail = number.substr(i + 1);
      if (!tail.empty() && tail[0] == '+') tail.remove_prefix(1);
      int64_t exponent_part = 0;
      std::from_chars(tail.data(), tail.data() + tail.size(), exponent_part);
      out.exponent += exponent_part;
    }
    size_t leading = out.digits.find_first_not_of('0');
    if (leading == std::string::npos) return Digits{};
    out.digits.erase(0, leading);
    out.exponent -= static_cast<int64_t>(leading);
    out.digits.erase(out.digits.find_last_not_of('0') + 1);
    return out;
  }

  // Writes `number` in plain decimal notation, e.g. {"123", 1} -> "1.23", {"5", -2} -> "0.0005".
  static void append_plain(std::string& out, const Digits& number) {
    if (number.negative) out += '-';
    const auto length = static_cast<int64_t>(number.digits.size());
    if (number.exponent <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-number.exponent), '0');
      out += number.digits;
    } else if (number.exponent >= length) {
      out += number.digits;
      out.append(static_cast<size_t>(number.exponent - length), '0');
    } else {
      out.append(number.digits, 0, static_cast<size_t>(number.exponent));
      out += '.';
      out.append(number.digits, static_cast<size_t>(number.exponent), std::string::npos);
    }
  }

  // RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool scan_number(bool& fraction, bool& exponent) {
    auto digit = [this] { return p_ < end_ && *p_ >= '0' && *p_ <= '9'; };
    if (p_ < end_ && *p_ == '-') ++p_;
    if (!digit()) return fail(p_ < end_ && (*p_ == '+' || *p_ == '.') ? "invalid number" : "expected a value");
    if (*p_ == '0') {
      ++p_;
      if (digit()) return fail("invalid number (leading zero)");
    } else {
      while (digit()) ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      fraction = true;
      ++p_;
      if (!digit()) return fail("invalid number (no digits after '.')");
      while (digit()) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      exponent = true;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digit()) return fail("invalid number (no digits in the exponent)");
      while (digit()) ++p_;
    }
    return true;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return fail("invalid literal (expected true, false or null)");
    }
    p_ += word.size();
    return true;
  }

  // Copies one value to `out` without insignificant whitespace, validating it completely.
  bool copy_value(std::string& out, size_t depth) {
    if (depth > kMaxDepth) return fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    if (p_ == end_) return fail("expected a value");
    const char open = *p_;
    if (open == '{' || open == '[') {
      const char close = open == '{' ? '}' : ']';
      out += open;
      ++p_;
      skip_whitespace();
      if (p_ < end_ && *p_ == close) {
        out += close;
        ++p_;
        return true;
      }
      for (;;) {
        skip_whitespace();
        if (open == '{') {
          if (p_ == end_ || *p_ != '"') return fail("expected a key (a string)");
          if (!copy_string(out)) return false;
          skip_whitespace();
          if (p_ == end_ || *p_ != ':') return fail("expected ':' after the key");
          out += ':';
          ++p_;
          skip_whitespace();
        }
        if (!copy_value(out, depth + 1)) return false;
        skip_whitespace();
        if (p_ < end_ && *p_ == ',') {
          out += ',';
          ++p_;
          continue;
        }
        if (p_ < end_ && *p_ == close) {
          out += close;
          ++p_;
          return true;
        }
        return fail(open == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
    const char* start = p_;
    bool ok;
    switch (open) {
      case '"': return copy_string(out);
      case 't': ok = literal("true"); break;
      case 'f': ok = literal("false"); break;
      case 'n': ok = literal("null"); break;
      default: {
        bool fraction = false, exponent = false;
        ok = scan_number(fraction, exponent);
      }
    }
    if (ok) out.append(start, p_);
    return ok;
  }

  // Validates a string and appends its source text, escapes as written.
  bool copy_string(std::string& out) {
    const char* start = p_;
    if (!read_string_into(nullptr)) return false;
    out.append(start, p_);
    return true;
  }

  bool read_string(Text& text) {
    const char* content = p_ + 1;
    size_t mark = storage_.size();
    bool escaped = false;
    if (!read_string_into(&storage_, &escaped)) return false;
    if (escaped) {
      text = {mark, storage_.size() - mark, true};
    } else {
      text = {static_cast<size_t>(content - line_.data()), static_cast<size_t>(p_ - 1 - content), false};
    }
    return true;
  }

  // Moves past the string at p_ (on its opening quote). With `out`, appends the unescaped content there, but only
  // when the string has escapes (`*escaped` says so); otherwise the content is a slice of the line.
  bool read_string_into(std::string* out, bool* escaped = nullptr) {
    const char* open = p_;
    const char* run = ++p_;
    bool copying = false;
    for (;;) {
      p_ = scan_string(p_);
      if (p_ == end_) {
        p_ = open;
        return fail("unterminated string");
      }
      const char c = *p_;
      if (c == '"') {
        if (copying) out->append(run, p_);
        ++p_;
        if (escaped) *escaped = copying;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string (it must be escaped)");
      // A backslash: switch to copying the content if we keep it.
      if (out != nullptr) {
        out->append(run, p_);
        copying = true;
      }
      if (!read_escape(out)) return false;
      run = p_;
    }
  }

  bool read_escape(std::string* out) {
    if (end_ - p_ < 2) return fail("unterminated escape");
    char decoded;
    switch (p_[1]) {
      case '"': decoded = '"'; break;
      case '\\': decoded = '\\'; break;
      case '/': decoded = '/'; break;
      case 'b': decoded = '\b'; break;
      case 'f': decoded = '\f'; break;
      case 'n': decoded = '\n'; break;
      case 'r': decoded = '\r'; break;
      case 't': decoded = '\t'; break;
      case 'u': return read_unicode_escape(out);
      default: return fail("invalid escape");
    }
    if (out != nullptr) *out += decoded;
    p_ += 2;
    return true;
  }

  bool read_unicode_escape(std::string* out) {
    uint32_t unit;
    if (!hex4(p_ + 2, unit)) return fail("invalid \\u escape");
    uint32_t code_point = unit;
    size_t length = 6;
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      uint32_t low;
      if (end_ - p_ < 12 || p_[6] != '\\' || p_[7] != 'u' || !hex4(p_ + 8, low) || low < 0xDC00 || low > 0xDFFF) {
        return fail("unpaired surrogate in a \\u escape");
      }
      code_point = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
      length = 12;
    } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
      return fail("unpaired surrogate in a \\u escape");
    }
    if (out != nullptr) append_utf8(*out, code_point);
    p_ += length;
    return true;
  }

  bool hex4(const char* at, uint32_t& value) const {
    if (end_ - at < 4) return false;
    value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = at[i];
      uint32_t digit;
      if (c >= '0' && c <= '9') {
        digit = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
      value = value * 16 + digit;
    }
    return true;
  }

  static void append_utf8(std::string& out, uint32_t code_point) {
    if (code_point < 0x80) {
      out += static_cast<char>(code_point);
    } else if (code_point < 0x800) {
      out += static_cast<char>(0xC0 | (code_point >> 6));
      out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else if (code_point < 0x10000) {
      out += static_cast<char>(0xE0 | (code_point >> 12));
      out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code_point >> 18));
      out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code_point & 0x3F));
    }
  }

  // First byte at or after `p` that is a quote, a backslash or a control character, or end_.
  const char* scan_string(const char* p) const {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i control_max = _mm_set1_epi8(0x1F);
    while (end_ - p >= 16) {
      __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(block, control_max), control_max);  // bytes <= 0x1F
      __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(block, quote), _mm_cmpeq_epi8(block, backslash)), control);
      if (int mask = _mm_movemask_epi8(hits); mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
      p += 16;
    }
#endif
    while (p < end_ && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
    return p;
  }

  void skip_whitespace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }

  bool fail(const std::string& what) {
    error_ = what + " at byte " + std::to_string(p_ - line_.data() + 1);
    return false;
  }

  std::string_view view(const Text& text) const {
    return text.in_storage ? std::string_view(storage_.data() + text.offset, text.size)
                           : std::string_view(line_.data() + text.offset, text.size);
  }

  void resolve() {
    fields_.resize(pending_.size());
    for (size_t i = 0; i < pending_.size(); ++i) {
      const Pending& p = pending_[i];
      JsonField& f = fields_[i];
      f.name = view(p.name);
      f.kind = p.kind;
      f.text = p.kind == ValueKind::kString || p.kind == ValueKind::kDecimal || p.kind == ValueKind::kJson
                   ? view(p.text)
                   : std::string_view();
      f.int_value = p.int_value;
      f.double_value = p.double_value;
    }
  }

  // A record cannot carry two fields of one name. Quadratic, but objects are small; large ones use a sorted copy.
  bool check_duplicates() {
    const size_t n = fields_.size();
    if (n <= 32) {
      for (size_t i = 1; i < n; ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (fields_[i].name == fields_[j].name) return duplicate(fields_[i].name);
        }
      }
      return true;
    }
    names_.clear();
    for (const JsonField& f : fields_) names_.push_back(f.name);
    std::sort(names_.begin(), names_.end());
    for (size_t i = 1; i < n; ++i) {
      if (names_[i] == names_[i - 1]) return duplicate(names_[i]);
    }
    return true;
  }

  bool duplicate(std::string_view name) {
    error_ = "duplicate key \"";
    append_escaped_raw(error_, name.substr(0, 200));
    error_ += "\"";
    fields_.clear();
    return false;
  }

  bool (*utf8_fast_check_)(const char*, size_t) = nullptr;
  std::string_view line_;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  std::string storage_;
  std::string nested_;
  std::vector<Pending> pending_;
  std::vector<JsonField> fields_;
  std::vector<std::string_view> names_;
  std::string error_;
};

}  // namespace conflux::plugins::jsonl
