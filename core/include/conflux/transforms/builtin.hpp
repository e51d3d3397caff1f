// The built-in transform stages (map, cast, clean, email, phone, validate, filter, dedupe, hash_pii, ...): the factory
// the engine calls for every stage whose type is not provided by a plugin. docs/transforms.md describes each type.
//
// Contract shared by every built-in stage:
//  - A config is the stage's YAML keys minus name/type/on_invalid, as a JSON object. Unknown keys and wrong types
//    are errors (kFailedPrecondition, message "<type>: ..." naming the key), found here at construction, never
//    while records flow.
//  - A record a stage cannot handle is rejected with Rejected::invalid = true and a reason naming the field and the
//    value (truncated to 64 characters); records dropped by a rule (filter, dedupe) have invalid = false.
//  - Stateless stages are parallel_safe(); dedupe is not, and keep: last / most_complete hold records until finish().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conflux/common/status.hpp"
#include "conflux/engine/stage.hpp"

namespace conflux::transforms {

// Names of every built-in stage type, sorted, for "did you mean" suggestions and docs.
const std::vector<std::string>& builtin_transform_types();

// Creates the built-in stage `type` from its config. Errors: kNotFound when `type` is not a built-in type (the caller
// may then look for a plugin); kFailedPrecondition naming the offending key otherwise, e.g.
// "phone: unknown region 'XX' in default_region". The returned transform owns everything it needs; it does not
// refer to `config` afterwards.
Result<std::unique_ptr<engine::Transform>> make_transform(const std::string& type,
                                                          const nlohmann::ordered_json& config);

// JSON Schema (draft-07) of each type's config, keyed by type: {"cast": {...}, "clean": {...}, ...}. The schemas
// describe the same keys make_transform accepts (name/type/on_invalid excluded); make_transform stays the authority
// for checks a schema cannot express (an unknown time zone, an unparsable filter expression).
const nlohmann::ordered_json& builtin_transform_schemas();

// Directory that holds the record schemas used by `validate: {schema: <name>}` (the file is
// <dir>/records/<name>.json). Lookup order: the directory set here; else $CONFLUX_SCHEMA_DIR; else
// CONFLUX_SOURCE_DIR/schemas when it exists; else CONFLUX_INSTALL_DATA_DIR/schemas. Takes effect for stages made
// afterwards. Thread-safe.
void set_schema_dir(std::string dir);
// The directory the next validate stage will use, by the order above.
std::string schema_dir();

}  // namespace conflux::transforms
