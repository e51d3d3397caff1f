// Writing CSV: RFC 4180 field quoting and value formatting. Independent of the Conflux SDK (unit-tested in
// tests/unit/plugins/csv_writer_test.cpp).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace conflux::plugins::csv {

struct WriterFormat {
  char delimiter = ',';
  int quote = '"';  // -1: never quote (values that would need quoting are refused)
  bool crlf = false;
};

// True when `value` must be quoted: it holds the delimiter, the quote character or a line break.
inline bool needs_quoting(std::string_view value, const WriterFormat& format) {
  for (char c : value) {
    if (c == format.delimiter || c == '\n' || c == '\r' || (format.quote >= 0 && c == static_cast<char>(format.quote))) {
      return true;
    }
  }
  return false;
}

// Appends `value` as one field, quoted (with inner quotes doubled) when needed or when `force_quotes` (used for the
// empty value of a one-column file, which would otherwise be a blank line). Returns false, appending nothing, when
// the value needs quoting but quoting is off.
inline bool append_field(std::string& out, std::string_view value, const WriterFormat& format,
                         bool force_quotes = false) {
  if (!force_quotes && !needs_quoting(value, format)) {
    out.append(value);
    return true;
  }
  if (format.quote < 0) return false;
  const char quote = static_cast<char>(format.quote);
  out += quote;
  for (size_t next = value.find(quote); next != std::string_view::npos; next = value.find(quote)) {
    out.append(value.substr(0, next + 1));
    out += quote;
    value.remove_prefix(next + 1);
  }
  out.append(value);
  out += quote;
  return true;
}

inline void append_line_end(std::string& out, const WriterFormat& format) { out += format.crlf ? "\r\n" : "\n"; }

// Text of a double that reads back as the same value (shortest round trip).
inline void append_double(std::string& out, double value) {
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

inline void append_int(std::string& out, int64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

}  // namespace conflux::plugins::csv
