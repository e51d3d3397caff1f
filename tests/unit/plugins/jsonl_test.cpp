// Unit tests of the jsonl connector's parts (plugins/file/jsonl/): the line reader (chunking, resume positions), the
// hand-written line parser (value mapping, validation, error positions; checked against nlohmann::json on random
// input) and the serializer (escaping, numbers, round trip through the parser).
#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "../../../plugins/file/jsonl/json_line_parser.hpp"
#include "../../../plugins/file/jsonl/json_writer.hpp"
#include "../../../plugins/file/jsonl/line_reader.hpp"

namespace {

using conflux::plugins::jsonl::JsonField;
using conflux::plugins::jsonl::JsonLineParser;
using conflux::plugins::jsonl::Line;
using conflux::plugins::jsonl::LineReader;
using conflux::plugins::jsonl::LineReaderOptions;
using conflux::plugins::jsonl::MemoryInput;
using conflux::plugins::jsonl::Position;
using conflux::plugins::jsonl::ValueKind;

std::vector<std::string> read_lines(const std::string& data, size_t chunk = 1 << 20, size_t max_read = SIZE_MAX,
                                    std::optional<Position> resume = std::nullopt, Position* end = nullptr,
                                    size_t limit = SIZE_MAX) {
  LineReaderOptions options;
  options.chunk_size = chunk;
  options.max_line_bytes = 64;
  LineReader reader(std::make_unique<MemoryInput>(data, max_read), options);
  reader.open(resume);
  std::vector<std::string> lines;
  Line line;
  for (LineReader::Next next; lines.size() < limit && (next = reader.next(line)) != LineReader::Next::kEnd;) {
    lines.push_back((next == LineReader::Next::kTooLong ? "LONG" : "") + std::to_string(line.number) + ":" +
                    std::string(line.text));
  }
  if (end) *end = reader.position();
  return lines;
}

// Parses a line that must be valid and returns its fields.
std::vector<JsonField> parse_ok(JsonLineParser& parser, std::string_view line) {
  INFO(line);
  bool ok = parser.parse(line);
  INFO(parser.error());
  REQUIRE(ok);
  return parser.fields();
}

std::string parse_error(std::string_view line) {
  JsonLineParser parser;
  CHECK_FALSE(parser.parse(line));
  return parser.error();
}

}  // namespace

TEST_CASE("jsonl: lines, CRLF, a final line without a break, BOM", "[jsonl]") {
  Position end;
  CHECK(read_lines("\xEF\xBB\xBF{\"a\":1}\r\n\n{\"b\":2}", 1 << 20, SIZE_MAX, std::nullopt, &end) ==
        std::vector<std::string>{"1:{\"a\":1}", "2:", "3:{\"b\":2}"});
  CHECK(end.offset == 20);
  CHECK(end.line == 4);
  CHECK(read_lines("").empty());
  CHECK_THROWS_WITH(read_lines("\xFF\xFE{\0"), Catch::Contains("UTF-16"));
}

TEST_CASE("jsonl: line splitting does not depend on chunk boundaries; over-long lines are cut", "[jsonl]") {
  std::string data;
  std::mt19937 random(3);
  for (int i = 0; i < 200; ++i) {
    data += std::string(random() % (i % 50 == 0 ? 100 : 40), 'a' + i % 26);
    data += random() % 2 ? "\n" : "\r\n";
  }
  std::vector<std::string> reference = read_lines(data);
  REQUIRE(reference.size() == 200);
  CHECK(reference[0].rfind("LONG1:", 0) == 0);
  for (size_t chunk : {1, 2, 3, 7, 64, 65, 1000}) {
    for (size_t max_read : {SIZE_MAX, size_t{1}, size_t{5}}) {
      INFO("chunk " << chunk << " max_read " << max_read);
      CHECK(read_lines(data, chunk, max_read) == reference);
    }
  }
}

TEST_CASE("jsonl: a saved position resumes exactly after the last line read", "[jsonl]") {
  std::string data = "\xEF\xBB\xBF{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}";
  std::vector<std::string> whole = read_lines(data);
  for (size_t split = 0; split <= whole.size(); ++split) {
    Position saved;
    std::vector<std::string> lines = read_lines(data, 4, SIZE_MAX, std::nullopt, &saved, split);
    CHECK(*conflux::plugins::jsonl::parse_cursor(conflux::plugins::jsonl::format_cursor(saved)) == saved);
    std::vector<std::string> rest = read_lines(data, 4, SIZE_MAX, saved);
    lines.insert(lines.end(), rest.begin(), rest.end());
    CHECK(lines == whole);
  }
  CHECK_THROWS_WITH(read_lines(data, 4, SIZE_MAX, Position{6, 1}), Catch::Contains("not at the start of a line"));
  CHECK_THROWS_WITH(read_lines(data, 4, SIZE_MAX, Position{999, 1}), Catch::Contains("truncated or replaced"));
}

