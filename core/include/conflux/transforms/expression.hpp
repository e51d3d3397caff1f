// Record conditions for the filter stage: a small expression language compiled once to a tree, then evaluated per
// record without allocation for the common cases.
//
//   country == 'RU' and (age >= 18 or consent == true)
//   not is_blank(email) and matches(email, '@example\.(com|org)$')
//   status in ['new', 'open'] and len(phone) > 5 and `utm source` != null
//
// Fields are referred to by name (letters, digits, '_' and '.', any non-ASCII letters) or in backquotes; literals
// are 'strings' or "strings", numbers, true, false, null; operators == != < <= > >=, and/or/not (also && || !),
// in [...] and not in [...]; functions exists(f), is_blank(x), len(x), starts_with(x, s), ends_with(x, s),
// contains(x, s), matches(x, 'regex') (ECMAScript syntax, searched anywhere in the text; anchor with ^ and $).
// Comparisons: a number and a text that reads as a number compare as numbers; null equals only null and is never
// less or greater than anything; everything else compares as text. A missing field is null.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "conflux/common/status.hpp"
#include "conflux/record/record.hpp"

namespace conflux::transforms {

class Expression {
 public:
  // kFailedPrecondition "column N: <problem>" (N counts characters from 1) for syntax errors, unknown functions,
  // invalid regular expressions and values used where a condition is needed.
  static Result<Expression> compile(std::string_view text);

  // True when `record` satisfies the expression. Thread-safe.
  bool matches(const Record& record) const;
  const std::string& text() const { return text_; }

  struct Node;  // internal

 private:
  Expression(std::shared_ptr<const Node> root, std::string text) : root_(std::move(root)), text_(std::move(text)) {}
  std::shared_ptr<const Node> root_;
  std::string text_;
};

}  // namespace conflux::transforms
