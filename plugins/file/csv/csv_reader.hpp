// CsvReader: a streaming RFC 4180 reader with bounded memory, exact resume positions and per-record error reports.
//
// Independent of the Conflux SDK so that unit tests drive it directly (tests/unit/plugins/csv_reader_test.cpp).
//
// Contract:
//   - open() reads the byte-order mark, skips `skip_rows` lines, sniffs the delimiter when asked, reads the header
//     (or the first row to count columns) and then seeks to the resume position, if any. It throws FormatError when
//     the file cannot be read as configured and InputError on I/O faults.
//   - next() returns one record, one invalid input or the end. Bad input never stops the reader: a ragged row, a
//     broken quote or text that is not valid UTF-8 comes back as kInvalid with a reason naming the line and byte, and
//     the raw text with undecodable bytes escaped as \xNN. Nothing is skipped silently except blank lines
//     (skip_blank_lines) and the `skip_rows` lines before the header.
//   - position() is where the next unread record starts: a byte offset in the file and its 1-based line. Passing it
//     to open() of a new reader continues exactly there.
//   - Memory: one chunk (chunk_size) plus the longest record, capped by max_record_bytes; the file is never loaded
//     whole. Row views stay valid until the next call to next().
//
// Broken-quote recovery: an invalid record runs from its first line to the end of the physical line on which the
// offending quote sits (the stray quote, or the opening quote of the field that went wrong), and reading resumes on
// the next line. So a missing closing quote costs one line, not the rest of the file.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../common/byte_input.hpp"
#include "text_encoding.hpp"

namespace conflux::plugins::csv {

using file_io::ByteInput;
using file_io::FileInput;
using file_io::InputError;
using file_io::MemoryInput;

struct ReaderOptions {
  char delimiter = ',';
  bool sniff_delimiter = false;  // delimiter "auto": choose among , ; \t | from the first lines
  int quote = '"';               // -1: no quoting, quote characters are plain text
  EncodingSetting encoding = EncodingSetting::kAuto;
  bool header = true;                // the first row names the columns
  std::vector<std::string> columns;  // explicit names; override the header row's names
  bool trim_headers = true;
  uint64_t skip_rows = 0;  // physical lines skipped before the header (report titles etc.)
  bool skip_blank_lines = true;
  size_t chunk_size = size_t{1} << 20;
  size_t max_record_bytes = size_t{16} << 20;
  // Optional fast whole-record UTF-8 check (the plugin passes simdjson's SIMD validator); true means valid. The
  // built-in scalar check still locates the first bad byte when it returns false.
  bool (*utf8_fast_check)(const char* text, size_t size) = nullptr;
};

// Where the next unread record starts: a byte offset in the file and its 1-based physical line number.
struct Position {
  uint64_t offset = 0;
  uint64_t line = 1;
  bool operator==(const Position& other) const { return offset == other.offset && line == other.line; }
  bool operator!=(const Position& other) const { return !(*this == other); }
};

// The resume cursor as text: "offset=<bytes>;line=<line>".
inline std::string format_cursor(Position position) {
  return "offset=" + std::to_string(position.offset) + ";line=" + std::to_string(position.line);
}

inline std::optional<Position> parse_cursor(std::string_view text) {
  auto number = [](std::string_view digits, uint64_t& out) {
    if (digits.empty() || digits.size() > 19) return false;
    out = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  constexpr std::string_view kOffset = "offset=", kLine = ";line=";
  if (text.substr(0, kOffset.size()) != kOffset) return std::nullopt;
  text.remove_prefix(kOffset.size());
  size_t split = text.find(kLine);
  if (split == std::string_view::npos) return std::nullopt;
  Position position;
  if (!number(text.substr(0, split), position.offset) || !number(text.substr(split + kLine.size()), position.line) ||
      position.line == 0) {
    return std::nullopt;
  }
  return position;
}

// The file cannot be read as configured: wrong encoding, malformed header, a cursor that does not fit the file.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Row {
  uint64_t line = 0;                     // 1-based physical line where the record starts
  std::vector<std::string_view> fields;  // kRecord: one per column, valid UTF-8
  std::string reason;                    // kInvalid: what is wrong and where
  std::string raw;                       // kInvalid: the input text, line break removed, bad bytes as \xNN
};

class CsvReader {
 public:
  enum class Next { kRecord, kInvalid, kEnd };

