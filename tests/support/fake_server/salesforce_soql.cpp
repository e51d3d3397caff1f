#include "fake_server/salesforce_soql.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>

#include "fake_server/record_store.hpp"

namespace conflux::test::fake::soql {
namespace {

using Json = nlohmann::json;

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Token {
  enum class Kind { kIdent, kText, kNumber, kDateTime, kDate, kOp, kOpen, kClose, kComma, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;  // kIdent as written; kText unescaped; kOp the operator; kNumber/kDate/kDateTime as written
  int64_t ms = 0;    // kDateTime
  size_t at = 0;     // offset in the query, for messages
};

[[noreturn]] void malformed(const std::string& what, size_t at) {
  throw SyntaxError("unexpected token or syntax at column " + std::to_string(at + 1) + ": " + what);
}

bool digits_at(const std::string& s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    Token t;
    t.at = i;
    if (i == s.size()) {
      out.push_back(t);
      return out;
    }
    const char c = s[i];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      if (j < s.size() && s[j] == '.') malformed("relationship paths are not supported by the fake", j);
      t.kind = Token::Kind::kIdent;
      t.text = s.substr(i, j - i);
      i = j;
    } else if (c == '\'') {
      t.kind = Token::Kind::kText;
      size_t j = i + 1;
      bool closed = false;
      while (j < s.size()) {
        char ch = s[j];
        if (ch == '\'') {
          closed = true;
          ++j;
          break;
        }
        if (ch == '\\') {
          if (j + 1 >= s.size()) break;
          const char e = s[j + 1];
          switch (e) {
            case '\\': t.text += '\\'; break;
            case '\'': t.text += '\''; break;
            case '"': t.text += '"'; break;
            case 'n': t.text += '\n'; break;
            case 'r': t.text += '\r'; break;
            case 't': t.text += '\t'; break;
            case 'b': t.text += '\b'; break;
            case 'f': t.text += '\f'; break;
            default: malformed("Invalid string literal: illegal escape sequence \\" + std::string(1, e), j);
          }
          j += 2;
          continue;
        }
        t.text += ch;
        ++j;
      }
      if (!closed) malformed("unterminated string literal", i);
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || (c == '-' && i + 1 < s.size() &&
                                                                 std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      if (digits_at(s, i, 4) && i + 10 <= s.size() && s[i + 4] == '-' && digits_at(s, i + 5, 2) && s[i + 7] == '-' &&
          digits_at(s, i + 8, 2)) {
        size_t j = i + 10;
        if (j < s.size() && s[j] == 'T') {
          // dateTime: hh:mm:ss[.fff](Z|+hh:mm|-hh:mm)
          if (!(digits_at(s, j + 1, 2) && s.size() > j + 8 && s[j + 3] == ':' && digits_at(s, j + 4, 2) &&
                s[j + 6] == ':' && digits_at(s, j + 7, 2))) {
            malformed("invalid dateTime literal", i);
          }
          j += 9;
          if (j < s.size() && s[j] == '.') {
            ++j;
            while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
          }
          if (j < s.size() && s[j] == 'Z') {
            ++j;
          } else if (j < s.size() && (s[j] == '+' || s[j] == '-') && digits_at(s, j + 1, 2) && j + 3 < s.size() &&
                     s[j + 3] == ':' && digits_at(s, j + 4, 2)) {
            j += 6;
          } else {
            malformed("a dateTime literal needs a zone: Z or +hh:mm", i);
          }
          t.kind = Token::Kind::kDateTime;
          t.text = s.substr(i, j - i);
          auto ms = parse_datetime(t.text);
          if (!ms) malformed("invalid dateTime literal " + t.text, i);
          t.ms = *ms;
        } else {
          t.kind = Token::Kind::kDate;
          t.text = s.substr(i, j - i);
        }
        i = j;
      } else {
        size_t j = i + (c == '-' ? 1 : 0);
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        if (j < s.size() && s[j] == '.') {
          ++j;
          while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        }
        t.kind = Token::Kind::kNumber;
        t.text = s.substr(i, j - i);
        i = j;
      }
    } else if (c == '(' || c == ')' || c == ',') {
      t.kind = c == '(' ? Token::Kind::kOpen : c == ')' ? Token::Kind::kClose : Token::Kind::kComma;
      t.text = std::string(1, c);
      ++i;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      t.kind = Token::Kind::kOp;
      std::string two = s.substr(i, 2);
      if (two == "!=" || two == "<>" || two == "<=" || two == ">=") {
        t.text = two == "<>" ? "!=" : two;
        i += 2;
      } else if (c == '!') {
        malformed("unexpected '!'", i);
      } else {
        t.text = std::string(1, c);
        ++i;
      }
    } else {
      malformed("unexpected character '" + std::string(1, c) + "'", i);
    }
    out.push_back(std::move(t));
  }
}

class Parser {
 public:
  explicit Parser(const std::string& text) : tokens_(tokenize(text)) {}

