#include "conflux/record/json.hpp"

#include <string>
#include <string_view>

namespace conflux {

nlohmann::ordered_json value_to_json(const Value& value) {
  switch (value.type) {
    case ValueType::kNull: return nullptr;
    case ValueType::kBool: return value.int_value != 0;
    case ValueType::kInt: return value.int_value;
    case ValueType::kDouble: return value.double_value;
    case ValueType::kString: return value.text;
    case ValueType::kDecimal: {
      nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(value.text, nullptr, false);
      return parsed.is_number() ? parsed : nlohmann::ordered_json(value.text);
    }
    case ValueType::kJson: {
      nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(value.text, nullptr, false);
      return parsed.is_discarded() ? nlohmann::ordered_json(value.text) : parsed;
    }
  }
  return nullptr;
}

nlohmann::ordered_json record_to_json(const Record& record) {
  // ordered output: nlohmann::ordered_json sorts keys, so build with ordered_json semantics by insertion into an object
  // and accept sorting only where callers do not care; record_to_json_text keeps field order.
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const Field& field : record.fields()) object[field.name] = value_to_json(field.value);
  return object;
}

Value value_from_json(const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::null();
    case nlohmann::ordered_json::value_t::boolean: return Value::boolean(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::integer(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      auto u = json.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::integer(static_cast<int64_t>(u));
      return Value::decimal(json.dump());
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::real(json.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::string(json.get<std::string>());
    default: return Value::json(json.dump());
  }
}

Record record_from_json(const nlohmann::ordered_json& object, uint64_t position) {
  Record record(position);
  for (auto it = object.begin(); it != object.end(); ++it) record.append(it.key(), value_from_json(it.value()));
  return record;
}

namespace {

// Length of the valid UTF-8 sequence that starts at s[i] (a byte >= 0x80), or 0 when there is none: a stray
// continuation byte, an overlong form, a UTF-16 surrogate, a code point above U+10FFFF, or a cut sequence.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0; };
  const auto cont = [&](size_t k) { return (byte(k) & 0xC0) == 0x80; };
  const unsigned char c = byte(i);
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if ((c == 0xE0 && byte(i + 1) < 0xA0) || (c == 0xED && byte(i + 1) >= 0xA0)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if ((c == 0xF0 && byte(i + 1) < 0x90) || (c == 0xF4 && byte(i + 1) >= 0x90)) return 0;
    return 4;
  }
  return 0;
}

void append_json_value(std::string& out, const Value& value) {
  switch (value.type) {
    case ValueType::kNull: out += "null"; return;
    case ValueType::kBool: out += value.int_value != 0 ? "true" : "false"; return;
    case ValueType::kInt: out += std::to_string(value.int_value); return;
    case ValueType::kString: append_json_string(out, value.text); return;
    case ValueType::kJson:
      // Canonical (compact, valid) by Value's contract: every producer serialises it with nlohmann's dump.
      if (!value.text.empty()) {
        out += value.text;
        return;
      }
      break;
    case ValueType::kDouble:
    case ValueType::kDecimal: break;  // nlohmann's number formatting, so the text matches record_to_json's
  }
  out += value_to_json(value).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

// Appends `text` as a JSON string the way nlohmann's dump does (UTF-8 kept, control characters escaped), except that
// each invalid UTF-8 byte becomes one U+FFFD. Builds no JSON value: this runs for every field of every record
// written as JSON text.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t copied = 0;  // text[copied, i) is copied as it is
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const size_t n = utf8_sequence(text, i); n != 0) {
        i += n;
        continue;
      }
    }
    out.append(text.data() + copied, i - copied);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        }
    }
    copied = ++i;
  }
  out.append(text.data() + copied, text.size() - copied);
  out += '"';
}

std::string record_to_json_text(const Record& record) {
  std::string out = "{";
  for (const Field& field : record.fields()) {
    if (out.size() > 1) out += ',';
    append_json_string(out, field.name);
    out += ':';
    append_json_value(out, field.value);
  }
  out += '}';
  return out;
}

}  // namespace conflux