  // `name` only labels error messages (e.g. "csv: 'leads.csv'").
  CsvReader(std::unique_ptr<ByteInput> input, ReaderOptions options, std::string name = "csv")
      : input_(std::move(input)), options_(std::move(options)), name_(std::move(name)) {}

  void open(std::optional<Position> resume = std::nullopt) {
    open_encoding();
    for (uint64_t k = 0; k < options_.skip_rows && discard_line(); ++k) {
    }
    if (options_.sniff_delimiter) options_.delimiter = sniff_delimiter();
    configure_scanner();
    read_columns();
    data_start_ = position();
    if (resume && *resume != data_start_) resume_at(*resume);
  }

  Next next(Row& row) {
    for (;;) {
      if (begin_ == end_) {
        if (eof_) return Next::kEnd;
        fill();
        continue;
      }
      const Window window = current_window();
      Parsed parsed = parse_record(begin_, window);
      switch (parsed.status) {
        case Status::kBlank:
          begin_ = parsed.end;
          ++line_;
          continue;
        case Status::kNeedMore:
          if (window.full) return oversized(parsed, window, row);
          fill();
          continue;
        case Status::kComplete:
          return complete(parsed, row);
        case Status::kBroken: {
          size_t from = parsed.broken == Broken::kQuoteInUnquoted ? parsed.at : parsed.quote_open;
          const char* newline = find_newline(from, window.end);
          if (newline == nullptr && !window.at_eof) {
            if (window.full) return oversized(parsed, window, row);
            fill();
            continue;
          }
          return broken(parsed, newline ? static_cast<size_t>(newline - buffer_.data()) + 1 : window.end, row);
        }
      }
    }
  }

  // Where the next unread record starts. Call between next() calls only.
  Position position() { return {offset_at(begin_), line_}; }
  // Where the first data record starts (after the byte-order mark, skipped rows and the header).
  Position data_start() const { return data_start_; }
  uint64_t size() const { return input_->size(); }
  const std::vector<std::string>& columns() const { return columns_; }
  Encoding encoding() const { return encoding_; }
  char delimiter() const { return options_.delimiter; }

 private:
  enum class Status { kComplete, kNeedMore, kBlank, kBroken };
  enum class Broken { kQuoteInUnquoted, kTextAfterQuote, kUnterminated };
  static constexpr size_t kNone = static_cast<size_t>(-1);
  static constexpr size_t kRawPrefix = 1024;  // raw text kept of input too long to hold

  // The part of the buffer the record at begin_ may occupy: at most max_record_bytes. Parsing never looks beyond it,
  // so what is accepted or rejected does not depend on how much input happens to be buffered.
  struct Window {
    size_t end;   // buffer index just past the window
    bool at_eof;  // the input ends at `end`
    bool full;    // the window is max_record_bytes long: a record that needs more is too long
  };
  Window current_window() const {
    const size_t available = end_ - begin_;
    const size_t size = std::min(available, options_.max_record_bytes);
    return {begin_ + size, eof_ && available <= options_.max_record_bytes, available >= options_.max_record_bytes};
  }

  // Result of parsing one record from a buffer index. All positions are buffer indexes.
  struct Parsed {
    Status status = Status::kNeedMore;
    size_t end = 0;       // kComplete/kBlank: just after the record's line break (or the end of the input)
    size_t newlines = 0;  // kComplete: line breaks inside the record, its terminator included
    Broken broken = Broken::kQuoteInUnquoted;
    size_t at = 0;               // kBroken: the offending byte
    size_t quote_open = kNone;   // kBroken/kNeedMore: opening quote of the field in question, if any
    size_t field_number = 0;     // kBroken/kNeedMore: 1-based field in question
  };

  // A parsed field: a view into the buffer, or into scratch_ when doubled quotes had to be undone.
  struct Span {
    size_t offset;
    size_t size;
    bool in_scratch;
  };

  // ---- set-up -------------------------------------------------------------------------------------------------