  Query query() {
    Query q;
    expect_keyword("SELECT");
    do {
      q.fields.push_back(identifier("a field name"));
    } while (accept(Token::Kind::kComma));
    expect_keyword("FROM");
    q.object = identifier("an object name");
    if (accept_keyword("WHERE")) q.where = condition();
    if (accept_keyword("ORDER")) {
      expect_keyword("BY");
      do {
        OrderBy o;
        o.field = identifier("a field name");
        if (accept_keyword("DESC")) {
          o.ascending = false;
        } else {
          accept_keyword("ASC");
        }
        o.nulls_first = o.ascending;
        if (accept_keyword("NULLS")) {
          if (accept_keyword("FIRST")) {
            o.nulls_first = true;
          } else {
            expect_keyword("LAST");
            o.nulls_first = false;
          }
        }
        q.order.push_back(o);
      } while (accept(Token::Kind::kComma));
    }
    if (accept_keyword("LIMIT")) {
      const Token& t = peek();
      if (t.kind != Token::Kind::kNumber || t.text.find_first_not_of("0123456789") != std::string::npos) {
        malformed("LIMIT needs a whole number", t.at);
      }
      q.limit = std::stoull(t.text);
      ++pos_;
    }
    if (peek().kind != Token::Kind::kEnd) malformed("'" + peek().text + "'", peek().at);
    return q;
  }

 private:
  static bool is_keyword(const std::string& word) {
    static const char* const kWords[] = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "ORDER", "BY", "ASC",
                                         "DESC", "NULLS", "FIRST", "LAST", "LIMIT", "TRUE", "FALSE", "NULL",
                                         "GROUP", "HAVING", "OFFSET", "LIKE", "INCLUDES", "EXCLUDES", "WITH"};
    const std::string u = upper(word);
    return std::any_of(std::begin(kWords), std::end(kWords), [&](const char* k) { return u == k; });
  }
  const Token& peek() const { return tokens_[pos_]; }
  bool accept(Token::Kind kind) {
    if (peek().kind != kind) return false;
    ++pos_;
    return true;
  }
  bool accept_keyword(const char* word) {
    if (peek().kind != Token::Kind::kIdent || upper(peek().text) != word) return false;
    ++pos_;
    return true;
  }
  void expect_keyword(const char* word) {
    if (!accept_keyword(word)) malformed("expected " + std::string(word), peek().at);
  }
  std::string identifier(const char* what) {
    const Token& t = peek();
    if (t.kind != Token::Kind::kIdent || is_keyword(t.text)) {
      malformed("expected " + std::string(what) + (t.text.empty() ? "" : ", found '" + t.text + "'"), t.at);
    }
    ++pos_;
    return t.text;
  }

  // condition := term ((AND|OR) term)*, one connector per level.
  Condition condition() {
    Condition first = term();
    std::optional<Condition::Kind> joined;
    std::vector<Condition> parts;
    parts.push_back(std::move(first));
    while (peek().kind == Token::Kind::kIdent && (upper(peek().text) == "AND" || upper(peek().text) == "OR")) {
      const Condition::Kind kind = upper(peek().text) == "AND" ? Condition::Kind::kAnd : Condition::Kind::kOr;
      if (joined && *joined != kind) malformed("AND and OR need parentheses to be mixed", peek().at);
      joined = kind;
      ++pos_;
      parts.push_back(term());
    }
    if (!joined) return std::move(parts.front());
    Condition c;
    c.kind = *joined;
    c.children = std::move(parts);
    return c;
  }

  Condition term() {
    if (accept_keyword("NOT")) {
      Condition c;
      c.kind = Condition::Kind::kNot;
      c.children.push_back(term());
      return c;
    }
    if (accept(Token::Kind::kOpen)) {
      Condition inner = condition();
      if (!accept(Token::Kind::kClose)) malformed("expected ')'", peek().at);
      return inner;
    }
    Condition c;
    c.field = identifier("a field name");
    bool negated = false;
    if (accept_keyword("NOT")) negated = true;
    if (accept_keyword("IN")) {
      c.kind = negated ? Condition::Kind::kNotIn : Condition::Kind::kIn;
      if (!accept(Token::Kind::kOpen)) malformed("expected '(' after IN", peek().at);
      do {
        c.values.push_back(literal());
      } while (accept(Token::Kind::kComma));
      if (!accept(Token::Kind::kClose)) malformed("expected ')'", peek().at);
      return c;
    }
    if (negated) malformed("expected IN after NOT", peek().at);
    if (peek().kind != Token::Kind::kOp) malformed("expected an operator after " + c.field, peek().at);
    c.op = peek().text;
    ++pos_;
    c.values.push_back(literal());
    return c;
  }

