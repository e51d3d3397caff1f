// Unit tests of the csv connector's reader (plugins/file/csv/csv_reader.hpp): RFC 4180 parsing, bad-input reports,
// encodings, chunk boundaries and resume positions. Hermetic: input comes from memory except for the FileInput test.
#include <iconv.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../../../plugins/file/csv/csv_reader.hpp"

namespace {

using conflux::plugins::csv::ByteInput;
using conflux::plugins::csv::CsvReader;
using conflux::plugins::csv::EncodingSetting;
using conflux::plugins::csv::FormatError;
using conflux::plugins::csv::MemoryInput;
using conflux::plugins::csv::Position;
using conflux::plugins::csv::ReaderOptions;
using conflux::plugins::csv::Row;

// Everything a reader produced, as comparable text: "R<line>:f1|f2" for records, "I<line>:<reason> <= <raw>" for
// invalid input.
struct Output {
  std::vector<std::string> events;
  std::vector<std::string> columns;
  Position end;
};

std::string record_event(const Row& row) {
  std::string event = "R" + std::to_string(row.line) + ":";
  for (size_t i = 0; i < row.fields.size(); ++i) event += (i ? "|" : "") + std::string(row.fields[i]);
  return event;
}

std::unique_ptr<CsvReader> make_reader(const std::string& data, ReaderOptions options, size_t max_read = SIZE_MAX) {
  return std::make_unique<CsvReader>(std::make_unique<MemoryInput>(data, max_read), std::move(options));
}

// Reads up to `limit` events (records and invalid input) from an opened reader.
std::vector<std::string> drain(CsvReader& reader, size_t limit = SIZE_MAX) {
  std::vector<std::string> events;
  Row row;
  while (events.size() < limit) {
    CsvReader::Next next = reader.next(row);
    if (next == CsvReader::Next::kEnd) break;
    if (next == CsvReader::Next::kRecord) {
      events.push_back(record_event(row));
    } else {
      events.push_back("I" + std::to_string(row.line) + ":" + row.reason + " <= " + row.raw);
    }
  }
  return events;
}

Output read_all(const std::string& data, ReaderOptions options = {}, size_t max_read = SIZE_MAX) {
  auto reader = make_reader(data, std::move(options), max_read);
  reader->open();
  Output out;
  out.columns = reader->columns();
  out.events = drain(*reader);
  out.end = reader->position();
  return out;
}

ReaderOptions tiny_chunks(ReaderOptions options, size_t chunk) {
  options.chunk_size = chunk;
  return options;
}

}  // namespace

TEST_CASE("csv: header names the fields and positions are physical lines", "[csv]") {
  Output out = read_all("id,name\n1,Ann\n2,Bob\n");
  CHECK(out.columns == std::vector<std::string>{"id", "name"});
  CHECK(out.events == std::vector<std::string>{"R2:1|Ann", "R3:2|Bob"});
  CHECK(out.end.offset == 20);
  CHECK(out.end.line == 4);
}

TEST_CASE("csv: RFC 4180 quoting, doubled quotes and quoted line breaks", "[csv]") {
  std::string data =
      "a,b,c\r\n"
      "\"x, y\",\"say \"\"hi\"\"\",plain\r\n"
      "\"multi\nline\",\"crlf\r\ninside\",\"\"\r\n"
      ",,\r\n"
      "last,row,\"no newline\"";
  Output out = read_all(data);
  REQUIRE(out.events.size() == 4);
  CHECK(out.events[0] == "R2:x, y|say \"hi\"|plain");
  CHECK(out.events[1] == "R3:multi\nline|crlf\r\ninside|");
  CHECK(out.events[2] == "R6:||");  // the record above spans lines 3 to 5
  CHECK(out.events[3] == "R7:last|row|no newline");
  CHECK(out.end.offset == data.size());
}

TEST_CASE("csv: a lone CR inside an unquoted field is data; CR before EOF ends the record", "[csv]") {
  Output out = read_all("a,b\nx\ry,z\r");
  CHECK(out.events == std::vector<std::string>{"R2:x\ry|z"});
}

TEST_CASE("csv: ragged rows are reported with both counts and the raw text", "[csv]") {
  Output out = read_all("a,b,c\n1,2\n1,2,3,4\n5,6,7\n");
  REQUIRE(out.events.size() == 3);
  CHECK(out.events[0] == "I2:ragged row: 2 fields, header has 3 <= 1,2");
  CHECK(out.events[1] == "I3:ragged row: 4 fields, header has 3 <= 1,2,3,4");
  CHECK(out.events[2] == "R4:5|6|7");
}