  void open_encoding() {
    char head[4];
    size_t have = 0;
    while (have < sizeof head) {
      size_t n = input_->read(head + have, sizeof head - have);
      if (n == 0) break;
      have += n;
    }
    std::optional<ByteOrderMark> bom = detect_bom(std::string_view(head, have));
    auto mismatch = [&](const char* configured) {
      return FormatError(name_ + ": the file starts with a " + encoding_name(bom->encoding) +
                         " byte-order mark but encoding is " + configured + "; use encoding: auto");
    };
    switch (options_.encoding) {
      case EncodingSetting::kAuto: encoding_ = bom ? bom->encoding : Encoding::kUtf8; break;
      case EncodingSetting::kUtf8:
        if (bom && bom->encoding != Encoding::kUtf8) throw mismatch("utf-8");
        encoding_ = Encoding::kUtf8;
        break;
      case EncodingSetting::kUtf16:
        if (bom && bom->encoding == Encoding::kUtf8) throw mismatch("utf-16");
        encoding_ = bom ? bom->encoding : Encoding::kUtf16Le;
        break;
      case EncodingSetting::kUtf16Le:
        if (bom && bom->encoding != Encoding::kUtf16Le) throw mismatch("utf-16le");
        encoding_ = Encoding::kUtf16Le;
        break;
      case EncodingSetting::kUtf16Be:
        if (bom && bom->encoding != Encoding::kUtf16Be) throw mismatch("utf-16be");
        encoding_ = Encoding::kUtf16Be;
        break;
      case EncodingSetting::kWindows1251:
        // A byte-order mark would decode to mojibake ("п»ї", "яю"): the file is in another encoding.
        if (bom) throw mismatch("windows-1251");
        encoding_ = Encoding::kWindows1251;
        break;
    }
    size_t skip = bom && bom->encoding == encoding_ ? bom->length : 0;
    switch (encoding_) {
      case Encoding::kUtf8: decoder_.reset(); break;
      case Encoding::kUtf16Le: decoder_ = std::make_unique<Utf16Decoder>(true); break;
      case Encoding::kUtf16Be: decoder_ = std::make_unique<Utf16Decoder>(false); break;
      case Encoding::kWindows1251: decoder_ = std::make_unique<Windows1251Decoder>(); break;
    }
    if (decoder_) raw_chunk_.resize(options_.chunk_size);
    reset_to({skip, 1});
  }

  void configure_scanner() {
    const char delimiter = options_.delimiter;
    if (delimiter == '\n' || delimiter == '\r' || (options_.quote >= 0 && delimiter == options_.quote)) {
      throw FormatError(name_ + ": the delimiter must differ from the quote character and line breaks");
    }
    delimiter_byte_ = delimiter;
    quote_byte_ = options_.quote >= 0 ? static_cast<char>(options_.quote) : delimiter;
    special_.fill(false);
    special_[static_cast<unsigned char>(delimiter)] = true;
    special_['\n'] = true;
    special_['\r'] = true;
    if (options_.quote >= 0) special_[static_cast<unsigned char>(options_.quote)] = true;
  }

  // Reads the header (or, without one, the first row to count the columns) and settles the column names.
  void read_columns() {
    std::optional<std::vector<std::string>> first = read_first_record(options_.header);
    if (!options_.columns.empty()) {
      if (options_.header && first && first->size() != options_.columns.size()) {
        throw FormatError(name_ + ": columns lists " + std::to_string(options_.columns.size()) +
                          " names but the header row has " + std::to_string(first->size()) + " columns");
      }
      std::unordered_set<std::string> seen;
      for (const std::string& column : options_.columns) {
        if (!seen.insert(column).second) throw FormatError(name_ + ": columns names '" + column + "' twice");
      }
      columns_ = options_.columns;
      count_source_ = "columns lists";
    } else if (options_.header) {
      if (first) columns_ = normalize_header(*first, options_.trim_headers);
      count_source_ = "header has";
    } else {
      if (first) {
        for (size_t i = 0; i < first->size(); ++i) columns_.push_back("column_" + std::to_string(i + 1));
      }
      count_source_ = "first row has";
    }
  }

