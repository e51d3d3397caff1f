// JSON Schema (draft-07) validation shared by every part of the host: pipeline files, plugin configs, and the
// `validate` stage. Backed by valijson; a schema is compiled once and then validates many documents.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conflux/common/status.hpp"

namespace conflux {

struct SchemaViolation {
  std::string pointer;  // JSON pointer into the validated document, "" for the root
  std::string message;
};

class JsonSchema {
 public:
  // Compiles `schema`; kFailedPrecondition when it is not a usable schema. `name` appears in messages.
  static Result<std::shared_ptr<const JsonSchema>> compile(const nlohmann::json& schema, const std::string& name);
  static Result<std::shared_ptr<const JsonSchema>> compile_text(const std::string& schema_text, const std::string& name);
  ~JsonSchema();

  // Every violation of `document`, not only the first; empty when valid. Thread-safe.
  std::vector<SchemaViolation> validate(const nlohmann::json& document) const;
  const std::string& name() const { return name_; }

 private:
  struct Impl;
  JsonSchema(std::unique_ptr<Impl> impl, std::string name);
  std::unique_ptr<Impl> impl_;
  std::string name_;
};

// Joins violations as "<pointer>: <message>; ..." for one-line errors.
std::string join_violations(const std::vector<SchemaViolation>& violations);

}  // namespace conflux
