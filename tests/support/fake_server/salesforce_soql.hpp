// The subset of SOQL the fake Salesforce answers, parsed and evaluated as Salesforce's SOQL reference describes it:
//
//   SELECT field [, field ...] FROM object
//     [WHERE condition] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST] [, ...]] [LIMIT n]
//
// condition: comparison | field [NOT] IN (literal, ...) | NOT condition | (condition) joined by AND or OR. As in
// SOQL, AND and OR cannot be mixed at one level without parentheses. Comparisons: = != <> < <= > >=. Literals:
// 'text' (with SOQL's backslash escapes), numbers, true, false, null, dateTime (2024-03-05T11:22:10Z, fraction
// and +hh:mm offset allowed, unquoted) and date (2024-03-05). Keywords and field names are case-insensitive.
// Aggregates, relationship paths, LIKE, date literals such as TODAY, GROUP BY and OFFSET are not supported: a query
// using them is refused as malformed, never answered wrongly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace conflux::test::fake::soql {

// A syntax error, with Salesforce's MALFORMED_QUERY wording.
class SyntaxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Literal {
  enum class Kind { kNull, kText, kNumber, kBool, kDateTime, kDate };
  Kind kind = Kind::kNull;
  std::string text;    // kText, kDate (YYYY-MM-DD)
  double number = 0;   // kNumber
  bool flag = false;   // kBool
  int64_t ms = 0;      // kDateTime: milliseconds since the epoch, UTC
};

struct Condition {
  enum class Kind { kCompare, kIn, kNotIn, kAnd, kOr, kNot };
  Kind kind = Kind::kCompare;
  std::string field;                // kCompare, kIn, kNotIn: as written
  std::string op;                   // kCompare: "=", "!=", "<", "<=", ">", ">="
  std::vector<Literal> values;      // kCompare: one; kIn/kNotIn: the list
  std::vector<Condition> children;  // kAnd, kOr: two or more; kNot: one
};

struct OrderBy {
  std::string field;
  bool ascending = true;
  bool nulls_first = true;  // SOQL's default: nulls first ascending, last descending
};

struct Query {
  std::vector<std::string> fields;  // as written
  std::string object;
  std::optional<Condition> where;
  std::vector<OrderBy> order;
  std::optional<size_t> limit;
};

// Throws SyntaxError.
Query parse(const std::string& text);

// Every field name the query uses (SELECT, WHERE, ORDER BY), as written, for validation against the object.
std::vector<std::string> referenced_fields(const Query& query);

// How a record's value is compared: id fields byte-wise (record ids are case-sensitive), other text fields
// case-insensitively, dateTime fields as instants.
enum class FieldType { kId, kText, kNumber, kBool, kDateTime, kDate };

// Evaluates `condition` against `record` (canonical field names). `canonical` maps a name as written to the
// record's key; `type_of` gives a canonical field's type. Throws std::invalid_argument when a literal does not fit
// its field's type (Salesforce's INVALID_FIELD / "value of filter criterion" errors).
bool matches(const Condition& condition, const nlohmann::json& record,
             const std::function<std::string(const std::string&)>& canonical,
             const std::function<FieldType(const std::string&)>& type_of);

// Orders two records by `order` (canonical names as above): negative, zero or positive.
int compare_records(const std::vector<OrderBy>& order, const nlohmann::json& a, const nlohmann::json& b,
                    const std::function<std::string(const std::string&)>& canonical,
                    const std::function<FieldType(const std::string&)>& type_of);

// "2024-03-05T11:22:10.000+0000" (Salesforce's REST form) <-> milliseconds; parse also takes Z and +hh:mm.
std::string format_datetime(int64_t ms);
std::optional<int64_t> parse_datetime(const std::string& text);

}  // namespace conflux::test::fake::soql
