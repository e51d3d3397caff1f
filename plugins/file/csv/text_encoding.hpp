// Text encodings of CSV input: byte-order marks, decoders to UTF-8, UTF-8 validation and escaping of raw text.
//
// UTF-8 input is never decoded: the reader parses the bytes it read and validates each record. Other encodings are
// decoded chunk by chunk into UTF-8 with hand-written decoders (a table for windows-1251, bit arithmetic for UTF-16):
// both are simpler and faster than a general converter, and they let the reader map a position in the decoded text
// back to a byte offset in the file (Decoder::source_bytes), which the resume cursor needs.
//
// Input that cannot be decoded (windows-1251 byte 0x98, an unpaired UTF-16 surrogate, an odd trailing byte) becomes
// the byte kUndecodable in the output: 0xFF never occurs in UTF-8, so the reader's UTF-8 check reports the record as
// invalid instead of passing a replacement character on silently.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace conflux::plugins::csv {

enum class Encoding { kUtf8, kUtf16Le, kUtf16Be, kWindows1251 };

// What the user asked for; kAuto and kUtf16 are resolved with the byte-order mark.
enum class EncodingSetting { kAuto, kUtf8, kUtf16, kUtf16Le, kUtf16Be, kWindows1251 };

inline const char* encoding_name(Encoding encoding) {
  switch (encoding) {
    case Encoding::kUtf8: return "utf-8";
    case Encoding::kUtf16Le: return "utf-16le";
    case Encoding::kUtf16Be: return "utf-16be";
    case Encoding::kWindows1251: return "windows-1251";
  }
  return "?";
}

// Accepts the names the config schema lists (and the common aliases utf8, utf16, cp1251).
inline std::optional<EncodingSetting> parse_encoding_setting(std::string_view name) {
  if (name == "auto") return EncodingSetting::kAuto;
  if (name == "utf-8" || name == "utf8") return EncodingSetting::kUtf8;
  if (name == "utf-16" || name == "utf16") return EncodingSetting::kUtf16;
  if (name == "utf-16le") return EncodingSetting::kUtf16Le;
  if (name == "utf-16be") return EncodingSetting::kUtf16Be;
  if (name == "windows-1251" || name == "cp1251") return EncodingSetting::kWindows1251;
  return std::nullopt;
}

struct ByteOrderMark {
  Encoding encoding;
  size_t length;
};

// The byte-order mark `head` (the first bytes of a file) starts with, if any.
inline std::optional<ByteOrderMark> detect_bom(std::string_view head) {
  if (head.size() >= 3 && head.substr(0, 3) == "\xEF\xBB\xBF") return ByteOrderMark{Encoding::kUtf8, 3};
  if (head.size() >= 2 && head.substr(0, 2) == "\xFF\xFE") return ByteOrderMark{Encoding::kUtf16Le, 2};
  if (head.size() >= 2 && head.substr(0, 2) == "\xFE\xFF") return ByteOrderMark{Encoding::kUtf16Be, 2};
  return std::nullopt;
}

inline constexpr unsigned char kUndecodable = 0xFF;
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

// Converts a byte stream in some encoding to UTF-8, chunk by chunk; a character split across chunks is kept until
// the next call. Not thread-safe.
class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual Encoding encoding() const = 0;
  // Upper bound of the bytes decode(n bytes) or finish() writes.
  virtual size_t max_output(size_t input_size) const = 0;
  // Decodes `size` bytes to `out` (which has room for max_output(size)); returns the bytes written.
  virtual size_t decode(const char* input, size_t size, char* out) = 0;
  // At the end of the input: flushes a pending partial character as kUndecodable bytes and resets.
  virtual size_t finish(char* out) = 0;
  // Forgets any pending partial character (after a seek).
  virtual void reset() = 0;
  // How many input bytes produced the decoded text [text, text + size), which must be whole characters.
  virtual uint64_t source_bytes(const char* text, size_t size) const = 0;
};