TEST_CASE("jsonl: values map to record field types", "[jsonl]") {
  JsonLineParser parser;
  auto fields = parse_ok(parser,
                         R"({"s":"text","i":-42,"d":2.5,"t":true,"f":false,"n":null,"o":{ "k" : [1, 2.0, "x"] },)"
                         R"("a":[],"e":{}})");
  REQUIRE(fields.size() == 9);
  CHECK(fields[0].name == "s");
  CHECK(fields[0].kind == ValueKind::kString);
  CHECK(fields[0].text == "text");
  CHECK(fields[1].kind == ValueKind::kInt);
  CHECK(fields[1].int_value == -42);
  CHECK(fields[2].kind == ValueKind::kDouble);
  CHECK(fields[2].double_value == 2.5);
  CHECK(fields[3].kind == ValueKind::kBool);
  CHECK(fields[3].int_value == 1);
  CHECK(fields[4].int_value == 0);
  CHECK(fields[5].kind == ValueKind::kNull);
  CHECK(fields[6].kind == ValueKind::kJson);
  CHECK(fields[6].text == R"({"k":[1,2.0,"x"]})");
  CHECK(fields[7].text == "[]");
  CHECK(fields[8].text == "{}");
  CHECK(parse_ok(parser, "  {}  ").empty());
}

TEST_CASE("jsonl: numbers keep their precision", "[jsonl]") {
  JsonLineParser parser;
  auto fields = parse_ok(parser,
                         R"({"max":9223372036854775807,"min":-9223372036854775808,"over":9223372036854775808,)"
                         R"("huge":-123456789012345678901234567890,"d15":0.123456789012345,"d20":1234567890.1234567891,)"
                         R"("zeros":100000000000000000000.0,"exp":1.2345678901234567e5,"negzero":-0,"small":1e-300,)"
                         R"("d16":12345678901234.56,"d17":0.10000000000000000555,"expd":-1.23456789012345678e-3,)"
                         R"("expd2":12345678901234567.8e3})");
  REQUIRE(fields.size() == 14);
  CHECK(fields[0].kind == ValueKind::kInt);
  CHECK(fields[0].int_value == INT64_MAX);
  CHECK(fields[1].kind == ValueKind::kInt);
  CHECK(fields[1].int_value == INT64_MIN);
  CHECK(fields[2].kind == ValueKind::kDecimal);
  CHECK(fields[2].text == "9223372036854775808");
  CHECK(fields[3].kind == ValueKind::kDecimal);
  CHECK(fields[3].text == "-123456789012345678901234567890");
  CHECK(fields[4].kind == ValueKind::kDouble);  // 15 significant digits: a double holds them
  CHECK(fields[5].kind == ValueKind::kDecimal);  // 20 digits a double would round
  CHECK(fields[5].text == "1234567890.1234567891");
  CHECK(fields[6].kind == ValueKind::kDouble);  // trailing zeros are not significant
  CHECK(fields[6].double_value == 1e20);
  CHECK(fields[7].kind == ValueKind::kDouble);  // 17 digits, and exactly the double's shortest text
  CHECK(fields[7].double_value == 1.2345678901234567e5);
  CHECK(fields[8].kind == ValueKind::kInt);
  CHECK(fields[8].int_value == 0);
  CHECK(fields[9].double_value == 1e-300);
  CHECK(fields[10].kind == ValueKind::kDouble);  // 16 digits that a double keeps
  CHECK(fields[10].double_value == 12345678901234.56);
  CHECK(fields[11].kind == ValueKind::kDecimal);  // the double would print as 0.1
  CHECK(fields[11].text == "0.10000000000000000555");
  CHECK(fields[12].kind == ValueKind::kDecimal);  // exponent written out
  CHECK(fields[12].text == "-0.00123456789012345678");
  CHECK(fields[13].kind == ValueKind::kDecimal);
  CHECK(fields[13].text == "12345678901234567800");
}

