// cast: converts field values to int, decimal, double, bool, timestamp, date or string. Nulls stay null and blank
// strings become null (for every target but string); a value that cannot be converted makes the record invalid.
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

#include "config_reader.hpp"
#include "conflux/transforms/timestamp.hpp"
#include "stages.hpp"
#include "text_util.hpp"

namespace conflux::transforms::internal {

namespace {

enum class CastType { kInt, kDecimal, kDouble, kBool, kTimestamp, kDate, kString };
constexpr std::array<std::string_view, 7> kTypeNames = {"int",       "decimal", "double", "bool",
                                                        "timestamp", "date",    "string"};
enum class DecimalSeparator { kAuto, kDot, kComma };

const char* type_name(CastType type) { return kTypeNames[static_cast<size_t>(type)].data(); }

// Grouping characters: ASCII space, NBSP, thin space, narrow NBSP, apostrophe.
size_t group_char_length(std::string_view s, size_t i) {
  if (s[i] == ' ' || s[i] == '\'') return 1;
  if (s.compare(i, 2, "\xC2\xA0") == 0) return 2;
  if (s.compare(i, 3, "\xE2\x80\x89") == 0 || s.compare(i, 3, "\xE2\x80\xAF") == 0) return 3;
  return 0;
}

// "1 234,50", "1,234.50", "-12.5", "1.234.567" -> canonical "1234.50", "-12.5", "1234567". Digit groups after a
// grouping separator must have three digits, which keeps dates and version strings ("1.2.3") out.
bool parse_decimal(std::string_view text, DecimalSeparator mode, std::string& out) {
  text = trim_unicode(text);
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  } else if (text.substr(0, 3) == "\xE2\x88\x92") {  // U+2212 minus sign
    negative = true;
    text.remove_prefix(3);
  }
  if (text.empty()) return false;
  // Tokenise into digit runs and the separators between them.
  std::string digits;                               // all digits, in order
  std::vector<std::pair<char, size_t>> separators;  // ('.', ',' or ' ') and the digit count before it
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digits += c;
      ++i;
    } else if (c == '.' || c == ',') {
      separators.emplace_back(c, digits.size());
      ++i;
    } else if (size_t n = group_char_length(text, i); n > 0) {
      separators.emplace_back(' ', digits.size());
      i += n;
    } else {
      return false;
    }
  }
  if (digits.empty()) return false;
  char decimal = '\0';
  size_t dots = 0;
  size_t commas = 0;
  for (const auto& [c, at] : separators) {
    dots += c == '.' ? 1 : 0;
    commas += c == ',' ? 1 : 0;
  }
  if (mode == DecimalSeparator::kDot) {
    decimal = dots > 0 ? '.' : '\0';
  } else if (mode == DecimalSeparator::kComma) {
    decimal = commas > 0 ? ',' : '\0';
  } else if (dots > 0 && commas > 0) {
    for (const auto& [c, at] : separators) {
      if (c != ' ') decimal = c;  // the last of the two kinds
    }
  } else if (dots == 1) {
    decimal = '.';
  } else if (commas == 1) {
    decimal = ',';
  }
  // The decimal separator appears at most once and after every grouping separator; groups have three digits.
  size_t decimal_at = std::string::npos;
  size_t previous = std::string::npos;
  for (const auto& [c, at] : separators) {
    if (c == decimal) {
      if (decimal_at != std::string::npos) return false;
      decimal_at = at;
      if (previous != std::string::npos && at - previous != 3) return false;
      continue;
    }
    if (decimal_at != std::string::npos) return false;  // grouping after the decimal separator
    if (at == 0 || (previous != std::string::npos && at - previous != 3) ||
        (previous == std::string::npos && at > 3 && c != ' ')) {
      return false;
    }
    previous = at;
  }
  size_t integer_end = decimal_at == std::string::npos ? digits.size() : decimal_at;
  if (previous != std::string::npos && integer_end - previous != 3) return false;
  std::string_view integer(digits.data(), integer_end);
  std::string_view fraction = std::string_view(digits).substr(integer_end);
  while (integer.size() > 1 && integer[0] == '0') integer.remove_prefix(1);
  out.clear();
  bool zero = integer.find_first_not_of('0') == std::string_view::npos &&
              fraction.find_first_not_of('0') == std::string_view::npos;
  if (negative && !zero) out += '-';
  out += integer.empty() ? "0" : std::string(integer);
  if (!fraction.empty()) {
    out += '.';
    out += fraction;
  }
  return true;
}

bool parse_int(std::string_view text, DecimalSeparator mode, int64_t& out) {
  std::string canonical;
  if (!parse_decimal(text, mode, canonical)) return false;
  size_t dot = canonical.find('.');
  if (dot != std::string::npos) {
    if (canonical.find_first_not_of('0', dot + 1) != std::string::npos) return false;
    canonical.resize(dot);
  }
  auto [end, error] = std::from_chars(canonical.data(), canonical.data() + canonical.size(), out);
  return error == std::errc() && end == canonical.data() + canonical.size();
}

