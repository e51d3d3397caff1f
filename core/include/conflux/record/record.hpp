// Record and Value: the host's in-memory form of one row flowing through a pipeline.
//
// A record is an ordered list of named fields. Field order is kept (sinks such as CSV write it as is); lookups are
// linear, which beats hashing for the 5-50 fields marketing records carry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace conflux {

enum class ValueType : int32_t { kNull = 0, kBool = 1, kInt = 2, kDouble = 3, kString = 4, kDecimal = 5, kJson = 6 };

const char* value_type_name(ValueType type);

// One field value. Decimal and Json carry their canonical text; everything else is stored natively.
struct Value {
  ValueType type = ValueType::kNull;
  int64_t int_value = 0;  // kBool (0/1) and kInt
  double double_value = 0;
  std::string text;  // kString, kDecimal, kJson

  // Built in place (aggregate initialisation), so the text is moved once and never assigned over an empty one.
  static Value null() { return {}; }
  static Value boolean(bool b) { return {ValueType::kBool, b ? 1 : 0, 0, {}}; }
  static Value integer(int64_t i) { return {ValueType::kInt, i, 0, {}}; }
  static Value real(double d) { return {ValueType::kDouble, 0, d, {}}; }
  static Value string(std::string s) { return {ValueType::kString, 0, 0, std::move(s)}; }
  static Value decimal(std::string canonical) { return {ValueType::kDecimal, 0, 0, std::move(canonical)}; }
  static Value json(std::string serialized) { return {ValueType::kJson, 0, 0, std::move(serialized)}; }

  bool is_null() const { return type == ValueType::kNull; }
  bool is_string() const { return type == ValueType::kString; }
  // Null, or a string that is empty or only whitespace.
  bool is_blank() const;
  // The value as text: strings as they are, numbers in shortest round-trip form, bools as true/false, null empty.
  std::string to_text() const;
  bool operator==(const Value& other) const;
  bool operator!=(const Value& other) const { return !(*this == other); }
};

struct Field {
  std::string name;
  Value value;
};

class Record {
 public:
  Record() = default;
  explicit Record(uint64_t position) : position_(position) {}

  // Null when the field is absent.
  const Value* find(std::string_view name) const;
  Value* find(std::string_view name);
  bool has(std::string_view name) const { return find(name) != nullptr; }
  // Sets or replaces a field, keeping its place when it exists, appending otherwise.
  void set(std::string_view name, Value value);
  // The field's value to overwrite in place: the existing one, or a new null field appended at the end.
  Value& get_or_add(std::string_view name);
  // Appends without checking for an existing field: for builders that know names are unique.
  void append(std::string name, Value value) { fields_.emplace_back(Field{std::move(name), std::move(value)}); }
  bool erase(std::string_view name);
  // Renames `from` to `to`, replacing any existing `to`. Returns false when `from` is absent.
  bool rename(std::string_view from, std::string_view to);

  const std::vector<Field>& fields() const { return fields_; }
  std::vector<Field>& fields() { return fields_; }
  size_t size() const { return fields_.size(); }
  // Number of fields that are not blank: the "completeness" used by dedupe keep: most_complete.
  size_t non_blank_count() const;

  // Where the record came from in its source (e.g. 1-based line number); 0 when unknown.
  uint64_t position() const { return position_; }
  void set_position(uint64_t position) { position_ = position; }

  bool operator==(const Record& other) const { return fields_.size() == other.fields_.size() && equal_fields(other); }

 private:
  bool equal_fields(const Record& other) const;
  std::vector<Field> fields_;
  uint64_t position_ = 0;
};

}  // namespace conflux
