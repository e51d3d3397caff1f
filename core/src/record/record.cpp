#include "conflux/record/record.hpp"

#include <cstdio>
#include <cmath>

namespace conflux {

const char* value_type_name(ValueType type) {
  switch (type) {
    case ValueType::kNull: return "null";
    case ValueType::kBool: return "bool";
    case ValueType::kInt: return "int";
    case ValueType::kDouble: return "double";
    case ValueType::kString: return "string";
    case ValueType::kDecimal: return "decimal";
    case ValueType::kJson: return "json";
  }
  return "unknown";
}

bool Value::is_blank() const {
  if (type == ValueType::kNull) return true;
  if (type != ValueType::kString) return false;
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

std::string Value::to_text() const {
  switch (type) {
    case ValueType::kNull: return {};
    case ValueType::kBool: return int_value ? "true" : "false";
    case ValueType::kInt: return std::to_string(int_value);
    case ValueType::kDouble: {
      if (std::isfinite(double_value) && double_value == std::floor(double_value) && std::fabs(double_value) < 1e15) {
        return std::to_string(static_cast<int64_t>(double_value));
      }
      char buffer[32];
      for (int precision = 15; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, double_value);
        if (std::strtod(buffer, nullptr) == double_value) break;
      }
      return buffer;
    }
    default: return text;
  }
}

bool Value::operator==(const Value& other) const {
  if (type != other.type) return false;
  switch (type) {
    case ValueType::kNull: return true;
    case ValueType::kBool:
    case ValueType::kInt: return int_value == other.int_value;
    case ValueType::kDouble: return double_value == other.double_value;
    default: return text == other.text;
  }
}

const Value* Record::find(std::string_view name) const {
  for (const Field& field : fields_) {
    if (field.name == name) return &field.value;
  }
  return nullptr;
}

Value* Record::find(std::string_view name) {
  for (Field& field : fields_) {
    if (field.name == name) return &field.value;
  }
  return nullptr;
}

void Record::set(std::string_view name, Value value) { get_or_add(name) = std::move(value); }

Value& Record::get_or_add(std::string_view name) {
  if (Value* existing = find(name)) return *existing;
  Field& field = fields_.emplace_back();
  field.name.assign(name.data(), name.size());
  return field.value;
}

bool Record::erase(std::string_view name) {
  for (auto it = fields_.begin(); it != fields_.end(); ++it) {
    if (it->name == name) {
      fields_.erase(it);
      return true;
    }
  }
  return false;
}

bool Record::rename(std::string_view from, std::string_view to) {
  if (from == to) return has(from);
  Value* source = find(from);
  if (source == nullptr) return false;
  Value moved = std::move(*source);
  erase(from);
  set(to, std::move(moved));
  return true;
}

size_t Record::non_blank_count() const {
  size_t count = 0;
  for (const Field& field : fields_) count += field.value.is_blank() ? 0 : 1;
  return count;
}

bool Record::equal_fields(const Record& other) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name != other.fields_[i].name || fields_[i].value != other.fields_[i].value) return false;
  }
  return true;
}

}  // namespace conflux
