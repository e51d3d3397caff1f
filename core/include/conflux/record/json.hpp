// Conversions between records and JSON (nlohmann::ordered_json), used by dead letters, the local CRM, JSON Schema
// validation and the CLI.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "conflux/record/record.hpp"

namespace conflux {

// Strings stay strings, decimals become JSON numbers, Json values are parsed back into structure.
nlohmann::ordered_json value_to_json(const Value& value);
nlohmann::ordered_json record_to_json(const Record& record);
// Inverse of record_to_json for flat objects; nested arrays/objects become kJson values.
Value value_from_json(const nlohmann::ordered_json& json);
Record record_from_json(const nlohmann::ordered_json& object, uint64_t position = 0);
// Compact single-line JSON text of a record, in field order. Json values are copied as they are (Value's contract:
// canonical text); strings are escaped as nlohmann's dump does, invalid UTF-8 bytes becoming U+FFFD.
std::string record_to_json_text(const Record& record);
// Appends `text` as a JSON string literal, escaped as record_to_json_text does.
void append_json_string(std::string& out, std::string_view text);

}  // namespace conflux
