#include "conflux/record/json.hpp"

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

std::string record_to_json_text(const Record& record) {
  std::string out = "{";
  bool first = true;
  for (const Field& field : record.fields()) {
    if (!first) out += ',';
    first = false;
    out += nlohmann::ordered_json(field.name).dump();
    out += ':';
    out += value_to_json(field.value).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  out += '}';
  return out;
}

}  // namespace conflux