TEST_CASE("jsonl: strings are unescaped, UTF-8 passes through", "[jsonl]") {
  JsonLineParser parser;
  auto fields = parse_ok(parser, R"({"k\"ey":"a\"b\\c\/d\b\f\n\r\t","u":"\u00e9\u0416\ud83d\ude00","raw":"Жанна 😀"})");
  REQUIRE(fields.size() == 3);
  CHECK(fields[0].name == "k\"ey");
  CHECK(fields[0].text == "a\"b\\c/d\b\f\n\r\t");
  CHECK(fields[1].text == "éЖ😀");
  CHECK(fields[2].text == "Жанна 😀");
  // Nested strings keep their escapes as written.
  CHECK(parse_ok(parser, R"({"o":["\u00e9\n"]})")[0].text == R"(["\u00e9\n"])");
}

TEST_CASE("jsonl: invalid lines are explained with the byte position", "[jsonl]") {
  CHECK(parse_error("[1,2]") == "the line is a JSON array; expected an object at byte 1");
  CHECK(parse_error("42") == "expected a JSON object at byte 1");
  CHECK(parse_error("{\"a\" 1}") == "expected ':' after the key at byte 6");
  CHECK(parse_error("{\"a\":1,}") == "expected a key (a string) at byte 8");
  CHECK(parse_error("{\"a\":1 \"b\":2}") == "expected ',' or '}' at byte 8");
  CHECK(parse_error("{\"a\":1} x") == "unexpected text after the object at byte 9");
  CHECK(parse_error("{\"a\":\"open}") == "unterminated string at byte 6");
  CHECK(parse_error("{\"a\":\"tab\there\"}") == "control character in a string (it must be escaped) at byte 10");
  CHECK(parse_error("{\"a\":\"\\x\"}") == "invalid escape at byte 7");
  CHECK(parse_error("{\"a\":\"\\ud800\"}") == "unpaired surrogate in a \\u escape at byte 7");
  CHECK(parse_error("{\"a\":\"\\udc00\"}") == "unpaired surrogate in a \\u escape at byte 7");
  CHECK(parse_error("{\"a\":01}") == "invalid number (leading zero) at byte 7");
  CHECK(parse_error("{\"a\":1.}") == "invalid number (no digits after '.') at byte 8");
  CHECK(parse_error("{\"a\":+1}") == "invalid number at byte 6");
  CHECK(parse_error("{\"a\":NaN}") == "expected a value at byte 6");
  CHECK(parse_error("{\"a\":tru}") == "invalid literal (expected true, false or null) at byte 6");
  CHECK(parse_error("{\"a\":1e999}") == "number out of the range of a double at byte 6");
  CHECK(parse_error("{\"a\":[1,]}") == "expected a value at byte 9");
  CHECK(parse_error("{\"a\":{\"b\" 1}}") == "expected ':' after the key at byte 11");
  CHECK(parse_error("{\"a\":[1 2]}") == "expected ',' or ']' at byte 9");
  CHECK(parse_error("{\"a\":1,\"a\":2}") == "duplicate key \"a\"");
  CHECK(parse_error("{\"a\":\"D\xFF\"}") == "invalid UTF-8 at byte 8");
  CHECK(parse_error(std::string(600, '[')).find("the line is a JSON array") == 0);
  CHECK(parse_error("{\"a\":" + std::string(600, '[') + std::string(600, ']') + "}").find("nesting deeper than 512") == 0);
  std::string many = "{";
  for (int i = 0; i < 40; ++i) many += "\"k" + std::to_string(i) + "\":1,";
  many += "\"k7\":2}";
  CHECK(parse_error(many) == "duplicate key \"k7\"");
}

