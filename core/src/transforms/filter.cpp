// filter: keeps records for which `expr` is true; the others are dropped by rule (not invalid), with the expression
// as the reason. The language is described in conflux/transforms/expression.hpp.
#include "config_reader.hpp"
#include "conflux/transforms/expression.hpp"
#include "stages.hpp"

namespace conflux::transforms::internal {

namespace {

class FilterTransform final : public engine::RecordTransform {
 public:
  explicit FilterTransform(Expression expression)
      : expression_(std::move(expression)), reason_("filter: does not match: " + expression_.text()) {}

  Verdict process(Record& record, std::string& reason) const override {
    if (expression_.matches(record)) return Verdict::kKeep;
    reason = reason_;
    return Verdict::kDrop;
  }

 private:
  Expression expression_;
  std::string reason_;
};

}  // namespace

TransformResult make_filter(const Json& config) {
  ConfigReader reader("filter", config);
  CONFLUX_RETURN_IF_ERROR(reader.check_keys({"expr"}));
  std::string text;
  CONFLUX_TX_ASSIGN(text, reader.required_string("expr"));
  Result<Expression> expression = Expression::compile(text);
  if (!expression.is_ok()) return reader.error("expr: " + expression.status().message());
  return std::unique_ptr<engine::Transform>(new FilterTransform(std::move(expression).value()));
}

Json filter_schema() {
  return object_schema("filter",
                       "Keeps records for which the expression is true; drops the others (by rule, not as invalid).",
                       {{"expr",
                         {{"type", "string"},
                          {"minLength", 1},
                          {"description",
                           "Condition, e.g. \"country == 'RU' and not is_blank(email)\". Fields by name or in "
                           "`backquotes`; == != < <= > >=; and or not; in [...]; exists(f), is_blank(x), len(x), "
                           "starts_with(x, s), ends_with(x, s), contains(x, s), matches(x, 'regex')."}}}},
                       Json::array({"expr"}));
}

}  // namespace conflux::transforms::internal
