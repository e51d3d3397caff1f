// Private to core/src/transforms: one factory and one config schema per stage family. builtin.cpp maps type names
// to these; each family's parser and schema live side by side in its own .cpp so they change together.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "conflux/common/status.hpp"
#include "conflux/engine/stage.hpp"

namespace conflux::transforms::internal {

using TransformResult = Result<std::unique_ptr<engine::Transform>>;
using Json = nlohmann::ordered_json;

// map.cpp: "map" and its single-purpose forms "rename", "drop", "set", "copy".
TransformResult make_map(const std::string& type, const Json& config);
Json map_schema(const std::string& type);

TransformResult make_cast(const Json& config);  // cast.cpp
Json cast_schema();
TransformResult make_clean(const Json& config);  // clean.cpp
Json clean_schema();
TransformResult make_email(const Json& config);  // email.cpp
Json email_schema();
TransformResult make_phone(const Json& config);  // phone.cpp
Json phone_schema();
TransformResult make_validate(const Json& config);  // validate.cpp
Json validate_schema();
TransformResult make_filter(const Json& config);  // filter.cpp
Json filter_schema();
TransformResult make_dedupe(const Json& config);  // dedupe.cpp
Json dedupe_schema();
TransformResult make_hash_pii(const Json& config);  // hash_pii.cpp
Json hash_pii_schema();

// A draft-07 object schema with the given title/description/properties and additionalProperties: false.
Json object_schema(const std::string& title, const std::string& description, Json properties,
                   Json required = Json::array());

}  // namespace conflux::transforms::internal