TEST_CASE("csv: broken quotes cost only their own line", "[csv]") {
  SECTION("a quote inside an unquoted field") {
    Output out = read_all("a,b\nab\"c,d\nok,1\n");
    REQUIRE(out.events.size() == 2);
    CHECK(out.events[0] == "I2:broken quote: quote character inside unquoted field 1 at byte 3 of line 2 <= ab\"c,d");
    CHECK(out.events[1] == "R3:ok|1");
  }
  SECTION("text after a closing quote (unescaped quotes inside a quoted field)") {
    Output out = read_all("a,b\n1,\"Егор \"Egor\" Павлов\"\n2,ok\n");
    REQUIRE(out.events.size() == 2);
    CHECK(out.events[0] ==
          "I2:broken quote: text after the closing quote of field 2 at byte 14 of line 2 <= 1,\"Егор \"Egor\" Павлов\"");
    CHECK(out.events[1] == "R3:2|ok");
  }
  SECTION("a missing closing quote does not swallow the rest of the file") {
    // The quote opened on line 2 closes on line 3 and text follows it: the record is line 2 alone.
    Output out = read_all("id,name,city\n1,\"Bob,x\n2,Alice,\"Washington, D.C.\"\n3,Carl,Rome\n");
    REQUIRE(out.events.size() == 3);
    CHECK(out.events[0] ==
          "I2:broken quote: text after the closing quote of field 2 at byte 10 of line 3; set aside line 2, reading "
          "resumes at line 3 <= 1,\"Bob,x");
    CHECK(out.events[1] == "R3:2|Alice|Washington, D.C.");
    CHECK(out.events[2] == "R4:3|Carl|Rome");
  }
  SECTION("an unterminated quote at the end of the file") {
    Output out = read_all("a,b\n1,\"open\n2,x\n3,y\n");
    REQUIRE(out.events.size() == 3);
    CHECK(out.events[0] == "I2:broken quote: quoted field 2 opened at byte 3 of line 2 is never closed <= 1,\"open");
    CHECK(out.events[1] == "R3:2|x");
    CHECK(out.events[2] == "R4:3|y");
  }
}

TEST_CASE("csv: invalid UTF-8 is reported by line and byte, raw bytes escaped", "[csv]") {
  Output out = read_all("a,b\nok,1\nDa\xFF\xFEniel,2\n\"q\nx\xC3\",3\nfine,4\n");
  REQUIRE(out.events.size() == 4);
  CHECK(out.events[0] == "R2:ok|1");
  CHECK(out.events[1] == "I3:invalid UTF-8 at byte 3 of line 3 <= Da\\xFF\\xFEniel,2");
  CHECK(out.events[2] == "I4:invalid UTF-8 at byte 2 of line 5 <= \"q\nx\\xC3\",3");
  CHECK(out.events[3] == "R6:fine|4");
}

TEST_CASE("csv: header options", "[csv]") {
  SECTION("trimmed, empty and duplicate names") {
    Output out = read_all(" id , ,name,name\n1,2,3,4\n");
    CHECK(out.columns == std::vector<std::string>{"id", "column_2", "name", "name_2"});
  }
  SECTION("trim_headers off keeps blanks") {
    ReaderOptions options;
    options.trim_headers = false;
    CHECK(read_all(" id,x\n", options).columns == std::vector<std::string>{" id", "x"});
  }
  SECTION("no header: column_1..n from the first row, which is data") {
    ReaderOptions options;
    options.header = false;
    Output out = read_all("1,2\n3,4\n", options);
    CHECK(out.columns == std::vector<std::string>{"column_1", "column_2"});
    CHECK(out.events == std::vector<std::string>{"R1:1|2", "R2:3|4"});
  }
  SECTION("explicit columns replace the header's names") {
    ReaderOptions options;
    options.columns = {"x", "y"};
    Output out = read_all("a,b\n1,2\n", options);
    CHECK(out.columns == std::vector<std::string>{"x", "y"});
    CHECK(out.events == std::vector<std::string>{"R2:1|2"});
  }
  SECTION("explicit columns must match the header's width") {
    ReaderOptions options;
    options.columns = {"x"};
    CHECK_THROWS_WITH(read_all("a,b\n1,2\n", options), Catch::Contains("columns lists 1 names but the header row has 2"));
  }
  SECTION("a malformed header stops the stream with a hint") {
    CHECK_THROWS_AS(read_all("\"a\";\"b\"\n"), FormatError);
    CHECK_THROWS_WITH(read_all("\"a\";\"b\"\n"), Catch::Contains("check 'delimiter'"));
  }
  SECTION("a header that is not UTF-8 names the encoding option") {
    CHECK_THROWS_WITH(read_all("\xC8\xEC\xFF,b\n"), Catch::Contains("not valid UTF-8") && Catch::Contains("encoding"));
  }
  SECTION("an empty file has no columns and no records") {
    Output out = read_all("");
    CHECK(out.columns.empty());
    CHECK(out.events.empty());
  }
}

