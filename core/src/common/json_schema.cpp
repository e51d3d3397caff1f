#include "conflux/common/json_schema.hpp"

#include <mutex>

// Without exceptions valijson calls abort() on a malformed schema; with them, compile() turns it into a Status.
#define VALIJSON_USE_EXCEPTIONS 1
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace conflux {

struct JsonSchema::Impl {
  valijson::Schema schema;
  // valijson's Validator caches compiled regexes and is not thread-safe: keep a pool, one per concurrent caller.
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<valijson::Validator>> pool;
};

JsonSchema::JsonSchema(std::unique_ptr<Impl> impl, std::string name) : impl_(std::move(impl)), name_(std::move(name)) {}
JsonSchema::~JsonSchema() = default;

Result<std::shared_ptr<const JsonSchema>> JsonSchema::compile(const nlohmann::json& schema, const std::string& name) {
  auto impl = std::make_unique<Impl>();
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(schema);
    parser.populateSchema(adapter, impl->schema);
  } catch (const std::exception& e) {
    return failed_precondition("schema '" + name + "' is not a usable JSON Schema: " + e.what());
  }
  return std::shared_ptr<const JsonSchema>(new JsonSchema(std::move(impl), name));
}

Result<std::shared_ptr<const JsonSchema>> JsonSchema::compile_text(const std::string& schema_text,
                                                                   const std::string& name) {
  nlohmann::json parsed = nlohmann::json::parse(schema_text, nullptr, false);
  if (parsed.is_discarded()) return failed_precondition("schema '" + name + "' is not valid JSON");
  return compile(parsed, name);
}

namespace {

// valijson reports where an error is as {"<root>", "[key]", "[0]", ...}; turn that into a JSON pointer.
std::string context_to_pointer(const std::vector<std::string>& context) {
  std::string pointer;
  for (const std::string& part : context) {
    if (part == "<root>") continue;
    std::string token = part;
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') token = token.substr(1, token.size() - 2);
    std::string escaped;
    for (char c : token) {
      if (c == '~') escaped += "~0";
      else if (c == '/') escaped += "~1";
      else escaped += c;
    }
    pointer += "/" + escaped;
  }
  return pointer;
}

bool is_generic(const std::string& message) {
  return message.find("Failed to validate against schema associated with property") == 0 ||
         message.find("Failed to validate item #") == 0 || message.find("Failed to validate against child schema") == 0 ||
         message.find("Failed to validate against a conditional schema") == 0;
}

// True when a non-generic message exists at `pointer` or below it.
bool has_specific_at_or_below(const std::vector<SchemaViolation>& violations, const std::string& pointer) {
  for (const auto& other : violations) {
    if (!is_generic(other.message) && other.pointer.compare(0, pointer.size(), pointer) == 0) return true;
  }
  return false;
}

}  // namespace

std::vector<SchemaViolation> JsonSchema::validate(const nlohmann::json& document) const {
  std::unique_ptr<valijson::Validator> validator;
  {
    std::lock_guard<std::mutex> lock(impl_->pool_mutex);
    if (!impl_->pool.empty()) {
      validator = std::move(impl_->pool.back());
      impl_->pool.pop_back();
    }
  }
  if (!validator) validator = std::make_unique<valijson::Validator>(valijson::Validator::kStrongTypes);

  std::vector<SchemaViolation> violations;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(document);
  try {
    if (!validator->validate(impl_->schema, adapter, &results)) {
      valijson::ValidationResults::Error error;
      // valijson reports a failing parent ("failed to validate against schema") after its children: keep the
      // most specific messages by skipping entries whose pointer is a prefix of one already reported.
      while (results.popError(error)) violations.push_back({context_to_pointer(error.context), error.description});
    }
  } catch (const std::exception& e) {
    violations.push_back({"", std::string("schema evaluation failed: ") + e.what()});
  }
  {
    std::lock_guard<std::mutex> lock(impl_->pool_mutex);
    impl_->pool.push_back(std::move(validator));
  }
  // Drop generic wrapper messages when a more specific one exists below the same pointer.
  std::vector<SchemaViolation> specific;
  for (const auto& v : violations) {
    bool generic = is_generic(v.message);
    if (generic && has_specific_at_or_below(violations, v.pointer)) continue;
    specific.push_back(v);
  }
  return specific;
}

std::string join_violations(const std::vector<SchemaViolation>& violations) {
  std::string out;
  for (const auto& v : violations) {
    if (!out.empty()) out += "; ";
    out += (v.pointer.empty() ? std::string("/") : v.pointer) + ": " + v.message;
  }
  return out;
}

}  // namespace conflux