namespace detail {
inline char* put_utf8(uint32_t code_point, char* out) {
  if (code_point < 0x80) {
    *out++ = static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    *out++ = static_cast<char>(0xC0 | (code_point >> 6));
    *out++ = static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    *out++ = static_cast<char>(0xE0 | (code_point >> 12));
    *out++ = static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    *out++ = static_cast<char>(0xF0 | (code_point >> 18));
    *out++ = static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    *out++ = static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (code_point & 0x3F));
  }
  return out;
}
}  // namespace detail

// Windows-1251 (Cyrillic): one byte, one character. 0x98 is unassigned and decodes to kUndecodable.
class Windows1251Decoder final : public Decoder {
 public:
  Windows1251Decoder() {
    // Code points of bytes 0x80..0xFF (0 = unassigned); the same table as glibc iconv's WINDOWS-1251.
    static constexpr uint16_t kHigh[128] = {
        0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021, 0x20AC, 0x2030, 0x0409, 0x2039, 0x040A,
        0x040C, 0x040B, 0x040F, 0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x0000, 0x2122,
        0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F, 0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6,
        0x00A7, 0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407, 0x00B0, 0x00B1, 0x0406, 0x0456,
        0x0491, 0x00B5, 0x00B6, 0x00B7, 0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457, 0x0410,
        0x0411, 0x0412, 0x0413, 0x0414, 0x0415, 0x0416, 0x0417, 0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D,
        0x041E, 0x041F, 0x0420, 0x0421, 0x0422, 0x0423, 0x0424, 0x0425, 0x0426, 0x0427, 0x0428, 0x0429, 0x042A,
        0x042B, 0x042C, 0x042D, 0x042E, 0x042F, 0x0430, 0x0431, 0x0432, 0x0433, 0x0434, 0x0435, 0x0436, 0x0437,
        0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E, 0x043F, 0x0440, 0x0441, 0x0442, 0x0443, 0x0444,
        0x0445, 0x0446, 0x0447, 0x0448, 0x0449, 0x044A, 0x044B, 0x044C, 0x044D, 0x044E, 0x044F};
    for (unsigned byte = 0; byte < 256; ++byte) {
      uint32_t code_point = byte < 0x80 ? byte : kHigh[byte - 0x80];
      Utf8& entry = table_[byte];
      if (byte >= 0x80 && code_point == 0) {
        entry.bytes[0] = static_cast<char>(kUndecodable);
        entry.length = 1;
      } else {
        entry.length = static_cast<uint8_t>(detail::put_utf8(code_point, entry.bytes) - entry.bytes);
      }
    }
  }
  Encoding encoding() const override { return Encoding::kWindows1251; }
  size_t max_output(size_t input_size) const override { return 3 * input_size + 4; }
  size_t decode(const char* input, size_t size, char* out) override {
    char* o = out;
    for (size_t i = 0; i < size; ++i) {
      if (i + 8 <= size) {  // fast path: eight ASCII bytes are copied as they are
        uint64_t word;
        std::memcpy(&word, input + i, 8);
        if ((word & 0x8080808080808080ULL) == 0) {
          std::memcpy(o, &word, 8);
          o += 8;
          i += 7;
          continue;
        }
      }
      const Utf8& entry = table_[static_cast<unsigned char>(input[i])];
      if (entry.length == 1) {
        *o++ = entry.bytes[0];
      } else {
        std::memcpy(o, entry.bytes, 4);  // table_ entries are 4 bytes wide; only `length` of them count
        o += entry.length;
      }
    }
    return static_cast<size_t>(o - out);
  }
  size_t finish(char*) override { return 0; }
  void reset() override {}
  uint64_t source_bytes(const char* text, size_t size) const override {
    uint64_t characters = 0;  // every byte that is not a UTF-8 continuation byte came from one input byte
    for (size_t i = 0; i < size; ++i) characters += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    return characters;
  }

 private:
  struct Utf8 {
    char bytes[4] = {0, 0, 0, 0};
    uint8_t length = 0;
  };
  std::array<Utf8, 256> table_{};
};