TEST_CASE("csv: skip_rows, blank lines and quoting off", "[csv]") {
  SECTION("skip_rows drops title lines before the header, line numbers still count them") {
    ReaderOptions options;
    options.skip_rows = 2;
    Output out = read_all("Report\n\"broken title\n\na,b\n1,2\n", options);
    CHECK(out.columns == std::vector<std::string>{"a", "b"});  // the blank line 3 before the header is skipped too
    CHECK(out.events == std::vector<std::string>{"R5:1|2"});
  }
  SECTION("blank lines are skipped by default, reported when asked") {
    CHECK(read_all("a,b\n\n1,2\r\n\r\n3,4\n\n").events == std::vector<std::string>{"R3:1|2", "R5:3|4"});
    ReaderOptions options;
    options.skip_blank_lines = false;
    CHECK(read_all("a,b\n\n1,2\n", options).events ==
          std::vector<std::string>{"I2:ragged row: 1 field, header has 2 <= ", "R3:1|2"});
  }
  SECTION("a one-column file keeps its empty values when blank lines are not skipped") {
    ReaderOptions options;
    options.skip_blank_lines = false;
    CHECK(read_all("a\nx\n\ny\n", options).events == std::vector<std::string>{"R2:x", "R3:", "R4:y"});
  }
  SECTION("quote off: quote characters are plain text") {
    ReaderOptions options;
    options.quote = -1;
    options.delimiter = '\t';
    CHECK(read_all("a\tb\n5\" screen\t\"x\n", options).events == std::vector<std::string>{"R2:5\" screen|\"x"});
  }
}

TEST_CASE("csv: delimiter sniffing", "[csv]") {
  ReaderOptions options;
  options.sniff_delimiter = true;
  auto sniff = [&](const std::string& data) {
    auto reader = make_reader(data, options);
    reader->open();
    return reader->delimiter();
  };
  CHECK(sniff("a,b,c\n1,2,3\n") == ',');
  CHECK(sniff("a;b;c\n1;\"2,5\";3\n4;5,5;6\n") == ';');
  CHECK(sniff("a\tb\n1,5\t2\n") == '\t');
  CHECK(sniff("a|b|c\n1|2|3\n") == '|');
  CHECK(sniff("\"a,x\";\"b,y\"\n1;2\n") == ';');  // delimiters inside quotes do not count
  CHECK(sniff("single\n1\n") == ',');
}

