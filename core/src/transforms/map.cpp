// map: reshapes records (rename, copy, drop, keep, set, drop_blank); rename/drop/set/copy are its single-purpose
// forms taking just `fields`. Steps run in a fixed order, so a config reads the same whatever its key order:
// rename -> copy -> drop -> keep -> drop_blank -> set. Every step after rename sees the new names.
#include <algorithm>

#include "config_reader.hpp"
#include "conflux/record/json.hpp"
#include "stages.hpp"

namespace conflux::transforms::internal {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct MapSpec {
  Pairs rename;
  Pairs copy;
  std::vector<std::string> drop;
  std::vector<std::string> keep;
  bool has_keep = false;
  bool drop_blank = false;
  std::vector<std::pair<std::string, Value>> set;
};

class MapTransform final : public engine::RecordTransform {
 public:
  explicit MapTransform(MapSpec spec) : spec_(std::move(spec)) {}

  Verdict process(Record& record, std::string& /*reason*/) const override {
    if (!spec_.rename.empty()) rename(record);
    if (!spec_.copy.empty()) copy(record);
    for (const std::string& name : spec_.drop) record.erase(name);
    if (spec_.has_keep) {
      std::erase_if(record.fields(), [this](const Field& field) {
        return std::find(spec_.keep.begin(), spec_.keep.end(), field.name) == spec_.keep.end();
      });
    }
    if (spec_.drop_blank) {
      std::erase_if(record.fields(), [](const Field& field) { return field.value.is_blank(); });
    }
    for (const auto& [name, value] : spec_.set) record.set(name, value);
    return Verdict::kKeep;
  }

 private:
  // Renames simultaneously and in place (a field keeps its position, which CSV sinks care about); a field that
  // already had a target name, and was not itself renamed, is replaced.
  void rename(Record& record) const {
    std::vector<Field>& fields = record.fields();
    thread_local std::vector<char> renamed;
    renamed.assign(fields.size(), 0);
    bool any = false;
    for (size_t i = 0; i < fields.size(); ++i) {
      for (const auto& [from, to] : spec_.rename) {
        if (fields[i].name == from) {
          fields[i].name = to;
          renamed[i] = 1;
          any = true;
          break;
        }
      }
    }
    if (!any) return;
    // 2 marks a field replaced by a renamed one; decided for all fields before any is moved.
    bool any_replaced = false;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (renamed[i]) continue;
      for (size_t j = 0; j < fields.size(); ++j) {
        if (renamed[j] == 1 && fields[j].name == fields[i].name) {
          renamed[i] = 2;
          any_replaced = true;
          break;
        }
      }
    }
    if (!any_replaced) return;
    size_t out = 0;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (renamed[i] == 2) continue;
      if (out != i) fields[out] = std::move(fields[i]);
      ++out;
    }
    fields.resize(out);
  }

  // Copies simultaneously: every source is read before any target is written.
  void copy(Record& record) const {
    thread_local std::vector<std::pair<const std::string*, Value>> values;
    values.clear();
    for (const auto& [from, to] : spec_.copy) {
      if (const Value* value = record.find(from)) values.emplace_back(&to, *value);
    }
    for (auto& [to, value] : values) record.set(*to, std::move(value));
  }

  MapSpec spec_;
};

Status check_unique_targets(const ConfigReader& reader, const std::string& key, const Pairs& pairs) {
  for (size_t i = 0; i < pairs.size(); ++i) {
    for (size_t j = i + 1; j < pairs.size(); ++j) {
      if (pairs[i].second == pairs[j].second) {
        return reader.error("'" + key + "': '" + pairs[i].first + "' and '" + pairs[j].first + "' both go to '" +
                            pairs[i].second + "'");
      }
    }
  }
  return Status::ok();
}

Result<std::vector<std::pair<std::string, Value>>> read_set(const ConfigReader& reader, const std::string& key) {
  const Json& object = reader.get(key);
  std::vector<std::pair<std::string, Value>> out;
  if (object.is_null()) return out;
  if (!object.is_object()) return reader.error("'" + key + "' must be a mapping of field names to values");
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (it.key().empty()) return reader.error("'" + key + "' has an empty field name");
    out.emplace_back(it.key(), value_from_json(it.value()));
  }
  return out;
}

Json string_map_schema(const std::string& description) {
  return {{"type", "object"},
          {"description", description},
          {"minProperties", 1},
          {"additionalProperties", {{"type", "string"}, {"minLength", 1}}}};
}