  // Parses the first record after the current position (blank lines skipped); consumes it when `consume`.
  std::optional<std::vector<std::string>> read_first_record(bool consume) {
    for (;;) {
      if (begin_ == end_) {
        if (eof_) return std::nullopt;
        fill();
        continue;
      }
      const Window window = current_window();
      Parsed parsed = parse_record(begin_, window);
      if (parsed.status == Status::kBlank) {
        begin_ = parsed.end;
        ++line_;
        continue;
      }
      if (parsed.status == Status::kNeedMore) {
        if (window.full) {
          throw FormatError(name_ + ": the first row (line " + std::to_string(line_) +
                            ") is longer than max_record_bytes");
        }
        fill();
        continue;
      }
      const char* base = buffer_.data();
      const char* what = consume ? "header row" : "first row";
      if (parsed.status == Status::kBroken) {
        throw FormatError(name_ + ": the " + what + " is malformed: " + broken_reason(parsed, base + begin_) +
                          "; check 'delimiter' (or set it to auto), 'quote' and 'encoding'");
      }
      size_t bad = find_invalid_utf8(base + begin_, parsed.end - begin_);
      if (bad != kValidUtf8) {
        throw FormatError(name_ + ": the " + what + " is not valid " + upper_encoding_name() + " (" +
                          location(base + begin_, base + begin_ + bad) +
                          "); set encoding to the file's encoding, e.g. windows-1251");
      }
      std::vector<std::string> fields;
      for (size_t i = 0; i < span_count_; ++i) fields.emplace_back(view(spans_[i]));
      if (consume) {
        begin_ = parsed.end;
        line_ += parsed.newlines;
      }
      return fields;
    }
  }

  static std::vector<std::string> normalize_header(const std::vector<std::string>& names, bool trim) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (size_t i = 0; i < names.size(); ++i) {
      std::string name = names[i];
      if (trim) {
        size_t first = name.find_first_not_of(" \t\r\n\v\f");
        size_t last = name.find_last_not_of(" \t\r\n\v\f");
        name = first == std::string::npos ? std::string() : name.substr(first, last - first + 1);
      }
      if (name.empty()) name = "column_" + std::to_string(i + 1);
      // Duplicate names get _2, _3...: a record cannot carry two fields of one name.
      std::string unique = name;
      for (int k = 2; !seen.insert(unique).second; ++k) unique = name + "_" + std::to_string(k);
      out.push_back(std::move(unique));
    }
    return out;
  }

  // Chooses the candidate that splits the first lines into the same number of fields most consistently.
  char sniff_delimiter() {
    while (end_ - begin_ < (size_t{64} << 10) && fill()) {
    }
    static constexpr char kCandidates[] = {',', ';', '\t', '|'};
    constexpr size_t kMaxLines = 20;
    std::vector<std::array<size_t, 4>> counts;
    std::array<size_t, 4> current{};
    bool quoted = false;
    const char* p = buffer_.data() + begin_;
    const char* end = buffer_.data() + end_;
    for (; p < end && counts.size() < kMaxLines; ++p) {
      char c = *p;
      if (options_.quote >= 0 && c == static_cast<char>(options_.quote)) {
        quoted = !quoted;
      } else if (!quoted && c == '\n') {
        counts.push_back(current);
        current = {};
      } else if (!quoted) {
        for (size_t k = 0; k < 4; ++k) current[k] += c == kCandidates[k];
      }
    }
    if (counts.empty()) counts.push_back(current);
    char best = ',';
    size_t best_consistent = 0, best_count = 0;
    for (size_t k = 0; k < 4; ++k) {
      size_t in_first = counts[0][k];
      if (in_first == 0) continue;
      size_t consistent = 0;
      for (const auto& line_counts : counts) consistent += line_counts[k] == in_first;
      if (consistent > best_consistent || (consistent == best_consistent && in_first > best_count)) {
        best = kCandidates[k];
        best_consistent = consistent;
        best_count = in_first;
      }
    }
    return best;
  }

  // ---- buffer -------------------------------------------------------------------------------------------------

  // Moves the unread tail to the front and appends the next chunk (decoded). Returns false at the end of the input.
  bool fill() {
    if (eof_) return false;
    if (begin_ > 0) {
      offset_at(begin_);
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      anchor_index_ -= begin_;
      begin_ = 0;
    }
    if (!decoder_) {
      reserve(end_ + options_.chunk_size);
      size_t n = input_->read(buffer_.data() + end_, options_.chunk_size);
      if (n == 0) eof_ = true;
      end_ += n;
      return true;
    }
    size_t n = input_->read(raw_chunk_.data(), raw_chunk_.size());
    reserve(end_ + decoder_->max_output(n));
    if (n == 0) {
      end_ += decoder_->finish(buffer_.data() + end_);
      eof_ = true;
    } else {
      end_ += decoder_->decode(raw_chunk_.data(), n, buffer_.data() + end_);
    }
    return true;
  }