TEST_CASE("csv: encodings", "[csv]") {
  SECTION("a UTF-8 byte-order mark is skipped and counted in offsets") {
    auto reader = make_reader("\xEF\xBB\xBF\"id\",\"x\"\n1,2\n", {});
    reader->open();
    CHECK(reader->columns() == std::vector<std::string>{"id", "x"});
    CHECK(reader->data_start().offset == 12);
  }
  SECTION("UTF-16LE with BOM, tab-separated (Meta lead export)") {
    std::u16string text = u"id\tимя\r\n1\tЖанна 😀\r\n";
    std::string data = "\xFF\xFE";
    for (char16_t unit : text) {
      data += static_cast<char>(unit & 0xFF);
      data += static_cast<char>(unit >> 8);
    }
    ReaderOptions options;
    options.sniff_delimiter = true;
    for (size_t max_read : {SIZE_MAX, size_t{1}, size_t{3}}) {
      Output out = read_all(data, tiny_chunks(options, 5), max_read);
      CHECK(out.columns == std::vector<std::string>{"id", "имя"});
      CHECK(out.events == std::vector<std::string>{"R2:1|Жанна 😀"});
      CHECK(out.end.offset == data.size());
    }
  }
  SECTION("UTF-16BE with BOM") {
    std::string data("\xFE\xFF\0a\0,\0b\0\n\0x\0,\0y\0\n", 18);
    Output out = read_all(data);
    CHECK(out.events == std::vector<std::string>{"R2:x|y"});
  }
  SECTION("UTF-16 unpaired surrogate and odd trailing byte are invalid, the rest reads on") {
    std::string data("\xFF\xFE" "a\0\n\0" "\x00\xD8" "x\0\n\0" "o\0", 14);
    data.push_back('z');  // an odd trailing byte
    Output out = read_all(data);
    REQUIRE(out.events.size() == 2);
    CHECK(out.events[0] == "I2:invalid UTF-16LE at byte 1 of line 2 <= \\xFF\\xFFx");
    CHECK(out.events[1] == "I3:invalid UTF-16LE at byte 2 of line 3 <= o\\xFF");
  }
  SECTION("windows-1251 decodes like iconv, byte 0x98 is invalid") {
    ReaderOptions options;
    options.encoding = EncodingSetting::kWindows1251;
    options.delimiter = ';';
    Output out = read_all("\"\xC8\xEC\xFF\";x\r\n\"\xCF\xE5\xF2\xF0 \xAB\xC2\xE5\xEA\xF2\xEE\xF0\xBB\";\x98\r\n", options);
    CHECK(out.columns == std::vector<std::string>{"Имя", "x"});
    REQUIRE(out.events.size() == 1);
    CHECK(out.events[0] == "I2:invalid WINDOWS-1251 at byte 29 of line 2 <= \"Петр «Вектор»\";\\xFF");
  }
  SECTION("a byte-order mark that contradicts the configured encoding is a config error") {
    ReaderOptions options;
    options.encoding = EncodingSetting::kUtf8;
    CHECK_THROWS_WITH(read_all("\xFF\xFE" "a\0", options), Catch::Contains("UTF-16LE") || Catch::Contains("utf-16le"));
    options.encoding = EncodingSetting::kWindows1251;
    CHECK_THROWS_AS(read_all("\xEF\xBB\xBF" "a\n", options), FormatError);
  }
}

TEST_CASE("csv: the windows-1251 table matches glibc iconv for every byte", "[csv]") {
  conflux::plugins::csv::Windows1251Decoder decoder;
  iconv_t cd = iconv_open("UTF-8", "WINDOWS-1251");
  REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
  for (int byte = 0; byte < 256; ++byte) {
    char in = static_cast<char>(byte);
    char ours[8];
    size_t ours_size = decoder.decode(&in, 1, ours);
    char theirs[8];
    char* in_ptr = &in;
    size_t in_left = 1;
    char* out_ptr = theirs;
    size_t out_left = sizeof theirs;
    size_t result = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    INFO("byte " << byte);
    if (result == static_cast<size_t>(-1)) {
      CHECK(std::string(ours, ours_size) == "\xFF");  // unassigned: our undecodable marker
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
    } else {
      CHECK(std::string(ours, ours_size) == std::string(theirs, sizeof theirs - out_left));
    }
  }
  iconv_close(cd);
}

TEST_CASE("csv: the UTF-16 decoder matches glibc iconv on random text in random pieces", "[csv]") {
  std::mt19937 random(99);
  const std::vector<std::string> pieces = {"plain ascii run ", "Жанна", "😀", "é", "\t", "\r\n", "x", "€"};
  std::string text;
  for (int i = 0; i < 2000; ++i) text += pieces[random() % pieces.size()];
  for (const char* code : {"UTF-16LE", "UTF-16BE"}) {
    iconv_t cd = iconv_open(code, "UTF-8");
    REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
    std::string encoded(text.size() * 4, '\0');
    char* in = text.data();
    size_t in_left = text.size();
    char* out = encoded.data();
    size_t out_left = encoded.size();
    REQUIRE(iconv(cd, &in, &in_left, &out, &out_left) != static_cast<size_t>(-1));
    encoded.resize(encoded.size() - out_left);
    iconv_close(cd);
    conflux::plugins::csv::Utf16Decoder decoder(std::string(code) == "UTF-16LE");
    std::string decoded;
    for (size_t at = 0; at < encoded.size();) {
      size_t piece = std::min<size_t>(1 + random() % 40, encoded.size() - at);
      std::string chunk(decoder.max_output(piece), '\0');
      chunk.resize(decoder.decode(encoded.data() + at, piece, chunk.data()));
      decoded += chunk;
      at += piece;
    }
    char tail[16];
    decoded.append(tail, decoder.finish(tail));
    INFO(code);
    CHECK(decoded == text);
    CHECK(decoder.source_bytes(decoded.data(), decoded.size()) == encoded.size());
  }
}

