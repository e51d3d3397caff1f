// LineReader: splits a UTF-8 file into lines with bounded memory and exact resume positions.
//
// Contract:
//   - open() skips a UTF-8 byte-order mark (and refuses a UTF-16 one: JSON Lines is UTF-8), then seeks to the resume
//     position, if any. Throws FormatError when the file or cursor does not fit, InputError on I/O faults.
//   - next() returns the next line without its LF or CRLF, numbered from 1; a final line without a line break counts.
//     A line longer than max_line_bytes comes back as kTooLong with its first bytes; the rest is dropped up to the
//     next line break.
//   - position() is where the next unread line starts (byte offset, line number): pass it to open() to go on there.
//   - Memory: one chunk plus the longest line (capped). Line views stay valid until the next call to next().
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../common/byte_input.hpp"

namespace conflux::plugins::jsonl {

using file_io::ByteInput;
using file_io::FileInput;
using file_io::InputError;
using file_io::MemoryInput;

struct Position {
  uint64_t offset = 0;
  uint64_t line = 1;
  bool operator==(const Position& other) const { return offset == other.offset && line == other.line; }
  bool operator!=(const Position& other) const { return !(*this == other); }
};

// The resume cursor as text: "offset=<bytes>;line=<line>" (the same form as the csv connector's).
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

class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LineReaderOptions {
  size_t chunk_size = size_t{1} << 20;
  size_t max_line_bytes = size_t{16} << 20;
};

struct Line {
  uint64_t number = 0;
  std::string_view text;  // without the line break; for kTooLong only the first bytes
};

class LineReader {
 public:
  enum class Next { kLine, kTooLong, kEnd };

  LineReader(std::unique_ptr<ByteInput> input, LineReaderOptions options, std::string name = "jsonl")
      : input_(std::move(input)), options_(options), name_(std::move(name)) {}

  void open(std::optional<Position> resume = std::nullopt) {
    char head[3];
    size_t have = 0;
    while (have < sizeof head) {
      size_t n = input_->read(head + have, sizeof head - have);
      if (n == 0) break;
      have += n;
    }
    std::string_view start(head, have);
    if (start.substr(0, 2) == "\xFF\xFE" || start.substr(0, 2) == "\xFE\xFF") {
      throw FormatError(name_ + ": the file starts with a UTF-16 byte-order mark; JSON Lines must be UTF-8 (convert "
                                "it, e.g. iconv -f UTF-16 -t UTF-8)");
    }
    data_start_ = {start == "\xEF\xBB\xBF" ? 3u : 0u, 1};
    if (resume && *resume != data_start_) {
      uint64_t size = input_->size();
      if (resume->offset > size || resume->offset < data_start_.offset) {
        throw FormatError(name_ + ": the cursor points at byte " + std::to_string(resume->offset) + " but the file has " +
                          std::to_string(size) + " bytes; was it truncated or replaced? Reset the stream's state "
                          "to read it again");
      }
      // The end of the file is a valid place to stop even when the last line has no line break.
      if (resume->offset > data_start_.offset && resume->offset < size && !follows_line_break(resume->offset)) {
        throw FormatError(name_ + ": the cursor (byte " + std::to_string(resume->offset) +
                          ") is not at the start of a line; the file changed since it was saved. Reset the stream's "
                          "state to read it again");
      }
      reset_to(*resume);
    } else {
      reset_to(data_start_);
    }
  }

  Next next(Line& line) {
    for (;;) {
      const char* base = buffer_.data();
      const char* newline = find_newline(begin_);
      if (newline == nullptr && !eof_) {
        if (end_ - begin_ >= options_.max_line_bytes) return too_long(line);
        fill();
        continue;
      }
      if (newline == nullptr && begin_ == end_) return Next::kEnd;
      size_t stop = newline ? static_cast<size_t>(newline - base) : end_;
      size_t size = stop - begin_;
      if (size > options_.max_line_bytes) return too_long(line);  // whole line in the buffer, still too long
      if (size > 0 && base[stop - 1] == '\r') --size;
      line.number = line_;
      line.text = std::string_view(base + begin_, size);
      begin_ = newline ? stop + 1 : end_;
      ++line_;
      return Next::kLine;
    }
  }

  Position position() const { return {buffer_offset_ + begin_, line_}; }
  uint64_t size() const { return input_->size(); }

 private:
  bool fill() {
    if (eof_) return false;
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      buffer_offset_ += begin_;
      end_ -= begin_;
      begin_ = 0;
    }
    size_t needed = end_ + options_.chunk_size;
    if (buffer_.size() < needed) buffer_.resize(std::max(needed, buffer_.size() + buffer_.size() / 2));
    size_t n = input_->read(buffer_.data() + end_, options_.chunk_size);
    if (n == 0) eof_ = true;
    end_ += n;
    return true;
  }

  // Reports the first bytes of an over-long line and drops the rest of it, reading on to its line break if needed.
  Next too_long(Line& line) {
    constexpr size_t kPrefix = 1024;
    const char* newline = find_newline(begin_);
    size_t line_end = newline ? static_cast<size_t>(newline - buffer_.data()) : end_;
    // At least max_line_bytes of the line are buffered whenever we get here, so the prefix does not depend on chunking.
    prefix_.assign(buffer_.data() + begin_, std::min({kPrefix, options_.max_line_bytes, line_end - begin_}));
    line.number = line_;
    line.text = prefix_;
    ++line_;
    if (newline != nullptr) {
      begin_ = line_end + 1;
      return Next::kTooLong;
    }
    begin_ = end_;
    for (;;) {
      if (begin_ == end_ && !fill()) break;
      if (const char* found = find_newline(begin_); found != nullptr) {
        begin_ = static_cast<size_t>(found - buffer_.data()) + 1;
        break;
      }
      begin_ = end_;
    }
    return Next::kTooLong;
  }

  const char* find_newline(size_t from) const {
    if (from >= end_) return nullptr;
    return static_cast<const char*>(std::memchr(buffer_.data() + from, '\n', end_ - from));
  }

  bool follows_line_break(uint64_t offset) {
    input_->seek(offset - 1);
    char before = 0;
    return input_->read(&before, 1) == 1 && before == '\n';
  }

  void reset_to(Position position) {
    input_->seek(position.offset);
    buffer_offset_ = position.offset;
    begin_ = end_ = 0;
    eof_ = false;
    line_ = position.line;
  }

  std::unique_ptr<ByteInput> input_;
  LineReaderOptions options_;
  std::string name_;
  std::vector<char> buffer_;  // unread input: [begin_, end_)
  size_t begin_ = 0;
  size_t end_ = 0;
  uint64_t buffer_offset_ = 0;  // file offset of buffer_[0]
  bool eof_ = false;
  uint64_t line_ = 1;
  Position data_start_;
  std::string prefix_;
};

}  // namespace conflux::plugins::jsonl