TEST_CASE("jsonl: the parser agrees with nlohmann::json on random objects", "[jsonl]") {
  std::mt19937_64 random(11);
  const std::vector<std::string> words = {"a", "Жанна", "😀", "\"", "\\", "\n", "\t", "\x01", "/", " ", "é"};
  auto random_string = [&] {
    std::string s;
    for (int k = random() % 5; k > 0; --k) s += words[random() % words.size()];
    return s;
  };
  std::function<nlohmann::json(int)> random_value = [&](int depth) -> nlohmann::json {
    switch (random() % (depth > 2 ? 6 : 8)) {
      case 0: return nullptr;
      case 1: return random() % 2 == 0;
      case 2: return static_cast<int64_t>(random());
      case 3: return static_cast<double>(static_cast<int64_t>(random() % 2000000) - 1000000) / 64.0;
      case 4: return random_string();
      case 5: return static_cast<int64_t>(random() % 100) - 50;
      case 6: {
        nlohmann::json array = nlohmann::json::array();
        for (int k = random() % 4; k > 0; --k) array.push_back(random_value(depth + 1));
        return array;
      }
      default: {
        nlohmann::json object = nlohmann::json::object();
        for (int k = random() % 4; k > 0; --k) object[random_string()] = random_value(depth + 1);
        return object;
      }
    }
  };
  JsonLineParser parser;
  for (int round = 0; round < 500; ++round) {
    nlohmann::json object = nlohmann::json::object();
    for (int k = random() % 8; k > 0; --k) object["f" + std::to_string(k) + random_string()] = random_value(0);
    std::string line = object.dump(random() % 2 ? -1 : 0);
    if (line.find('\n') != std::string::npos) line = object.dump();  // pretty output would span lines
    auto fields = parse_ok(parser, line);
    REQUIRE(fields.size() == object.size());
    for (const JsonField& f : fields) {
      std::string name(f.name);
      REQUIRE(object.contains(name));
      const nlohmann::json& expected = object[name];
      INFO(line << " / " << name);
      switch (f.kind) {
        case ValueKind::kNull: CHECK(expected.is_null()); break;
        case ValueKind::kBool: CHECK(expected == (f.int_value != 0)); break;
        case ValueKind::kInt: CHECK(expected == f.int_value); break;
        case ValueKind::kDouble: CHECK(expected.get<double>() == f.double_value); break;
        case ValueKind::kDecimal: CHECK(expected.is_number()); break;
        case ValueKind::kString: CHECK(expected == std::string(f.text)); break;
        case ValueKind::kJson: CHECK(nlohmann::json::parse(f.text) == expected); break;
      }
    }
  }
}

TEST_CASE("jsonl writer: strings, numbers and raw JSON", "[jsonl]") {
  using namespace conflux::plugins::jsonl;
  std::string out;
  append_json_string(out, "a\"b\\c\n\r\t\b\f\x01\x1f Жанна 😀 /");
  CHECK(out == R"("a\"b\\c\n\r\t\b\f\u0001\u001f Жанна 😀 /")");
  out.clear();
  append_json_string(out, std::string("nul\0x", 5));
  CHECK(out == R"("nul\u0000x")");
  out.clear();
  CHECK(append_json_double(out, 1.0));
  CHECK(out == "1.0");
  out.clear();
  CHECK(append_json_double(out, -0.1));
  CHECK(out == "-0.1");
  out.clear();
  CHECK(append_json_double(out, 1e300));
  CHECK(out == "1e+300");
  out.clear();
  CHECK_FALSE(append_json_double(out, NAN));
  CHECK_FALSE(append_json_double(out, INFINITY));
  CHECK(out.empty());
  CHECK(is_json_number("-12.50"));
  CHECK(is_json_number("0"));
  CHECK(is_json_number("1e-5"));
  CHECK_FALSE(is_json_number("01"));
  CHECK_FALSE(is_json_number("1."));
  CHECK_FALSE(is_json_number("+1"));
  CHECK_FALSE(is_json_number(""));
  CHECK_FALSE(is_json_number("12,5"));
  CHECK(append_json_raw(out, " {\n  \"a\": [1,\r\n 2]\n} "));
  CHECK(out == "{   \"a\": [1,   2] }");
  out.clear();
  CHECK_FALSE(append_json_raw(out, "\"string\""));
  CHECK_FALSE(append_json_raw(out, "  "));
}

TEST_CASE("jsonl writer: what it writes the parser reads back", "[jsonl]") {
  using namespace conflux::plugins::jsonl;
  std::mt19937_64 random(5);
  JsonLineParser parser;
  for (int round = 0; round < 1000; ++round) {
    std::string text;
    for (int k = random() % 6; k > 0; --k) text += static_cast<char>(random() % 0x7F + 1);
    text += "Жанна😀";
    uint64_t bits = random();
    double number;
    std::memcpy(&number, &bits, sizeof number);
    if (!std::isfinite(number)) number = 0.5;
    int64_t integer = static_cast<int64_t>(random());
    std::string line = "{";
    append_json_string(line, text);
    line += ':';
    append_json_string(line, text);
    line += ",\"d\":";
    REQUIRE(append_json_double(line, number));
    line += ",\"i\":";
    append_json_int(line, integer);
    line += '}';
    auto fields = parse_ok(parser, line);
    REQUIRE(fields.size() == 3);
    CHECK(fields[0].name == text);
    CHECK(fields[0].text == text);
    CHECK(fields[1].kind == ValueKind::kDouble);
    CHECK(fields[1].double_value == number);
    CHECK(fields[2].kind == ValueKind::kInt);
    CHECK(fields[2].int_value == integer);
  }
}