TEST_CASE("csv: results do not depend on where chunks end", "[csv]") {
  // Random CSV with everything that can straddle a boundary: quotes, doubled quotes, CRLF, quoted line breaks,
  // multi-byte UTF-8, ragged rows, broken quotes and blank lines.
  std::mt19937 random(20240305);
  const std::vector<std::string> pieces = {"a", "bc", "Жанна", "😀", "\"\"", " ", ";", "\n", "\r\n", "x\"y"};
  std::string data = "h1,h2,h3\r\n";
  for (int row = 0; row < 300; ++row) {
    int fields = 3 + (random() % 10 == 0 ? 1 : 0);
    for (int f = 0; f < fields; ++f) {
      if (f > 0) data += ',';
      bool quoted = random() % 3 == 0;
      if (quoted) data += '"';
      for (int k = random() % 4; k > 0; --k) {
        const std::string& piece = pieces[random() % pieces.size()];
        bool needs_quotes = piece.find_first_of("\"\r\n") != std::string::npos;
        if (!quoted && needs_quotes && random() % 5 != 0) continue;  // mostly well-formed, sometimes broken
        data += piece;
      }
      if (quoted) data += '"';
    }
    data += random() % 2 ? "\n" : "\r\n";
    if (random() % 25 == 0) data += "\n";
  }
  // Also with a record limit small enough to cut many records: what is too long must not depend on chunking either.
  for (size_t max_record_bytes : {size_t{16} << 20, size_t{24}}) {
    ReaderOptions options;
    options.max_record_bytes = max_record_bytes;
    Output reference = read_all(data, options);
    REQUIRE(reference.events.size() > 250);
    for (size_t chunk : {1, 2, 3, 5, 16, 17, 64, 1000}) {
      for (size_t max_read : {SIZE_MAX, size_t{1}, size_t{7}}) {
        INFO("max_record_bytes " << max_record_bytes << ", chunk " << chunk << ", max_read " << max_read);
        Output out = read_all(data, tiny_chunks(options, chunk), max_read);
        CHECK(out.events == reference.events);
        CHECK(out.end == reference.end);
      }
    }
  }
}

TEST_CASE("csv: a saved position resumes exactly after the last record read", "[csv]") {
  auto check_resume = [](const std::string& data, ReaderOptions options) {
    Output whole = read_all(data, options);
    for (size_t split = 0; split <= whole.events.size(); ++split) {
      auto first = make_reader(data, tiny_chunks(options, 4));
      first->open();
      std::vector<std::string> events = drain(*first, split);
      Position saved = first->position();
      Position parsed = *conflux::plugins::csv::parse_cursor(conflux::plugins::csv::format_cursor(saved));
      CHECK(parsed == saved);
      auto second = make_reader(data, tiny_chunks(options, 4));
      second->open(parsed);
      std::vector<std::string> rest = drain(*second);
      events.insert(events.end(), rest.begin(), rest.end());
      INFO("split after " << split << " events");
      CHECK(events == whole.events);
    }
  };
  SECTION("UTF-8 with bad rows") { check_resume("a,b\n1,\"x\ny\"\n2,\xFF\n3\n\"4\",5\r\n6,7", {}); }
  SECTION("UTF-16LE") {
    std::u16string text = u"a;b\r\n1;\"Ж\r\nЖ\"\r\n2;😀\r\n\r\n3;4\r\n";
    std::string data = "\xFF\xFE";
    for (char16_t unit : text) {
      data += static_cast<char>(unit & 0xFF);
      data += static_cast<char>(unit >> 8);
    }
    ReaderOptions options;
    options.delimiter = ';';
    check_resume(data, options);
  }
  SECTION("windows-1251") {
    ReaderOptions options;
    options.encoding = EncodingSetting::kWindows1251;
    check_resume("\xC8\xEC\xFF,b\n\xC0,\xC1\n\x98,x\n\"\xC2\n\xC3\",y\n", options);
  }
  SECTION("skip_rows and no header") {
    ReaderOptions options;
    options.skip_rows = 1;
    options.header = false;
    check_resume("title\n1,2\n3,4\n", options);
  }
}

