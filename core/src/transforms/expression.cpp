#include "conflux/transforms/expression.hpp"

#include <charconv>
#include <cmath>
#include <regex>
#include <vector>

#include "text_util.hpp"

namespace conflux::transforms {

namespace {

enum class TokenKind {
  kIdent,
  kField,
  kString,
  kNumber,
  kOperator,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kEnd
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // identifier, field name, unescaped string, number text or operator
  size_t offset = 0;
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };
enum class Function { kExists, kIsBlank, kLen, kStartsWith, kEndsWith, kContains, kMatches };

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.'; }

bool keyword(const Token& token, std::string_view word) {
  return token.kind == TokenKind::kIdent && internal::ascii_lower(token.text) == word;
}

// A text that reads as a number: optional sign, digits with an optional fraction, optional exponent.
bool parse_number(std::string_view text, double& out) {
  text = internal::trim_ascii(text);
  if (text.empty()) return false;
  size_t i = 0;
  if (text[i] == '+' || text[i] == '-') ++i;
  bool digits = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') digits = (++i, true);
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') digits = (++i, true);
  }
  if (!digits) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    bool exponent = false;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') exponent = (++i, true);
    if (!exponent) return false;
  }
  if (i != text.size()) return false;
  const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
  auto [end, error] = std::from_chars(begin, text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size() && std::isfinite(out);
}

bool is_number_type(const Value& v) {
  return v.type == ValueType::kInt || v.type == ValueType::kDouble || v.type == ValueType::kDecimal;
}

bool to_number(const Value& v, double& out) {
  switch (v.type) {
    case ValueType::kInt: out = static_cast<double>(v.int_value); return true;
    case ValueType::kDouble: out = v.double_value; return std::isfinite(out);
    case ValueType::kDecimal:
    case ValueType::kString: return parse_number(v.text, out);
    default: return false;
  }
}

// The value's text without copying strings.
std::string_view text_of(const Value& v, std::string& buffer) {
  if (v.type == ValueType::kString || v.type == ValueType::kDecimal || v.type == ValueType::kJson) return v.text;
  buffer = v.to_text();
  return buffer;
}

bool ordered(int comparison, CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return comparison == 0;
    case CompareOp::kNe: return comparison != 0;
    case CompareOp::kLt: return comparison < 0;
    case CompareOp::kLe: return comparison <= 0;
    case CompareOp::kGt: return comparison > 0;
    case CompareOp::kGe: return comparison >= 0;
  }
  return false;
}

bool compare(const Value& a, const Value& b, CompareOp op) {
  if (a.is_null() || b.is_null()) {
    bool both = a.is_null() && b.is_null();
    if (op == CompareOp::kEq) return both;
    if (op == CompareOp::kNe) return !both;
    return false;
  }
  if (is_number_type(a) || is_number_type(b)) {
    if (a.type == ValueType::kInt && b.type == ValueType::kInt) {
      return ordered(a.int_value < b.int_value ? -1 : a.int_value > b.int_value ? 1 : 0, op);
    }
    double x = 0;
    double y = 0;
    if (to_number(a, x) && to_number(b, y)) return ordered(x < y ? -1 : x > y ? 1 : 0, op);
  }
  if (a.type == ValueType::kBool && b.type == ValueType::kBool) {
    return ordered(a.int_value < b.int_value ? -1 : a.int_value > b.int_value ? 1 : 0, op);
  }
  std::string buffer_a;
  std::string buffer_b;
  int c = text_of(a, buffer_a).compare(text_of(b, buffer_b));
  return ordered(c, op);
}

const Value& null_value() {
  static const Value kNull;
  return kNull;
}

}  // namespace

struct Expression::Node {
  enum class Kind { kOr, kAnd, kNot, kCompare, kIn, kField, kLiteral, kCall };
  Kind kind = Kind::kLiteral;
  bool condition = false;  // yields true/false (and/or/not/compare/in/boolean functions)
  CompareOp op = CompareOp::kEq;
  bool negated = false;  // "not in"
  Function function = Function::kExists;
  std::string name;  // field name
  Value literal;
  std::vector<Value> list;
  std::vector<std::unique_ptr<Node>> args;
  std::unique_ptr<std::regex> regex;