  void reserve(size_t size) {
    if (buffer_.size() < size) buffer_.resize(std::max(size, buffer_.size() + buffer_.size() / 2));
  }

  // Source byte offset of buffer index `index`; indexes must be asked in increasing order between compactions.
  uint64_t offset_at(size_t index) {
    if (index > anchor_index_) {
      size_t size = index - anchor_index_;
      anchor_offset_ += decoder_ ? decoder_->source_bytes(buffer_.data() + anchor_index_, size) : size;
      anchor_index_ = index;
    }
    return anchor_offset_;
  }

  // Continues at a saved position: it must lie inside the data and start a line, or the file changed.
  void resume_at(Position position) {
    uint64_t size = input_->size();
    if (position.offset > size || position.offset < data_start_.offset) {
      throw FormatError(name_ + ": the cursor points at byte " + std::to_string(position.offset) +
                        " but the data spans bytes " + std::to_string(data_start_.offset) + "-" +
                        std::to_string(size) + "; was the file truncated or replaced? Reset the stream's state to "
                        "read it again");
    }
    // The end of the file is a valid place to stop even when the last line has no line break.
    if (position.offset > data_start_.offset && position.offset < size) check_record_boundary(position.offset);
    reset_to(position);
  }

  void reset_to(Position position) {
    input_->seek(position.offset);
    begin_ = end_ = anchor_index_ = 0;
    anchor_offset_ = position.offset;
    eof_ = false;
    line_ = position.line;
    if (decoder_) decoder_->reset();
  }

  // A resume offset must follow a line break; anything else means the file changed since the cursor was saved.
  void check_record_boundary(uint64_t offset) {
    size_t unit = encoding_ == Encoding::kUtf16Le || encoding_ == Encoding::kUtf16Be ? 2 : 1;
    char bytes[2] = {0, 0};
    bool ok = offset >= unit;
    if (ok) {
      input_->seek(offset - unit);
      size_t have = 0;
      while (have < unit) {
        size_t n = input_->read(bytes + have, unit - have);
        if (n == 0) break;
        have += n;
      }
      ok = have == unit && (encoding_ == Encoding::kUtf16Le   ? bytes[0] == '\n' && bytes[1] == 0
                            : encoding_ == Encoding::kUtf16Be ? bytes[0] == 0 && bytes[1] == '\n'
                                                              : bytes[0] == '\n');
    }
    if (!ok) {
      throw FormatError(name_ + ": the cursor (byte " + std::to_string(offset) +
                        ") is not at the start of a line; the file changed since it was saved. Reset the stream's "
                        "state to read it again");
    }
  }

  // The first LF in [from, limit) of the buffer (limit defaults to the end of the buffered input), or null.
  const char* find_newline(size_t from, size_t limit = kNone) const {
    if (limit > end_) limit = end_;
    if (from >= limit) return nullptr;
    return static_cast<const char*>(std::memchr(buffer_.data() + from, '\n', limit - from));
  }

  // Drops one physical line (skip_rows). Returns false at the end of the input.
  bool discard_line() {
    for (;;) {
      if (const char* newline = find_newline(begin_); newline != nullptr) {
        begin_ = static_cast<size_t>(newline - buffer_.data()) + 1;
        ++line_;
        return true;
      }
      begin_ = end_;
      if (!fill()) return false;
    }
  }

  // ---- parsing ------------------------------------------------------------------------------------------------

  std::string_view view(const Span& span) const {
    return span.in_scratch ? std::string_view(scratch_.data() + span.offset, span.size)
                           : std::string_view(buffer_.data() + span.offset, span.size);
  }

  void add_span(size_t offset, size_t size, bool in_scratch) {
    if (span_count_ == spans_.size()) [[unlikely]] grow_spans();
    spans_[span_count_++] = Span{offset, size, in_scratch};
  }
  [[gnu::noinline]] void grow_spans() { spans_.resize(std::max<size_t>(16, 2 * spans_.size())); }

