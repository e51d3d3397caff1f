// UTF-8 validation and escaping of raw input for the dead letters.
// (The same functions as plugins/file/csv/text_encoding.hpp: each connector folder builds on its own.)
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace conflux::plugins::jsonl {

inline constexpr size_t kValidUtf8 = static_cast<size_t>(-1);

// Index of the first byte of `text` that does not start a valid UTF-8 sequence (overlong forms, surrogates and code
// points above U+10FFFF are invalid), or kValidUtf8. ASCII runs are checked 16 bytes (SSE2) or 8 bytes at a time.
inline size_t find_invalid_utf8(const char* text, size_t size) {
  const auto* s = reinterpret_cast<const unsigned char*>(text);
  size_t i = 0;
  while (i < size) {
#if defined(__SSE2__)
    if (i + 16 <= size) {
      int high = _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i)));
      if (high == 0) {
        i += 16;
        continue;
      }
      i += static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(high)));  // skip the ASCII prefix
    }
#endif
    if (i + 8 <= size) {
      uint64_t word;
      std::memcpy(&word, s + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    if (c >= 0xC2 && c <= 0xDF) {
      // Two-byte sequences (Cyrillic, Latin accents) are the common non-ASCII case: check them inline.
      if (i + 1 < size && (s[i + 1] & 0xC0) == 0x80) {
        i += 2;
        continue;
      }
      return i;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
    } else {
      return i;
    }
    if (i + length > size) return i;
    unsigned char c1 = s[i + 1];
    if ((c1 & 0xC0) != 0x80) return i;
    if (length == 3) {
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (s[i + 2] & 0xC0) != 0x80) return i;
    } else if (length == 4) {
      if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90) || (s[i + 2] & 0xC0) != 0x80 ||
          (s[i + 3] & 0xC0) != 0x80) {
        return i;
      }
    }
    i += length;
  }
  return kValidUtf8;
}

// Appends `raw` to `out` with every byte that is not part of valid UTF-8 written as \xNN, so that raw input handed to
// the host for the dead letters is itself valid UTF-8. Valid text, backslashes included, is copied unchanged.
inline void append_escaped_raw(std::string& out, std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  while (!raw.empty()) {
    size_t bad = find_invalid_utf8(raw.data(), raw.size());
    if (bad == kValidUtf8) {
      out.append(raw);
      return;
    }
    out.append(raw.data(), bad);
    auto byte = static_cast<unsigned char>(raw[bad]);
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
    raw.remove_prefix(bad + 1);
  }
}

}  // namespace conflux::plugins::jsonl