  bool test(const Record& record) const {
    switch (kind) {
      case Kind::kOr:
        for (const auto& arg : args) {
          if (arg->test(record)) return true;
        }
        return false;
      case Kind::kAnd:
        for (const auto& arg : args) {
          if (!arg->test(record)) return false;
        }
        return true;
      case Kind::kNot: return !args[0]->test(record);
      case Kind::kCompare: {
        Value left_scratch;
        Value right_scratch;
        return compare(args[0]->value(record, left_scratch), args[1]->value(record, right_scratch), op);
      }
      case Kind::kIn: {
        Value scratch;
        const Value& v = args[0]->value(record, scratch);
        bool found = false;
        for (const Value& item : list) {
          if (compare(v, item, CompareOp::kEq)) {
            found = true;
            break;
          }
        }
        return found != negated;
      }
      case Kind::kCall: return call(record);
      case Kind::kLiteral: return literal.type == ValueType::kBool && literal.int_value != 0;
      case Kind::kField: return false;  // rejected at compile time
    }
    return false;
  }

  const Value& value(const Record& record, Value& scratch) const {
    switch (kind) {
      case Kind::kField: {
        const Value* v = record.find(name);
        return v != nullptr ? *v : null_value();
      }
      case Kind::kLiteral: return literal;
      case Kind::kCall:
        if (function == Function::kLen) {
          Value arg_scratch;
          const Value& v = args[0]->value(record, arg_scratch);
          std::string buffer;
          scratch = Value::integer(v.is_null() ? 0 : static_cast<int64_t>(internal::utf8_length(text_of(v, buffer))));
          return scratch;
        }
        [[fallthrough]];
      default: scratch = Value::boolean(test(record)); return scratch;
    }
  }

  bool call(const Record& record) const {
    if (function == Function::kExists) {
      const Value* v = record.find(args[0]->name);
      return v != nullptr && !v->is_null();
    }
    Value scratch;
    const Value& subject = args[0]->value(record, scratch);
    if (function == Function::kIsBlank) return subject.is_blank();
    if (subject.is_null()) return false;
    std::string buffer;
    std::string_view text = text_of(subject, buffer);
    if (function == Function::kMatches) return std::regex_search(text.begin(), text.end(), *regex);
    Value needle_scratch;
    std::string needle_buffer;
    const Value& needle_value = args[1]->value(record, needle_scratch);
    if (needle_value.is_null()) return false;
    std::string_view needle = text_of(needle_value, needle_buffer);
    switch (function) {
      case Function::kStartsWith: return text.substr(0, needle.size()) == needle;
      case Function::kEndsWith:
        return text.size() >= needle.size() && text.substr(text.size() - needle.size()) == needle;
      case Function::kContains: return text.find(needle) != std::string_view::npos;
      default: return false;
    }
  }
};

namespace {

using Node = Expression::Node;
using NodePtr = std::unique_ptr<Node>;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<NodePtr> parse() {
    Status status = tokenize();
    if (!status.is_ok()) return status;
    if (tokens_.size() == 1) return error(0, "the expression is empty");
    NodePtr root = parse_or();
    if (!failure_.is_ok()) return failure_;
    if (peek().kind != TokenKind::kEnd) return error(peek().offset, "unexpected " + describe(peek()));
    if (!root->condition)
      return error(0,
                   "the expression is a value, not a condition (compare it, e.g. " + std::string(text_) + " == true)");
    return root;
  }

 private:
  Status error(size_t offset, const std::string& message) {
    size_t column = internal::utf8_length(text_.substr(0, offset)) + 1;
    return failed_precondition("column " + std::to_string(column) + ": " + message);
  }
  // Records the first error; parsing unwinds with placeholder nodes.
  NodePtr fail(size_t offset, const std::string& message) {
    if (failure_.is_ok()) failure_ = error(offset, message);
    auto node = std::make_unique<Node>();
    node->condition = true;
    return node;
  }