  Literal literal() {
    const Token& t = peek();
    Literal l;
    switch (t.kind) {
      case Token::Kind::kText: l.kind = Literal::Kind::kText; l.text = t.text; break;
      case Token::Kind::kNumber: l.kind = Literal::Kind::kNumber; l.number = std::stod(t.text); break;
      case Token::Kind::kDateTime: l.kind = Literal::Kind::kDateTime; l.ms = t.ms; break;
      case Token::Kind::kDate: l.kind = Literal::Kind::kDate; l.text = t.text; break;
      case Token::Kind::kIdent: {
        const std::string u = upper(t.text);
        if (u == "TRUE" || u == "FALSE") {
          l.kind = Literal::Kind::kBool;
          l.flag = u == "TRUE";
        } else if (u == "NULL") {
          l.kind = Literal::Kind::kNull;
        } else {
          malformed("'" + t.text + "' is not a value (date literals such as TODAY are not supported by the fake)", t.at);
        }
        break;
      }
      default: malformed("expected a value", t.at);
    }
    ++pos_;
    return l;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

void collect(const Condition& c, std::vector<std::string>& out) {
  if (!c.field.empty()) out.push_back(c.field);
  for (const auto& child : c.children) collect(child, out);
}

const char* type_name(FieldType type) {
  switch (type) {
    case FieldType::kId: return "id";
    case FieldType::kText: return "string";
    case FieldType::kNumber: return "double";
    case FieldType::kBool: return "boolean";
    case FieldType::kDateTime: return "dateTime";
    case FieldType::kDate: return "date";
  }
  return "string";
}

// Compares a non-null record value with a non-null literal of the field's type: <0, 0, >0.
int compare_value(const Json& value, const Literal& literal, FieldType type, const std::string& field) {
  auto mismatch = [&]() -> int {
    throw std::invalid_argument("value of filter criterion for field '" + field + "' must be of type " +
                                type_name(type) +
                                (type == FieldType::kText || type == FieldType::kId ? " and should be enclosed in quotes"
                                                                                    : " and should not be enclosed in quotes"));
  };
  switch (type) {
    case FieldType::kId:
    case FieldType::kText: {
      if (literal.kind != Literal::Kind::kText) return mismatch();
      std::string v = value.is_string() ? value.get<std::string>() : value.dump();
      std::string l = literal.text;
      if (type == FieldType::kText) {
        v = lower(v);
        l = lower(l);
      }
      return v.compare(l) < 0 ? -1 : v == l ? 0 : 1;
    }
    case FieldType::kNumber: {
      if (literal.kind != Literal::Kind::kNumber) return mismatch();
      const double v = value.is_number() ? value.get<double>() : 0;
      return v < literal.number ? -1 : v == literal.number ? 0 : 1;
    }
    case FieldType::kBool: {
      if (literal.kind != Literal::Kind::kBool) return mismatch();
      const bool v = value.is_boolean() && value.get<bool>();
      return v == literal.flag ? 0 : (v ? 1 : -1);
    }
    case FieldType::kDateTime: {
      if (literal.kind != Literal::Kind::kDateTime) return mismatch();
      auto v = value.is_string() ? parse_datetime(value.get<std::string>()) : std::nullopt;
      const int64_t ms = v.value_or(0);
      return ms < literal.ms ? -1 : ms == literal.ms ? 0 : 1;
    }
    case FieldType::kDate: {
      if (literal.kind != Literal::Kind::kDate) return mismatch();
      const std::string v = value.is_string() ? value.get<std::string>() : std::string();
      return v.compare(literal.text) < 0 ? -1 : v == literal.text ? 0 : 1;
    }
  }
  return 0;
}

}  // namespace

Query parse(const std::string& text) { return Parser(text).query(); }

std::vector<std::string> referenced_fields(const Query& query) {
  std::vector<std::string> out = query.fields;
  if (query.where) collect(*query.where, out);
  for (const auto& o : query.order) out.push_back(o.field);
  return out;
}

bool matches(const Condition& c, const Json& record, const std::function<std::string(const std::string&)>& canonical,
             const std::function<FieldType(const std::string&)>& type_of) {
  switch (c.kind) {
    case Condition::Kind::kAnd:
      return std::all_of(c.children.begin(), c.children.end(),
                         [&](const Condition& child) { return matches(child, record, canonical, type_of); });
    case Condition::Kind::kOr:
      return std::any_of(c.children.begin(), c.children.end(),
                         [&](const Condition& child) { return matches(child, record, canonical, type_of); });
    case Condition::Kind::kNot: return !matches(c.children.front(), record, canonical, type_of);
    default: break;
  }
  const std::string name = canonical(c.field);
  const FieldType type = type_of(name);
  const Json value = record.contains(name) ? record[name] : Json();
  if (c.kind == Condition::Kind::kIn || c.kind == Condition::Kind::kNotIn) {
    bool found = false;
    for (const Literal& l : c.values) {
      if (l.kind == Literal::Kind::kNull) {
        found = found || value.is_null();
      } else if (!value.is_null() && compare_value(value, l, type, c.field) == 0) {
        found = true;
      }
    }
    return c.kind == Condition::Kind::kIn ? found : !found;
  }
  const Literal& l = c.values.front();
  if (l.kind == Literal::Kind::kNull) {
    if (c.op == "=") return value.is_null();
    if (c.op == "!=") return !value.is_null();
    throw std::invalid_argument("null can only be compared with = or !=");
  }
  if (value.is_null()) return c.op == "!=";
  const int order = compare_value(value, l, type, c.field);
  if (c.op == "=") return order == 0;
  if (c.op == "!=") return order != 0;
  if (type == FieldType::kBool) throw std::invalid_argument("boolean field " + c.field + " takes only = and !=");
  if (c.op == "<") return order < 0;
  if (c.op == "<=") return order <= 0;
  if (c.op == ">") return order > 0;
  return order >= 0;
}

int compare_records(const std::vector<OrderBy>& order, const Json& a, const Json& b,
                    const std::function<std::string(const std::string&)>& canonical,
                    const std::function<FieldType(const std::string&)>& type_of) {
  for (const OrderBy& o : order) {
    const std::string name = canonical(o.field);
    const Json va = a.contains(name) ? a[name] : Json();
    const Json vb = b.contains(name) ? b[name] : Json();
    int c = 0;
    if (va.is_null() || vb.is_null()) {
      if (va.is_null() && vb.is_null()) continue;
      // Nulls sort by the NULLS clause, whatever the direction.
      return va.is_null() == o.nulls_first ? -1 : 1;
    }
    const FieldType type = type_of(name);
    Literal l;
    switch (type) {
      case FieldType::kId:
      case FieldType::kText:
        l.kind = Literal::Kind::kText;
        l.text = vb.is_string() ? vb.get<std::string>() : vb.dump();
        break;
      case FieldType::kNumber: l.kind = Literal::Kind::kNumber; l.number = vb.is_number() ? vb.get<double>() : 0; break;
      case FieldType::kBool: l.kind = Literal::Kind::kBool; l.flag = vb.is_boolean() && vb.get<bool>(); break;
      case FieldType::kDateTime:
        l.kind = Literal::Kind::kDateTime;
        l.ms = vb.is_string() ? parse_datetime(vb.get<std::string>()).value_or(0) : 0;
        break;
      case FieldType::kDate: l.kind = Literal::Kind::kDate; l.text = vb.is_string() ? vb.get<std::string>() : ""; break;
    }
    c = compare_value(va, l, type, name);
    if (c != 0) return o.ascending ? c : -c;
  }
  return 0;
}

std::string format_datetime(int64_t ms) {
  std::string iso = format_time(ms);  // "2024-03-05T11:22:10.123Z"
  if (!iso.empty() && iso.back() == 'Z') iso.pop_back();
  return iso + "+0000";
}

std::optional<int64_t> parse_datetime(const std::string& text) {
  // RecordStore's parser (Poco) takes "Z" and "+hh:mm"; Salesforce's own "+0000" form is turned into "+00:00".
  std::string t = text;
  if (t.size() > 5 && (t[t.size() - 5] == '+' || t[t.size() - 5] == '-') &&
      std::all_of(t.end() - 4, t.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    t.insert(t.size() - 2, ":");
  }
  if (t.size() < 20 || t[10] != 'T') return std::nullopt;
  return parse_time(t);
}

}  // namespace conflux::test::fake::soql