bool parse_double(std::string_view text, DecimalSeparator mode, double& out) {
  std::string canonical;
  if (!parse_decimal(text, mode, canonical)) {
    // Scientific notation ("1.5e3"): only with a dot, no grouping.
    std::string_view trimmed = trim_ascii(text);
    if (trimmed.find_first_of("eE") == std::string_view::npos) return false;
    if (!trimmed.empty() && trimmed[0] == '+') trimmed.remove_prefix(1);
    canonical = std::string(trimmed);
  }
  auto [end, error] = std::from_chars(canonical.data(), canonical.data() + canonical.size(), out);
  return error == std::errc() && end == canonical.data() + canonical.size() && std::isfinite(out);
}

bool parse_bool(std::string_view text, bool& out) {
  std::string lower = to_lower(trim_unicode(text));
  if (lower == "true" || lower == "yes" || lower == "y" || lower == "1" || lower == "да") {
    out = true;
    return true;
  }
  if (lower == "false" || lower == "no" || lower == "n" || lower == "0" || lower == "нет") {
    out = false;
    return true;
  }
  return false;
}

class CastTransform final : public engine::RecordTransform {
 public:
  CastTransform(std::vector<std::pair<std::string, CastType>> fields, TimestampParser parser, DecimalSeparator mode)
      : fields_(std::move(fields)), parser_(std::move(parser)), mode_(mode) {}

  // Converts every field first and writes only when all succeed, so a rejected record leaves as it came.
  Verdict process(Record& record, std::string& reason) const override {
    thread_local std::vector<std::pair<Value*, Value>> converted;
    converted.clear();
    for (const auto& [name, type] : fields_) {
      Value* value = record.find(name);
      if (value == nullptr || value->is_null()) continue;
      if (type != CastType::kString && value->is_blank()) {
        converted.emplace_back(value, Value::null());
        continue;
      }
      Value out;
      if (convert(*value, type, out)) {
        converted.emplace_back(value, std::move(out));
        continue;
      }
      reason += reason.empty() ? "cast: " : "; ";
      reason += "field '" + name + "': cannot convert " + quote_for_reason(value->to_text()) + " to " + type_name(type);
    }
    if (!reason.empty()) return Verdict::kInvalid;
    for (auto& [target, value] : converted) *target = std::move(value);
    return Verdict::kKeep;
  }

 private:
  bool convert(const Value& in, CastType type, Value& out) const {
    switch (type) {
      case CastType::kString: out = Value::string(in.to_text()); return true;
      case CastType::kInt: {
        if (in.type == ValueType::kInt) {
          out = in;
          return true;
        }
        if (in.type == ValueType::kBool) {
          out = Value::integer(in.int_value);
          return true;
        }
        if (in.type == ValueType::kDouble) {
          double d = in.double_value;
          if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) >= 9.2e18) return false;
          out = Value::integer(static_cast<int64_t>(d));
          return true;
        }
        int64_t i = 0;
        if (in.type != ValueType::kString && in.type != ValueType::kDecimal) return false;
        if (!parse_int(in.text, in.type == ValueType::kDecimal ? DecimalSeparator::kDot : mode_, i)) return false;
        out = Value::integer(i);
        return true;
      }
      case CastType::kDecimal: {
        std::string canonical;
        if (in.type == ValueType::kInt || in.type == ValueType::kDouble) {
          if (in.type == ValueType::kDouble && !std::isfinite(in.double_value)) return false;
          std::string text = in.to_text();
          if (text.find_first_of("eE") != std::string::npos) return false;
          out = Value::decimal(std::move(text));
          return true;
        }
        if (in.type != ValueType::kString && in.type != ValueType::kDecimal) return false;
        if (!parse_decimal(in.text, in.type == ValueType::kDecimal ? DecimalSeparator::kDot : mode_, canonical)) {
          return false;
        }
        out = Value::decimal(std::move(canonical));
        return true;
      }
      case CastType::kDouble: {
        if (in.type == ValueType::kDouble) {
          out = in;
          return true;
        }
        if (in.type == ValueType::kInt || in.type == ValueType::kBool) {
          out = Value::real(static_cast<double>(in.int_value));
          return true;
        }
        double d = 0;
        if (in.type != ValueType::kString && in.type != ValueType::kDecimal) return false;
        if (!parse_double(in.text, in.type == ValueType::kDecimal ? DecimalSeparator::kDot : mode_, d)) return false;
        out = Value::real(d);
        return true;
      }
      case CastType::kBool: {
        bool b = false;
        if (in.type == ValueType::kBool) {
          out = in;
          return true;
        }
        if (in.type == ValueType::kInt || in.type == ValueType::kDouble) {
          double d = in.type == ValueType::kInt ? static_cast<double>(in.int_value) : in.double_value;
          if (d != 0 && d != 1) return false;
          out = Value::boolean(d == 1);
          return true;
        }
        if (in.type != ValueType::kString || !parse_bool(in.text, b)) return false;
        out = Value::boolean(b);
        return true;
      }
      case CastType::kTimestamp:
      case CastType::kDate: {
        if (in.type != ValueType::kString && in.type != ValueType::kInt && in.type != ValueType::kDouble &&
            in.type != ValueType::kDecimal) {
          return false;
        }
        std::string text = in.to_text();
        std::optional<std::string> result =
            type == CastType::kTimestamp ? parser_.to_utc_iso(text) : parser_.to_date(text);
        if (!result) return false;
        out = Value::string(std::move(*result));
        return true;
      }
    }
    return false;
  }

  std::vector<std::pair<std::string, CastType>> fields_;
  TimestampParser parser_;
  DecimalSeparator mode_;
};

}  // namespace