  static std::string describe(const Token& token) {
    switch (token.kind) {
      case TokenKind::kEnd: return "end of expression";
      case TokenKind::kString: return "string '" + token.text + "'";
      case TokenKind::kField: return "field `" + token.text + "`";
      default: return "'" + token.text + "'";
    }
  }

  Status tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (internal::is_ascii_space(c)) {
        ++i;
        continue;
      }
      Token token;
      token.offset = i;
      if (c == '\'' || c == '"') {
        char quote = c;
        ++i;
        bool closed = false;
        while (i < text_.size()) {
          if (text_[i] == '\\' && i + 1 < text_.size()) {
            // \\ \' \" \n \t are escapes; any other backslash stays, so regular expressions read as written.
            char next = text_[i + 1];
            if (next == '\\' || next == '\'' || next == '"')
              token.text += next;
            else if (next == 'n')
              token.text += '\n';
            else if (next == 't')
              token.text += '\t';
            else
              token.text.append(text_.substr(i, 2));
            i += 2;
            continue;
          }
          if (text_[i] == quote) {
            closed = true;
            ++i;
            break;
          }
          token.text += text_[i++];
        }
        if (!closed) return error(token.offset, "unterminated string");
        token.kind = TokenKind::kString;
      } else if (c == '`') {
        size_t end = text_.find('`', i + 1);
        if (end == std::string_view::npos) return error(i, "unterminated `field name`");
        token.text = std::string(text_.substr(i + 1, end - i - 1));
        if (token.text.empty()) return error(i, "empty `field name`");
        token.kind = TokenKind::kField;
        i = end + 1;
      } else if ((c >= '0' && c <= '9') || (c == '-' && i + 1 < text_.size() &&
                                            ((text_[i + 1] >= '0' && text_[i + 1] <= '9') || text_[i + 1] == '.'))) {
        size_t start = i++;
        while (i < text_.size() &&
               ((text_[i] >= '0' && text_[i] <= '9') || text_[i] == '.' || text_[i] == 'e' || text_[i] == 'E' ||
                ((text_[i] == '+' || text_[i] == '-') && (text_[i - 1] == 'e' || text_[i - 1] == 'E')))) {
          ++i;
        }
        token.text = std::string(text_.substr(start, i - start));
        double ignored = 0;
        if (!parse_number(token.text, ignored)) return error(start, "invalid number '" + token.text + "'");
        token.kind = TokenKind::kNumber;
      } else if (is_ident_start(c)) {
        size_t start = i;
        while (i < text_.size() && is_ident_char(text_[i])) ++i;
        token.text = std::string(text_.substr(start, i - start));
        token.kind = TokenKind::kIdent;
      } else {
        static const std::vector<std::string_view> kOperators = {"==", "!=", "<=", ">=", "&&", "||", "<", ">", "!"};
        bool matched = false;
        for (std::string_view op : kOperators) {
          if (text_.substr(i, op.size()) == op) {
            token.kind = TokenKind::kOperator;
            token.text = std::string(op);
            i += op.size();
            matched = true;
            break;
          }
        }
        if (!matched) {
          switch (c) {
            case '(': token.kind = TokenKind::kLParen; break;
            case ')': token.kind = TokenKind::kRParen; break;
            case '[': token.kind = TokenKind::kLBracket; break;
            case ']': token.kind = TokenKind::kRBracket; break;
            case ',': token.kind = TokenKind::kComma; break;
            case '=': return error(i, "use == to compare");
            default: return error(i, "unexpected character '" + std::string(1, c) + "'");
          }
          token.text = std::string(1, c);
          ++i;
        }
      }
      tokens_.push_back(std::move(token));
    }
    Token end;
    end.offset = text_.size();
    tokens_.push_back(end);
    return Status::ok();
  }

  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool accept_operator(std::string_view op) {
    if (peek().kind == TokenKind::kOperator && peek().text == op) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool accept_keyword(std::string_view word) {
    if (keyword(peek(), word)) {
      ++pos_;
      return true;
    }
    return false;
  }

  NodePtr require_condition(NodePtr node, size_t offset, const char* where) {
    if (!node->condition) {
      std::string message = "a value is used as a condition ";
      message += where;
      message += " (compare it, e.g. field == true, or use exists(field))";
      return fail(offset, message);
    }
    return node;
  }

  NodePtr parse_or() {
    size_t offset = peek().offset;
    NodePtr left = parse_and();
    if (!(keyword(peek(), "or") || (peek().kind == TokenKind::kOperator && peek().text == "||"))) return left;
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kOr;
    node->condition = true;
    node->args.push_back(require_condition(std::move(left), offset, "before 'or'"));
    while (accept_keyword("or") || accept_operator("||")) {
      size_t at = peek().offset;
      node->args.push_back(require_condition(parse_and(), at, "after 'or'"));
    }
    return node;
  }

  NodePtr parse_and() {
    size_t offset = peek().offset;
    NodePtr left = parse_not();
    if (!(keyword(peek(), "and") || (peek().kind == TokenKind::kOperator && peek().text == "&&"))) return left;
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kAnd;
    node->condition = true;
    node->args.push_back(require_condition(std::move(left), offset, "before 'and'"));
    while (accept_keyword("and") || accept_operator("&&")) {
      size_t at = peek().offset;
      node->args.push_back(require_condition(parse_not(), at, "after 'and'"));
    }
    return node;
  }

  NodePtr parse_not() {
    // Nesting depth is bounded so that a pathological expression cannot exhaust the stack.
    if (++depth_ > kMaxDepth) return fail(peek().offset, "the expression is nested too deeply");
    struct DepthGuard {
      int& depth;
      ~DepthGuard() { --depth; }
    } guard{depth_};
    if (accept_keyword("not") || accept_operator("!")) {
      size_t at = peek().offset;
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kNot;
      node->condition = true;
      node->args.push_back(require_condition(parse_not(), at, "after 'not'"));
      return node;
    }
    return parse_comparison();
  }

  NodePtr parse_comparison() {
    NodePtr left = parse_operand();
    const Token& token = peek();
    if (token.kind == TokenKind::kOperator && token.text != "&&" && token.text != "||" && token.text != "!") {
      static const std::vector<std::pair<std::string_view, CompareOp>> kOps = {
          {"==", CompareOp::kEq}, {"!=", CompareOp::kNe}, {"<", CompareOp::kLt},
          {"<=", CompareOp::kLe}, {">", CompareOp::kGt},  {">=", CompareOp::kGe}};
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kCompare;
      node->condition = true;
      for (const auto& [text, op] : kOps) {
        if (token.text == text) node->op = op;
      }
      next();
      node->args.push_back(std::move(left));
      node->args.push_back(parse_operand());
      return node;
    }
    bool negated = false;
    if (keyword(token, "not") && keyword(tokens_[std::min(pos_ + 1, tokens_.size() - 1)], "in")) {
      negated = true;
      next();
    }
    if (accept_keyword("in")) {
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kIn;
      node->condition = true;
      node->negated = negated;
      node->args.push_back(std::move(left));
      if (peek().kind != TokenKind::kLBracket) return fail(peek().offset, "expected '[' after 'in'");
      next();
      if (peek().kind != TokenKind::kRBracket) {
        while (true) {
          const Token& item = next();
          Value value;
          if (!literal_value(item, value))
            return fail(item.offset, "expected a literal in the list, found " + describe(item));
          node->list.push_back(std::move(value));
          if (peek().kind == TokenKind::kComma) {
            next();
            continue;
          }
          break;
        }
      }
      if (peek().kind != TokenKind::kRBracket)
        return fail(peek().offset, "expected ']' or ',' in the list, found " + describe(peek()));
      next();
      return node;
    }
    return left;
  }

  static bool literal_value(const Token& token, Value& out) {
    if (token.kind == TokenKind::kString) {
      out = Value::string(token.text);
      return true;
    }
    if (token.kind == TokenKind::kNumber) {
      int64_t i = 0;
      auto [end, error] = std::from_chars(token.text.data(), token.text.data() + token.text.size(), i);
      if (error == std::errc() && end == token.text.data() + token.text.size()) {
        out = Value::integer(i);
      } else {
        double d = 0;
        parse_number(token.text, d);
        out = Value::real(d);
      }
      return true;
    }
    if (keyword(token, "true") || keyword(token, "false")) {
      out = Value::boolean(keyword(token, "true"));
      return true;
    }
    if (keyword(token, "null")) {
      out = Value::null();
      return true;
    }
    return false;
  }

  NodePtr parse_operand() {
    const Token& token = peek();
    if (token.kind == TokenKind::kLParen) {
      next();
      NodePtr inner = parse_or();
      if (peek().kind != TokenKind::kRParen) return fail(peek().offset, "expected ')' but found " + describe(peek()));
      next();
      return inner;
    }
    Value literal;
    if (literal_value(token, literal)) {
      next();
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kLiteral;
      node->literal = std::move(literal);
      node->condition = node->literal.type == ValueType::kBool;
      return node;
    }
    if (token.kind == TokenKind::kField) {
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kField;
      node->name = next().text;
      return node;
    }
    if (token.kind == TokenKind::kIdent) {
      for (std::string_view reserved : {"and", "or", "not", "in"}) {
        if (keyword(token, reserved)) {
          return fail(token.offset, "expected a field, literal or function, found '" + token.text +
                                        "' (quote a field with this name in backquotes)");
        }
      }
      const Token& ident = next();
      if (peek().kind == TokenKind::kLParen) return parse_call(ident);
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kField;
      node->name = ident.text;
      return node;
    }
    return fail(token.offset, "expected a field, literal or function, found " + describe(token));
  }

  NodePtr parse_call(const Token& name) {
    static const std::vector<std::tuple<std::string_view, Function, size_t>> kFunctions = {
        {"exists", Function::kExists, 1},
        {"is_blank", Function::kIsBlank, 1},
        {"len", Function::kLen, 1},
        {"starts_with", Function::kStartsWith, 2},
        {"ends_with", Function::kEndsWith, 2},
        {"contains", Function::kContains, 2},
        {"matches", Function::kMatches, 2}};
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kCall;
    size_t arity = 0;
    bool known = false;
    for (const auto& [fname, function, count] : kFunctions) {
      if (name.text == fname) {
        node->function = function;
        arity = count;
        known = true;
      }
    }
    if (!known) {
      return fail(name.offset, "unknown function '" + name.text +
                                   "' (known: exists, is_blank, len, starts_with, ends_with, contains, matches)");
    }
    node->condition = node->function != Function::kLen;
    next();  // '('
    std::vector<size_t> offsets;
    if (peek().kind != TokenKind::kRParen) {
      while (true) {
        offsets.push_back(peek().offset);
        node->args.push_back(parse_or());
        if (peek().kind == TokenKind::kComma) {
          next();
          continue;
        }
        break;
      }
    }
    if (peek().kind != TokenKind::kRParen)
      return fail(peek().offset, "expected ')' or ',' but found " + describe(peek()));
    next();
    if (node->args.size() != arity) {
      return fail(name.offset, name.text + "() takes " + std::to_string(arity) + " argument" + (arity == 1 ? "" : "s") +
                                   ", got " + std::to_string(node->args.size()));
    }
    if (node->function == Function::kExists && node->args[0]->kind != Node::Kind::kField) {
      return fail(offsets[0], "exists() takes a field name");
    }
    if (node->function == Function::kMatches) {
      const Node& pattern = *node->args[1];
      if (pattern.kind != Node::Kind::kLiteral || pattern.literal.type != ValueType::kString) {
        return fail(offsets[1], "matches() takes the regular expression as a string literal");
      }
      try {
        node->regex = std::make_unique<std::regex>(pattern.literal.text, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        return fail(offsets[1], std::string("invalid regular expression: ") + e.what());
      }
    }
    return node;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  Status failure_;
  static constexpr int kMaxDepth = 200;
  int depth_ = 0;
};

}  // namespace

Result<Expression> Expression::compile(std::string_view text) {
  Parser parser(text);
  Result<NodePtr> root = parser.parse();
  if (!root.is_ok()) return root.status();
  return Expression(std::shared_ptr<const Node>(std::move(root).value()), std::string(text));
}

bool Expression::matches(const Record& record) const { return root_->test(record); }

}  // namespace conflux::transforms
