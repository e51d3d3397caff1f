// A transform plugin for tests: upper-cases the field named by config "field"; drops records whose value is
// "drop-me" (rule "upper: drop-me"); rejects records that lack the field; leaves the others unchanged.
#include <conflux/sdk/plugin.hpp>

#include <cctype>

namespace upper {

class Upper : public conflux::sdk::Plugin {
 public:
  explicit Upper(const conflux::sdk::Context& context) : Plugin(context) {
    const std::string& c = context.config_json();
    auto at = c.find("\"field\":\"");
    if (at != std::string::npos) field_ = c.substr(at + 9, c.find('"', at + 9) - at - 9);
  }
  void transform_batch(const conflux::sdk::BatchView& batch, conflux::sdk::Emitter& out) override {
    for (size_t i = 0; i < batch.size(); ++i) {
      auto record = batch[i];
      auto value = record.find(field_);
      if (!value) {
        out.invalid(i, "upper: missing field '" + field_ + "'");
        continue;
      }
      if (value->text() == "drop-me") {
        out.drop(i, "upper: drop-me");
        continue;
      }
      out.begin();
      for (size_t f = 0; f < record.field_count(); ++f) {
        auto field = record.field_at(f);
        if (field.name() == field_) {
          std::string text(field.text());
          for (char& ch : text) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          out.add_string(field.name(), text);
        } else {
          out.add_field(field);
        }
      }
      out.end(i);
    }
  }

 private:
  std::string field_ = "name";
};

}  // namespace upper

CONFLUX_PLUGIN(upper::Upper, {"upper_transform", "1.0.0", CONFLUX_KIND_TRANSFORM, "test: upper-cases one field",
                              R"({"type":"object","additionalProperties":false,"properties":{"field":{"type":"string"}}})",
                              nullptr})