TransformResult make_cast(const Json& config) {
  ConfigReader reader("cast", config);
  CONFLUX_RETURN_IF_ERROR(
      reader.check_keys({"fields", "timestamp_formats", "timezone", "day_first", "decimal_separator"}));
  if (!reader.has("fields")) return reader.error("missing required key 'fields'");
  std::vector<std::pair<std::string, std::string>> raw_fields;
  CONFLUX_TX_ASSIGN(raw_fields, reader.string_map("fields"));
  if (raw_fields.empty()) return reader.error("'fields' is empty");
  std::vector<std::pair<std::string, CastType>> fields;
  for (const auto& [name, type_text] : raw_fields) {
    size_t index = 0;
    for (std::string_view candidate : kTypeNames) {
      if (candidate == type_text) break;
      ++index;
    }
    if (index == kTypeNames.size()) {
      return reader.error("unknown type '" + type_text + "' for field '" + name +
                          "' in fields (expected int, decimal, double, bool, timestamp, date or string)");
    }
    fields.emplace_back(name, static_cast<CastType>(index));
  }
  TimestampOptions options;
  if (reader.has("timestamp_formats")) {
    const Json& formats = reader.get("timestamp_formats");
    if (!formats.is_array() || formats.empty())
      return reader.error("'timestamp_formats' must be a non-empty list of patterns");
    options.formats.clear();
    for (const Json& format : formats) {
      if (!format.is_string() || format.get<std::string>().empty()) {
        return reader.error("'timestamp_formats' must be a non-empty list of patterns");
      }
      options.formats.push_back(format.get<std::string>());
    }
  }
  CONFLUX_TX_ASSIGN(options.timezone, reader.string("timezone", "UTC"));
  CONFLUX_TX_ASSIGN(options.day_first, reader.boolean("day_first", false));
  size_t separator = 0;
  CONFLUX_TX_ASSIGN(separator, reader.choice("decimal_separator", {"auto", ".", ","}, 0));
  Result<TimestampParser> parser = TimestampParser::create(options);
  if (!parser.is_ok()) {
    const std::string& message = parser.status().message();
    if (message.rfind("unknown time zone", 0) == 0) return reader.error(message + " in timezone");
    return reader.error(message + " in timestamp_formats");
  }
  return std::unique_ptr<engine::Transform>(
      new CastTransform(std::move(fields), std::move(parser).value(), static_cast<DecimalSeparator>(separator)));
}

Json cast_schema() {
  return object_schema(
      "cast",
      "Converts field values to a type. Nulls stay null; blank strings become null except for string; a value "
      "that cannot be converted makes the record invalid.",
      {{"fields",
        {{"type", "object"},
         {"description", "{field: type}"},
         {"minProperties", 1},
         {"additionalProperties",
          {{"enum", Json::array({"int", "decimal", "double", "bool", "timestamp", "date", "string"})}}}}},
       {"timestamp_formats",
        {{"type", "array"},
         {"minItems", 1},
         {"items", {{"type", "string"}, {"minLength", 1}}},
         {"default", Json::array({"auto"})},
         {"description",
          "Patterns tried in order for timestamp and date fields: 'auto' (the built-in recogniser) "
          "or strptime-like patterns such as '%d/%m/%Y %H:%M'."}}},
       {"timezone",
        {{"type", "string"},
         {"default", "UTC"},
         {"description", "IANA zone for timestamps written without an offset, e.g. Europe/Moscow."}}},
       {"day_first",
        {{"type", "boolean"},
         {"default", false},
         {"description", "Read 03/05/2024 as 3 May (true) or March 5 (false)."}}},
       {"decimal_separator",
        {{"enum", Json::array({"auto", ".", ","})},
         {"default", "auto"},
         {"description",
          "Decimal separator of text numbers; auto: the last of '.' and ',' when both appear, a "
          "separator that appears once otherwise."}}}},
      Json::array({"fields"}));
}

}  // namespace conflux::transforms::internal
