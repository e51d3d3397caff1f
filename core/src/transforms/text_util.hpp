// Private to core/src/transforms: small UTF-8 and ASCII helpers shared by the stages. ICU stays inside the .cpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace conflux::transforms::internal {

// Space, tab, LF, VT, FF, CR: the set the benchmark peers and libphonenumber callers trim.
inline bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
std::string_view trim_ascii(std::string_view text);
bool is_ascii(std::string_view text);
std::string ascii_lower(std::string_view text);

// `text` cut to at most `max_chars` code points (never inside a UTF-8 sequence), with "..." appended when cut. Used
// for values quoted in rejection reasons, so a 10 kB cell never becomes a 10 kB reason.
std::string truncate_for_reason(std::string_view text, size_t max_chars = 64);
// "'<truncated text>'".
std::string quote_for_reason(std::string_view text);

bool is_valid_utf8(std::string_view text);

// Unicode-aware helpers (ICU). Invalid UTF-8 is returned unchanged by the case functions.
// Removes leading and trailing White_Space code points (includes NBSP and the other Unicode spaces).
std::string_view trim_unicode(std::string_view text);
// Full case folding: the form used to compare keys regardless of case ("Иван" and "ИВАН" fold equal).
std::string fold_case(std::string_view text);
std::string to_lower(std::string_view text);
std::string to_upper(std::string_view text);
// Number of code points of valid UTF-8 (bytes that are not continuation bytes).
size_t utf8_length(std::string_view text);

}  // namespace conflux::transforms::internal
