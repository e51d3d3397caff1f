// Unit tests of the csv connector's writing side (plugins/file/csv/csv_writer.hpp, buffered_file.hpp): RFC 4180
// quoting, number formatting, the buffered file, and a write-then-read round trip through the reader.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../../../plugins/file/common/buffered_file.hpp"
#include "../../../plugins/file/csv/csv_reader.hpp"
#include "../../../plugins/file/csv/csv_writer.hpp"

namespace {

using conflux::plugins::csv::append_field;
using conflux::plugins::csv::WriterFormat;

std::string field(std::string_view value, WriterFormat format = {}, bool force = false) {
  std::string out;
  REQUIRE(append_field(out, value, format, force));
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A fresh temporary directory, removed with its files at scope exit.
struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/conflux_csv_writer_XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() {
    std::string command = "rm -rf '" + path + "'";
    if (std::system(command.c_str()) != 0) std::fprintf(stderr, "cannot remove %s\n", path.c_str());
  }
  std::string path;
};

}  // namespace

TEST_CASE("csv writer: fields are quoted only when RFC 4180 needs it", "[csv]") {
  CHECK(field("plain") == "plain");
  CHECK(field("") == "");
  CHECK(field(" spaces kept ") == " spaces kept ");
  CHECK(field("a,b") == "\"a,b\"");
  CHECK(field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(field("\"") == "\"\"\"\"");
  CHECK(field("two\nlines") == "\"two\nlines\"");
  CHECK(field("cr\r") == "\"cr\r\"");
  CHECK(field("Жанна") == "Жанна");
  CHECK(field("", {}, true) == "\"\"");
  WriterFormat semicolon{';', '"', false};
  CHECK(field("a,b", semicolon) == "a,b");
  CHECK(field("a;b", semicolon) == "\"a;b\"");
  WriterFormat single_quote{',', '\'', false};
  CHECK(field("it's", single_quote) == "'it''s'");
  CHECK(field("\"x\"", single_quote) == "\"x\"");
}

TEST_CASE("csv writer: with quoting off, values that need quotes are refused", "[csv]") {
  WriterFormat no_quotes{'\t', -1, false};
  std::string out;
  CHECK(append_field(out, "5\" screen", no_quotes));
  CHECK(out == "5\" screen");
  CHECK_FALSE(append_field(out, "a\tb", no_quotes));
  CHECK_FALSE(append_field(out, "a\nb", no_quotes));
  CHECK(out == "5\" screen");
}

TEST_CASE("csv writer: numbers", "[csv]") {
  std::string out;
  conflux::plugins::csv::append_int(out, INT64_MIN);
  CHECK(out == "-9223372036854775808");
  out.clear();
  conflux::plugins::csv::append_double(out, 0.1);
  CHECK(out == "0.1");
  out.clear();
  conflux::plugins::csv::append_double(out, 1e300);
  CHECK(out == "1e+300");
  std::mt19937_64 random(7);
  for (int i = 0; i < 2000; ++i) {
    uint64_t bits = random();
    double value;
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) continue;
    out.clear();
    conflux::plugins::csv::append_double(out, value);
    double back = 0;
    std::from_chars(out.data(), out.data() + out.size(), back);
    CHECK(back == value);
  }
}

TEST_CASE("csv writer: what the writer writes, the reader reads back unchanged", "[csv]") {
  std::mt19937 random(42);
  const std::vector<std::string> pieces = {"a", ",", ";", "\"", "\n", "\r\n", " ", "Жанна", "😀", "x\"y", "\t"};
  std::vector<std::vector<std::string>> rows;
  std::string text;
  WriterFormat format{';', '"', true};
  std::vector<std::string> header = {"c1", "c2", "c3"};
  for (size_t i = 0; i < header.size(); ++i) {
    if (i) text += ';';
    REQUIRE(append_field(text, header[i], format));
  }
  conflux::plugins::csv::append_line_end(text, format);
  for (int r = 0; r < 200; ++r) {
    std::vector<std::string> row;
    for (int c = 0; c < 3; ++c) {
      std::string value;
      for (int k = random() % 4; k > 0; --k) value += pieces[random() % pieces.size()];
      row.push_back(value);
      if (c) text += ';';
      REQUIRE(append_field(text, value, format));
    }
    // A row of three empty values is ";;" and not a blank line, so nothing is lost.
    conflux::plugins::csv::append_line_end(text, format);
    rows.push_back(row);
  }
  conflux::plugins::csv::ReaderOptions options;
  options.delimiter = ';';
  conflux::plugins::csv::CsvReader reader(std::make_unique<conflux::plugins::csv::MemoryInput>(text), options);
  reader.open();
  CHECK(reader.columns() == header);
  conflux::plugins::csv::Row row;
  size_t index = 0;
  while (reader.next(row) == conflux::plugins::csv::CsvReader::Next::kRecord) {
    REQUIRE(index < rows.size());
    std::vector<std::string> got(row.fields.begin(), row.fields.end());
    CHECK(got == rows[index]);
    ++index;
  }
  CHECK(index == rows.size());
}

TEST_CASE("csv writer: BufferedFile truncates or appends, and creates missing files", "[csv]") {
  TempDir dir;
  std::string path = dir.path + "/out.csv";
  {
    conflux::plugins::file_io::BufferedFile file(path, true, "csv");
    CHECK(file.initial_size() == 0);
    file.append("a,b\n");
    file.sync();
    CHECK(read_file(path) == "a,b\n");
    file.append("1,2\n");
  }  // the destructor writes what is left
  CHECK(read_file(path) == "a,b\n1,2\n");
  {
    conflux::plugins::file_io::BufferedFile file(path, false, "csv");
    CHECK(file.initial_size() == 8);
    file.append("3,4\n");
  }
  CHECK(read_file(path) == "a,b\n1,2\n3,4\n");
  {
    conflux::plugins::file_io::BufferedFile file(path, true, "csv");
    file.append("x\n");
  }
  CHECK(read_file(path) == "x\n");
  std::string big(3 << 20, 'z');
  {
    conflux::plugins::file_io::BufferedFile file(path, true, "csv");
    file.append(big);
    CHECK(file.bytes_written() == big.size());
  }
  CHECK(read_file(path).size() == big.size());
  CHECK_THROWS_WITH(conflux::plugins::file_io::BufferedFile(dir.path + "/missing/dir/x.csv", true, "csv"),
                    Catch::StartsWith("csv: cannot open '" + dir.path + "/missing/dir/x.csv': No such file"));
}