TEST_CASE("csv: cursors that do not fit the file are refused", "[csv]") {
  std::string data = "a,b\n1,2\n3,4\n";
  auto reader = make_reader(data, {});
  CHECK_THROWS_WITH(reader->open(Position{6, 2}), Catch::Contains("not at the start of a line"));
  reader = make_reader(data, {});
  CHECK_THROWS_WITH(reader->open(Position{100, 9}), Catch::Contains("truncated or replaced"));
  reader = make_reader(data, {});
  CHECK_THROWS_AS(reader->open(Position{2, 1}), FormatError);  // inside the header
  CHECK_FALSE(conflux::plugins::csv::parse_cursor("offset=12").has_value());
  CHECK_FALSE(conflux::plugins::csv::parse_cursor("offset=x;line=2").has_value());
  CHECK_FALSE(conflux::plugins::csv::parse_cursor("offset=1;line=0").has_value());
  // The end of the file is a valid resume point: nothing more to read.
  reader = make_reader(data, {});
  reader->open(Position{data.size(), 4});
  CHECK(drain(*reader).empty());
}

TEST_CASE("csv: records longer than max_record_bytes are reported and skipped", "[csv]") {
  ReaderOptions options;
  options.max_record_bytes = 64;
  options.chunk_size = 16;
  SECTION("an over-long unquoted line") {
    std::string data = "a,b\n" + std::string(200, 'x') + ",1\n2,3\n";
    Output out = read_all(data, options);
    REQUIRE(out.events.size() == 2);
    CHECK(out.events[0].rfind("I2:record longer than max_record_bytes (64)", 0) == 0);
    CHECK(out.events[1] == "R3:2|3");
    CHECK(out.end.offset == data.size());
  }
  SECTION("a quote that never closes within the limit") {
    std::string data = "a,b\n1,\"open\n";
    for (int i = 0; i < 20; ++i) data += "2,ok\n";
    Output out = read_all(data, options);
    REQUIRE(out.events.size() == 21);
    CHECK(out.events[0] ==
          "I2:broken quote: quoted field 2 opened at byte 3 of line 2 is not closed within max_record_bytes (64) <= "
          "1,\"open");
    CHECK(out.events[1] == "R3:2|ok");
  }
}

TEST_CASE("csv: UTF-8 validation and raw escaping", "[csv]") {
  using conflux::plugins::csv::append_escaped_raw;
  using conflux::plugins::csv::find_invalid_utf8;
  using conflux::plugins::csv::kValidUtf8;
  auto bad = [](const std::string& s) { return find_invalid_utf8(s.data(), s.size()); };
  CHECK(bad("plain ascii text that is longer than sixteen bytes") == kValidUtf8);
  CHECK(bad("Жанна 😀 €") == kValidUtf8);
  CHECK(bad("0123456789abcdef\xC0\x80") == 16);  // overlong, after an ASCII block
  CHECK(bad("\xED\xA0\x80") == 0);                // surrogate
  CHECK(bad("\xF4\x90\x80\x80") == 0);            // above U+10FFFF
  CHECK(bad("ab\xE2\x82") == 2);                  // truncated
  CHECK(bad("\xD0") == 0);
  std::string out;
  append_escaped_raw(out, "a\\b\xFFЖ\xC3");
  CHECK(out == "a\\b\\xFFЖ\\xC3");
}

TEST_CASE("csv: FileInput reports missing files clearly", "[csv]") {
  try {
    conflux::plugins::csv::FileInput input("/nonexistent/x.csv", "csv");
    FAIL("no exception");
  } catch (const conflux::plugins::csv::InputError& e) {
    CHECK(std::string(e.what()) == "csv: cannot open '/nonexistent/x.csv': No such file or directory");
    CHECK(e.missing());
  }
  char path[] = "/tmp/conflux_csv_test_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::string data = "a,b\n1,2\n";
  REQUIRE(write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  close(fd);
  CsvReader reader(std::make_unique<conflux::plugins::csv::FileInput>(path, "csv"), {});
  reader.open();
  CHECK(drain(reader) == std::vector<std::string>{"R2:1|2"});
  CHECK(reader.size() == data.size());
  std::remove(path);
}
