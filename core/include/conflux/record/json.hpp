// Conversions between records and JSON (nlohmann::ordered_json), used by dead letters, the local CRM, JSON Schema
// validation and the CLI.
#pragma once

#include <nlohmann/json.hpp>

#include "conflux/record/record.hpp"

namespace conflux {

// Strings stay strings, decimals become JSON numbers, Json values are parsed back into structure.
nlohmann::ordered_json value_to_json(const Value& value);
nlohmann::ordered_json record_to_json(const Record& record);
// Inverse of record_to_json for flat objects; nested arrays/objects become kJson values.
Value value_from_json(const nlohmann::ordered_json& json);
Record record_from_json(const nlohmann::ordered_json& object, uint64_t position = 0);
// Compact single-line JSON text of a record, in field order.
std::string record_to_json_text(const Record& record);

}  // namespace conflux
