// name_splitter: a transform that splits a full-name field into first_name and last_name.
//
// Config: {"field": "full_name", "order": "first_last" | "last_first"}
//   first_last: "Ivan Petrov"  -> first_name "Ivan",  last_name "Petrov"
//   last_first: "Петров Иван"  -> first_name "Иван",  last_name "Петров" (common in Russian CRM exports)
// Existing first_name/last_name values are kept. A record whose field is missing passes through unchanged; one whose
// field holds a single word gets only first_name. A value that is not a string is rejected (dead-lettered by default).
#include <conflux/sdk/plugin.hpp>

#include <string>
#include <vector>

namespace name_splitter {

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

// Reads one string option from a flat JSON object; enough for this plugin's two keys (the host has already
// validated the config against the schema below).
std::string option(const std::string& json, const std::string& key, const std::string& fallback) {
  auto at = json.find("\"" + key + "\"");
  if (at == std::string::npos) return fallback;
  auto open = json.find('"', json.find(':', at) + 1);
  auto close = json.find('"', open + 1);
  return json.substr(open + 1, close - open - 1);
}

class NameSplitter : public conflux::sdk::Plugin {
 public:
  explicit NameSplitter(const conflux::sdk::Context& context)
      : Plugin(context),
        field_(option(context.config_json(), "field", "full_name")),
        last_first_(option(context.config_json(), "order", "first_last") == "last_first") {}

  void transform_batch(const conflux::sdk::BatchView& batch, conflux::sdk::Emitter& out) override {
    for (size_t i = 0; i < batch.size(); ++i) {
      conflux::sdk::RecordView record = batch[i];
      auto full = record.find(field_);
      if (full && !full->is_null() && full->type() != CONFLUX_VALUE_STRING) {
        out.invalid(i, "name_splitter: field '" + field_ + "' is not text");
        continue;
      }
      std::vector<std::string> parts = full ? words(full->text()) : std::vector<std::string>{};
      std::string first, last;
      if (parts.size() == 1) first = parts[0];
      if (parts.size() >= 2) {
        first = last_first_ ? parts[1] : parts.front();
        last = last_first_ ? parts[0] : parts.back();
      }
      bool has_first = false, has_last = false;
      out.begin();
      for (size_t f = 0; f < record.field_count(); ++f) {
        conflux::sdk::FieldView field = record.field_at(f);
        bool blank = field.is_null() || field.text().empty();
        if (field.name() == "first_name" && !blank) has_first = true;
        if (field.name() == "last_name" && !blank) has_last = true;
        if ((field.name() == "first_name" || field.name() == "last_name") && blank) continue;
        out.add_field(field);
      }
      if (!has_first && !first.empty()) out.add_string("first_name", first);
      if (!has_last && !last.empty()) out.add_string("last_name", last);
      out.end(i);
    }
  }

 private:
  std::string field_;
  bool last_first_;
};

}  // namespace name_splitter

CONFLUX_PLUGIN(name_splitter::NameSplitter,
               {"name_splitter", "1.0.0", CONFLUX_KIND_TRANSFORM, "Splits a full name into first_name and last_name",
                R"({"type": "object", "additionalProperties": false,
                    "properties": {
                      "field": {"type": "string", "description": "Field holding the full name"},
                      "order": {"enum": ["first_last", "last_first"], "description": "Word order of the full name"}}})",
                nullptr})