  // First byte in [p, end) that ends an unquoted run (delimiter, quote, CR, LF), or end. SSE2 does 16 bytes per step.
  const char* find_special(const char* p, const char* end) const {
#if defined(__SSE2__)
    const __m128i delimiter = _mm_set1_epi8(delimiter_byte_);
    const __m128i quote = _mm_set1_epi8(quote_byte_);
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    while (end - p >= 16) {
      __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(block, delimiter), _mm_cmpeq_epi8(block, quote)),
                                  _mm_or_si128(_mm_cmpeq_epi8(block, lf), _mm_cmpeq_epi8(block, cr)));
      if (int mask = _mm_movemask_epi8(hits); mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
      p += 16;
    }
#endif
    while (p < end && !special_[static_cast<unsigned char>(*p)]) ++p;
    return p;
  }

  // Parses the record starting at buffer index `start` into spans_. The hot loop of the plugin.
  Parsed parse_record(size_t start, const Window& window) {
    span_count_ = 0;
    scratch_.clear();
    const char* const base = buffer_.data();
    const char* p = base + start;
    const char* const end = base + window.end;
    const bool eof = window.at_eof;
    const char delimiter = options_.delimiter;
    const bool quoting = options_.quote >= 0;
    const char quote = static_cast<char>(options_.quote);
    Parsed result;
    auto index = [base](const char* at) { return static_cast<size_t>(at - base); };
    auto more = [&](const char* open) {
      result.status = Status::kNeedMore;
      result.quote_open = open ? index(open) : kNone;
      result.field_number = span_count_ + 1;
      return result;
    };
    auto done = [&](const char* after, size_t newlines) {
      result.status = Status::kComplete;
      result.end = index(after);
      result.newlines = newlines;
      return result;
    };
    auto fail = [&](Broken kind, const char* at, const char* open) {
      result.status = Status::kBroken;
      result.broken = kind;
      result.at = index(at);
      result.quote_open = open ? index(open) : kNone;
      result.field_number = span_count_ + 1;
      return result;
    };

    if (options_.skip_blank_lines && p < end) {
      if (*p == '\n') {
        result.status = Status::kBlank;
        result.end = start + 1;
        return result;
      }
      if (*p == '\r') {
        if (p + 1 == end && !eof) return more(nullptr);
        if (p + 1 < end && p[1] == '\n') {
          result.status = Status::kBlank;
          result.end = start + 2;
          return result;
        }
      }
    }

    size_t newlines = 0;
    for (;;) {
      if (quoting && p < end && *p == quote) {
        const char* open = p;
        const char* content = ++p;
        bool unescaped = false;
        size_t scratch_start = 0;
        for (;;) {
          const auto* q = static_cast<const char*>(std::memchr(p, quote, static_cast<size_t>(end - p)));
          if (q == nullptr) {
            if (!eof) return more(open);
            return fail(Broken::kUnterminated, open, open);
          }
          if (q + 1 == end && !eof) return more(open);
          if (q + 1 < end && q[1] == quote) {  // "" inside quotes is one quote character
            if (!unescaped) {
              unescaped = true;
              scratch_start = scratch_.size();
            }
            scratch_.append(p, q + 1);
            p = q + 2;
            continue;
          }
          if (unescaped) {
            scratch_.append(p, q);
            add_span(scratch_start, scratch_.size() - scratch_start, true);
          } else {
            add_span(index(content), static_cast<size_t>(q - content), false);
          }
          newlines += static_cast<size_t>(std::count(content, q, '\n'));
          p = q + 1;
          break;
        }
        if (p == end) {
          if (!eof) return more(nullptr);
          return done(p, newlines);
        }
        if (*p == delimiter) {
          ++p;
          continue;
        }
        if (*p == '\n') return done(p + 1, newlines + 1);
        if (*p == '\r') {
          if (p + 1 == end) {
            if (!eof) return more(nullptr);
            return done(p + 1, newlines);
          }
          if (p[1] == '\n') return done(p + 2, newlines + 1);
        }
        Parsed after = fail(Broken::kTextAfterQuote, p, open);
        after.field_number = span_count_;  // the field whose quote just closed
        return after;
      }

      const char* field = p;
      for (;;) {
        p = find_special(p, end);
        if (p == end) {
          if (!eof) return more(nullptr);
          add_span(index(field), static_cast<size_t>(p - field), false);
          return done(p, newlines);
        }
        const char c = *p;
        if (c == delimiter) {
          add_span(index(field), static_cast<size_t>(p - field), false);
          ++p;
          break;
        }
        if (c == '\n') {
          add_span(index(field), static_cast<size_t>(p - field), false);
          return done(p + 1, newlines + 1);
        }
        if (c == '\r') {
          if (p + 1 == end) {
            if (!eof) return more(nullptr);
            add_span(index(field), static_cast<size_t>(p - field), false);
            return done(p + 1, newlines);
          }
          if (p[1] == '\n') {
            add_span(index(field), static_cast<size_t>(p - field), false);
            return done(p + 2, newlines + 1);
          }
          ++p;  // a lone CR is data
          continue;
        }
        return fail(Broken::kQuoteInUnquoted, p, nullptr);
      }
    }
  }

  Next complete(const Parsed& parsed, Row& row) {
    const char* base = buffer_.data();
    row.line = line_;
    row.fields.clear();
    row.reason.clear();
    row.raw.clear();
    const char* record = base + begin_;
    const size_t size = parsed.end - begin_;
    Next result = Next::kRecord;
    if (span_count_ != columns_.size()) {
      row.reason = "ragged row: " + std::to_string(span_count_) + " field" + (span_count_ == 1 ? "" : "s") +
                   ", " + count_source_ + " " + std::to_string(columns_.size());
      result = Next::kInvalid;
    } else if (options_.utf8_fast_check == nullptr || !options_.utf8_fast_check(record, size)) {
      if (size_t bad = find_invalid_utf8(record, size); bad != kValidUtf8) {
        row.reason = "invalid " + upper_encoding_name() + " at " + location(record, record + bad);
        result = Next::kInvalid;
      }
    }
    if (result == Next::kInvalid) {
      append_escaped_raw(row.raw, without_line_break(record, size));
    } else {
      for (size_t i = 0; i < span_count_; ++i) row.fields.push_back(view(spans_[i]));
    }
    begin_ = parsed.end;
    line_ += parsed.newlines;
    return result;
  }

  // Reports a broken-quote record spanning [begin_, span_end) and resumes after it.
  Next broken(const Parsed& parsed, size_t span_end, Row& row) {
    const char* base = buffer_.data();
    const char* record = base + begin_;
    size_t lines = static_cast<size_t>(std::count(record, base + span_end, '\n'));
    row.line = line_;
    row.fields.clear();
    row.reason = broken_reason(parsed, record);
    row.reason += set_aside_note(record, span_end, parsed.broken == Broken::kUnterminated ? parsed.quote_open : parsed.at);
    row.raw.clear();
    append_escaped_raw(row.raw, without_line_break(record, span_end - begin_));
    begin_ = span_end;
    line_ += lines;
    return Next::kInvalid;
  }

  // A record that outgrew max_record_bytes. Inside a quoted field it is a broken quote (resume after the line of
  // the opening quote, if that line ends inside the window); otherwise the input is too long to hold: report its
  // start and drop it up to the first line break after the window.
  Next oversized(const Parsed& parsed, const Window& window, Row& row) {
    const char* base = buffer_.data();
    const char* record = base + begin_;
    row.line = line_;
    row.fields.clear();
    row.raw.clear();
    if (parsed.quote_open != kNone) {
      if (const char* newline = find_newline(parsed.quote_open, window.end); newline != nullptr) {
        size_t span_end = static_cast<size_t>(newline - base) + 1;
        size_t lines = static_cast<size_t>(std::count(record, base + span_end, '\n'));
        row.reason = "broken quote: quoted field " + std::to_string(parsed.field_number) + " opened at " +
                     location(record, base + parsed.quote_open) + " is not closed within max_record_bytes (" +
                     std::to_string(options_.max_record_bytes) + ")";
        row.reason += set_aside_note(record, span_end, parsed.quote_open);
        append_escaped_raw(row.raw, without_line_break(record, span_end - begin_));
        begin_ = span_end;
        line_ += lines;
        return Next::kInvalid;
      }
    }
    const size_t prefix = std::min(kRawPrefix, options_.max_record_bytes);
    row.reason = "record longer than max_record_bytes (" + std::to_string(options_.max_record_bytes) +
                 "); dropped up to the next line break, raw text cut to its first " + std::to_string(prefix) +
                 " bytes";
    append_escaped_raw(row.raw, std::string_view(record, prefix));
    row.raw += "...";
    line_ += static_cast<size_t>(std::count(record, base + window.end, '\n'));
    begin_ = window.end;
    for (;;) {
      if (const char* newline = find_newline(begin_); newline != nullptr) {
        begin_ = static_cast<size_t>(newline - buffer_.data()) + 1;
        ++line_;
        break;
      }
      begin_ = end_;
      if (!fill()) break;
    }
    return Next::kInvalid;
  }

  std::string broken_reason(const Parsed& parsed, const char* record) const {
    const char* base = buffer_.data();
    std::string field = std::to_string(parsed.field_number);
    switch (parsed.broken) {
      case Broken::kQuoteInUnquoted:
        return "broken quote: quote character inside unquoted field " + field + " at " +
               location(record, base + parsed.at);
      case Broken::kTextAfterQuote:
        return "broken quote: text after the closing quote of field " + field + " at " +
               location(record, base + parsed.at);
      case Broken::kUnterminated:
        return "broken quote: quoted field " + field + " opened at " + location(record, base + parsed.quote_open) +
               " is never closed";
    }
    return "broken quote";
  }

  // "byte B of line L" for a position inside the record that starts at `record` on line line_; bytes count the
  // (decoded) UTF-8 text of the line, from 1.
  std::string location(const char* record, const char* at) const {
    const char* line_start = record;
    uint64_t line = line_;
    for (const char* p = record; p < at; ++p) {
      if (*p == '\n') {
        ++line;
        line_start = p + 1;
      }
    }
    return "byte " + std::to_string(at - line_start + 1) + " of line " + std::to_string(line);
  }

  // When the lines set aside are not simply the one line the error is on, says which lines they are and where
  // reading resumes: "; set aside lines 2-3, reading resumes at line 4".
  std::string set_aside_note(const char* record, size_t span_end, size_t error_index) const {
    const char* base = buffer_.data();
    const char* last = base + span_end;
    size_t newlines = static_cast<size_t>(std::count(record, last, '\n'));
    size_t span_lines = 1 + static_cast<size_t>(std::count(record, last - (last > record && last[-1] == '\n'), '\n'));
    uint64_t error_line = line_ + static_cast<uint64_t>(std::count(record, base + error_index, '\n'));
    if (span_lines == 1 && error_line == line_) return {};
    std::string note = span_lines == 1 ? "; set aside line " + std::to_string(line_)
                                       : "; set aside lines " + std::to_string(line_) + "-" +
                                             std::to_string(line_ + span_lines - 1);
    return note + ", reading resumes at line " + std::to_string(line_ + newlines);
  }

  std::string upper_encoding_name() const {
    std::string name = encoding_name(encoding_);
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
  }

  static std::string_view without_line_break(const char* text, size_t size) {
    if (size > 0 && text[size - 1] == '\n') --size;
    if (size > 0 && text[size - 1] == '\r') --size;
    return {text, size};
  }

  std::unique_ptr<ByteInput> input_;
  ReaderOptions options_;
  std::string name_;
  Encoding encoding_ = Encoding::kUtf8;
  std::unique_ptr<Decoder> decoder_;  // null for UTF-8: bytes are parsed where they were read

  std::vector<char> buffer_;     // unread input as UTF-8: [begin_, end_)
  std::vector<char> raw_chunk_;  // undecoded input (non-UTF-8 encodings only)
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  uint64_t line_ = 1;            // line of buffer_[begin_]
  size_t anchor_index_ = 0;      // a buffer index whose file offset is known...
  uint64_t anchor_offset_ = 0;   // ...and that offset

  std::array<bool, 256> special_{};  // bytes that end an unquoted run
  char delimiter_byte_ = ',';
  char quote_byte_ = '"';            // the delimiter again when quoting is off
  std::vector<std::string> columns_;
  std::string count_source_ = "header has";
  Position data_start_;

  std::vector<Span> spans_;  // the first span_count_ are the current record's fields
  size_t span_count_ = 0;
  std::string scratch_;
};

}  // namespace conflux::plugins::csv