Json field_list_schema(const std::string& description) {
  return {{"type", "array"},
          {"description", description},
          {"minItems", 1},
          {"items", {{"type", "string"}, {"minLength", 1}}}};
}

Json set_schema(const std::string& description) {
  return {{"type", "object"}, {"description", description}, {"minProperties", 1}};
}

}  // namespace

TransformResult make_map(const std::string& type, const Json& config) {
  ConfigReader reader(type, config);
  MapSpec spec;
  if (type == "map") {
    CONFLUX_RETURN_IF_ERROR(reader.check_keys({"rename", "copy", "drop", "keep", "drop_blank", "set"}));
    CONFLUX_TX_ASSIGN(spec.rename, reader.string_map("rename"));
    CONFLUX_TX_ASSIGN(spec.copy, reader.string_map("copy"));
    CONFLUX_TX_ASSIGN(spec.drop, reader.string_list("drop"));
    CONFLUX_TX_ASSIGN(spec.keep, reader.string_list("keep"));
    spec.has_keep = reader.has("keep");
    CONFLUX_TX_ASSIGN(spec.drop_blank, reader.boolean("drop_blank", false));
    CONFLUX_TX_ASSIGN(spec.set, read_set(reader, "set"));
    if (spec.rename.empty() && spec.copy.empty() && spec.drop.empty() && !spec.has_keep && !spec.drop_blank &&
        spec.set.empty()) {
      return reader.error("nothing to do: give at least one of rename, copy, drop, keep, drop_blank, set");
    }
  } else {
    CONFLUX_RETURN_IF_ERROR(reader.check_keys({"fields"}));
    if (!reader.has("fields")) return reader.error("missing required key 'fields'");
    if (type == "rename") {
      CONFLUX_TX_ASSIGN(spec.rename, reader.string_map("fields"));
    } else if (type == "copy") {
      CONFLUX_TX_ASSIGN(spec.copy, reader.string_map("fields"));
    } else if (type == "drop") {
      CONFLUX_TX_ASSIGN(spec.drop, reader.string_list("fields", /*allow_single=*/true));
    } else {
      CONFLUX_TX_ASSIGN(spec.set, read_set(reader, "fields"));
    }
    if (spec.rename.empty() && spec.copy.empty() && spec.drop.empty() && spec.set.empty()) {
      return reader.error("'fields' is empty");
    }
  }
  CONFLUX_RETURN_IF_ERROR(check_unique_targets(reader, type == "map" ? "rename" : "fields", spec.rename));
  CONFLUX_RETURN_IF_ERROR(check_unique_targets(reader, type == "map" ? "copy" : "fields", spec.copy));
  return std::unique_ptr<engine::Transform>(new MapTransform(std::move(spec)));
}

Json map_schema(const std::string& type) {
  if (type == "map") {
    Json schema = object_schema(
        "map",
        "Reshapes records. Steps run in this order whatever the key order: rename, copy, drop, keep, "
        "drop_blank, set; steps after rename use the new names.",
        {{"rename", string_map_schema("Renames fields, {from: to}, in place and all at once; replaces an existing "
                                      "field named like a target.")},
         {"copy", string_map_schema("Copies values, {from: to}; absent sources are skipped.")},
         {"drop", field_list_schema("Fields to remove.")},
         {"keep", field_list_schema("When given, every field not listed is removed.")},
         {"drop_blank",
          {{"type", "boolean"},
           {"default", false},
           {"description", "Removes fields whose value is null, empty or only whitespace."}}},
         {"set", set_schema("Sets fields to constant values, {field: value}; adds fields that are absent.")}});
    schema["minProperties"] = 1;
    return schema;
  }
  Json fields;
  std::string description;
  if (type == "rename") {
    fields = string_map_schema("{from: to}");
    description = "Renames fields in place, all at once; a field already named like a target is replaced.";
  } else if (type == "copy") {
    fields = string_map_schema("{from: to}");
    description = "Copies field values to other fields; absent sources are skipped.";
  } else if (type == "drop") {
    fields = {{"oneOf", Json::array({field_list_schema("Fields to remove."), {{"type", "string"}, {"minLength", 1}}})}};
    description = "Removes fields.";
  } else {
    fields = set_schema("{field: value}");
    description = "Sets fields to constant values.";
  }
  return object_schema(type, description, {{"fields", fields}}, Json::array({"fields"}));
}

}  // namespace conflux::transforms::internal