// UTF-16 of either byte order. Unpaired surrogates decode to two kUndecodable bytes (one per input byte), an odd
// trailing byte at the end of the input to one.
class Utf16Decoder final : public Decoder {
 public:
  explicit Utf16Decoder(bool little_endian) : little_endian_(little_endian) {}
  Encoding encoding() const override { return little_endian_ ? Encoding::kUtf16Le : Encoding::kUtf16Be; }
  size_t max_output(size_t input_size) const override { return (input_size / 2 + 2) * 5; }
  size_t decode(const char* input, size_t size, char* out) override {
    const auto* in = reinterpret_cast<const unsigned char*>(input);
    char* o = out;
    size_t i = 0;
    if (pending_byte_ >= 0 && size > 0) {
      o = put_unit(unit(static_cast<unsigned char>(pending_byte_), in[0]), o);
      pending_byte_ = -1;
      i = 1;
    }
    while (i + 1 < size) {
#if defined(__SSE2__)
      // Fast path: eight code units that are all ASCII become eight bytes.
      if (pending_high_ == 0 && i + 16 <= size) {
        __m128i units = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
        if (!little_endian_) units = _mm_or_si128(_mm_slli_epi16(units, 8), _mm_srli_epi16(units, 8));
        __m128i high = _mm_and_si128(units, _mm_set1_epi16(static_cast<short>(0xFF80)));
        if (_mm_movemask_epi8(_mm_cmpeq_epi16(high, _mm_setzero_si128())) == 0xFFFF) {
          _mm_storel_epi64(reinterpret_cast<__m128i*>(o), _mm_packus_epi16(units, units));
          o += 8;
          i += 16;
          continue;
        }
      }
#endif
      o = put_unit(unit(in[i], in[i + 1]), o);
      i += 2;
    }
    if (i < size) pending_byte_ = in[i];
    return static_cast<size_t>(o - out);
  }
  size_t finish(char* out) override {
    char* o = out;
    if (pending_high_ != 0) o = put_undecodable(o, 2);
    if (pending_byte_ >= 0) o = put_undecodable(o, 1);
    reset();
    return static_cast<size_t>(o - out);
  }
  void reset() override {
    pending_byte_ = -1;
    pending_high_ = 0;
  }
  uint64_t source_bytes(const char* text, size_t size) const override {
    uint64_t bytes = 0;
    for (size_t i = 0; i < size; ++i) {
      auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x80) {
        bytes += 2;
      } else if (c == kUndecodable) {
        bytes += 1;
      } else if (c >= 0xF0) {
        bytes += 4;  // a supplementary character came from a surrogate pair
      } else if (c >= 0xC0) {
        bytes += 2;
      }
    }
    return bytes;
  }

 private:
  uint16_t unit(unsigned char first, unsigned char second) const {
    return little_endian_ ? static_cast<uint16_t>(first | (second << 8)) : static_cast<uint16_t>((first << 8) | second);
  }
  static char* put_undecodable(char* out, int count) {
    for (int k = 0; k < count; ++k) *out++ = static_cast<char>(kUndecodable);
    return out;
  }
  char* put_unit(uint16_t u, char* out) {
    if (pending_high_ != 0) {
      if (u >= 0xDC00 && u <= 0xDFFF) {
        uint32_t code_point = 0x10000 + ((static_cast<uint32_t>(pending_high_) - 0xD800) << 10) + (u - 0xDC00u);
        pending_high_ = 0;
        return detail::put_utf8(code_point, out);
      }
      out = put_undecodable(out, 2);
      pending_high_ = 0;
    }
    if (u < 0x80) {
      *out++ = static_cast<char>(u);
    } else if (u >= 0xD800 && u <= 0xDBFF) {
      pending_high_ = u;
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      out = put_undecodable(out, 2);
    } else {
      out = detail::put_utf8(u, out);
    }
    return out;
  }

  bool little_endian_;
  int pending_byte_ = -1;
  uint16_t pending_high_ = 0;
};

}  // namespace conflux::plugins::csv
