#include "conflux/http/pagination.hpp"

#include <algorithm>
#include <cctype>

#include "conflux/http/url.hpp"

namespace conflux::http {
namespace {

using Json = nlohmann::json;
using NextUrl = Result<std::optional<std::string>>;

std::string_view trim(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return v;
}

Result<const Json*> need_body(const Page& page, const char* strategy) {
  if (page.body == nullptr) return internal_error(std::string(strategy) + " pagination needs the parsed body");
  return page.body;
}

// The value at `pointer` as text: strings as they are, integers printed; absent, null or "" -> nullopt.
Result<std::optional<std::string>> text_at(const Json& body, const std::string& pointer, const char* what) {
  auto found = select(body, pointer);
  if (!found.is_ok()) return found.status();
  const Json* v = *found;
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (v->is_string()) {
    std::string s = v->get<std::string>();
    if (s.empty()) return std::optional<std::string>();
    return std::optional<std::string>(std::move(s));
  }
  if (v->is_number_integer()) return std::optional<std::string>(std::to_string(v->get<long long>()));
  return unavailable(std::string(what) + " at " + pointer + " is neither a string nor an integer: " +
                     v->dump().substr(0, 80));
}

// A non-negative integer query parameter of `url`, or `fallback` when absent.
Result<long long> int_param(const std::string& url, const std::string& name, long long fallback) {
  auto value = query_param(url, name);
  if (!value) return fallback;
  try {
    size_t used = 0;
    long long n = std::stoll(*value, &used);
    if (used == value->size() && n >= 0) return n;
  } catch (...) {
  }
  return internal_error("query parameter '" + name + "' of the page URL is not a count: " + *value);
}

}  // namespace

Result<Json> parse_json_body(const Response& response) {
  Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return unavailable("response body is not valid JSON (" + std::to_string(response.body.size()) +
                       " bytes, HTTP " + std::to_string(response.status) + "; truncated?)");
  }
  return body;
}

Result<const Json*> select(const Json& document, std::string_view pointer) {
  if (pointer.empty()) return &document;
  try {
    Json::json_pointer valid{std::string(pointer)};  // throws on a malformed pointer
    (void)valid;
  } catch (const std::exception& e) {
    return failed_precondition("'" + std::string(pointer) + "' is not a JSON pointer: " + e.what());
  }
  // Walk by hand: contains()/at() throw on type mismatches along the way, and a mismatch simply means "absent".
  const Json* at = &document;
  std::string text(pointer);
  size_t pos = 1;
  while (pos <= text.size()) {
    size_t slash = text.find('/', pos);
    std::string token = text.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    for (size_t i = 0; (i = token.find("~1", i)) != std::string::npos;) token.replace(i, 2, "/");
    for (size_t i = 0; (i = token.find("~0", i)) != std::string::npos;) token.replace(i, 2, "~");
    if (at->is_object()) {
      auto it = at->find(token);
      if (it == at->end()) return static_cast<const Json*>(nullptr);
      at = &*it;
    } else if (at->is_array()) {
      if (token.empty() || !std::all_of(token.begin(), token.end(), [](char c) { return std::isdigit(c); })) {
        return static_cast<const Json*>(nullptr);
      }
      size_t index = std::stoul(token);
      if (index >= at->size()) return static_cast<const Json*>(nullptr);
      at = &(*at)[index];
    } else {
      return static_cast<const Json*>(nullptr);
    }
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return at;
}

Result<const Json*> select_records(const Json& document, std::string_view pointer) {
  auto found = select(document, pointer);
  if (!found.is_ok()) return found.status();
  if (*found == nullptr || (*found)->is_null()) {
    static const Json kEmpty = Json::array();
    return &kEmpty;
  }
  if (!(*found)->is_array()) {
    return unavailable("expected an array of records at '" + std::string(pointer) + "', got " +
                       (*found)->type_name());
  }
  return *found;
}

std::vector<Link> parse_link_header(std::string_view value) {
  std::vector<Link> links;
  size_t i = 0;
  while (i < value.size()) {
    size_t open = value.find('<', i);
    if (open == std::string_view::npos) break;
    size_t close = value.find('>', open);
    if (close == std::string_view::npos) break;
    Link link;
    link.url = std::string(trim(value.substr(open + 1, close - open - 1)));
    i = close + 1;
    // Parameters: ; name=value or ; name="quoted, value" up to the next top-level comma.
    while (i < value.size()) {
      while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
      if (i >= value.size() || value[i] == ',') {
        ++i;
        break;
      }
      if (value[i] != ';') {  // junk: skip to the next link
        size_t comma = value.find(',', i);
        i = comma == std::string_view::npos ? value.size() : comma + 1;
        break;
      }
      ++i;
      size_t eq = value.find_first_of("=;,", i);
      std::string name(trim(value.substr(i, (eq == std::string_view::npos ? value.size() : eq) - i)));
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      std::string param_value;
      i = eq == std::string_view::npos ? value.size() : eq;
      if (i < value.size() && value[i] == '=') {
        ++i;
        while (i < value.size() && value[i] == ' ') ++i;
        if (i < value.size() && value[i] == '"') {
          ++i;
          while (i < value.size() && value[i] != '"') {
            if (value[i] == '\\' && i + 1 < value.size()) ++i;
            param_value += value[i++];
          }
          ++i;  // the closing quote
        } else {
          size_t end = value.find_first_of(";,", i);
          if (end == std::string_view::npos) end = value.size();
          param_value = std::string(trim(value.substr(i, end - i)));
          i = end;
        }
      }
      if (!name.empty() && !link.params.count(name)) link.params[name] = param_value;
    }
    links.push_back(std::move(link));
  }
  return links;
}

std::optional<std::string> find_link(const Headers& headers, std::string_view rel, std::string_view base_url) {
  for (const auto& [name, value] : headers) {
    if (name.size() != 4 || std::tolower(static_cast<unsigned char>(name[0])) != 'l' ||
        std::tolower(static_cast<unsigned char>(name[1])) != 'i' ||
        std::tolower(static_cast<unsigned char>(name[2])) != 'n' ||
        std::tolower(static_cast<unsigned char>(name[3])) != 'k') {
      continue;
    }
    for (const Link& link : parse_link_header(value)) {
      auto it = link.params.find("rel");
      if (it == link.params.end()) continue;
      // rel is a space-separated list of relation types, compared case-insensitively.
      std::string rels = it->second;
      std::transform(rels.begin(), rels.end(), rels.begin(), [](unsigned char c) { return std::tolower(c); });
      std::string wanted(rel);
      std::transform(wanted.begin(), wanted.end(), wanted.begin(), [](unsigned char c) { return std::tolower(c); });
      size_t start = 0;
      while (start <= rels.size()) {
        size_t end = rels.find(' ', start);
        if (end == std::string::npos) end = rels.size();
        if (rels.compare(start, end - start, wanted) == 0 && end - start == wanted.size()) {
          return resolve_url(base_url, link.url);
        }
        start = end + 1;
      }
    }
  }
  return std::nullopt;
}

NextUrl AfterCursorPaginator::next(const Page& page) const {
  auto body = need_body(page, "after-cursor");
  if (!body.is_ok()) return body.status();
  auto cursor = text_at(**body, pointer_, "the after-cursor");
  if (!cursor.is_ok()) return cursor.status();
  if (!cursor->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(with_query_param(page.url, param_, **cursor));
}

std::string OffsetPaginator::first(std::string_view url) const {
  return with_query_param(with_query_param(url, offset_param_, "0"), limit_param_, std::to_string(limit_));
}

NextUrl OffsetPaginator::next(const Page& page) const {
  auto offset = int_param(page.url, offset_param_, 0);
  if (!offset.is_ok()) return offset.status();
  if (page.record_count == 0 || page.record_count < limit_) return std::optional<std::string>();
  long long next = *offset + static_cast<long long>(page.record_count);
  if (!total_pointer_.empty()) {
    auto body = need_body(page, "offset");
    if (!body.is_ok()) return body.status();
    auto total = select(**body, total_pointer_);
    if (!total.is_ok()) return total.status();
    if (*total && (*total)->is_number_integer() && next >= (*total)->get<long long>()) {
      return std::optional<std::string>();
    }
  }
  return std::optional<std::string>(with_query_param(page.url, offset_param_, std::to_string(next)));
}

std::string PageNumberPaginator::first(std::string_view url) const {
  return with_query_param(with_query_param(url, page_param_, std::to_string(first_page_)), size_param_,
                          std::to_string(page_size_));
}

NextUrl PageNumberPaginator::next(const Page& page) const {
  auto number = int_param(page.url, page_param_, first_page_);
  if (!number.is_ok()) return number.status();
  if (page.record_count == 0 || page.record_count < page_size_) return std::optional<std::string>();
  if (!pages_pointer_.empty()) {
    auto body = need_body(page, "page-number");
    if (!body.is_ok()) return body.status();
    auto pages = select(**body, pages_pointer_);
    if (!pages.is_ok()) return pages.status();
    // The count is of pages numbered from first_page_.
    if (*pages && (*pages)->is_number_integer() && *number - first_page_ + 1 >= (*pages)->get<long long>()) {
      return std::optional<std::string>();
    }
  }
  return std::optional<std::string>(with_query_param(page.url, page_param_, std::to_string(*number + 1)));
}

NextUrl StartNextPaginator::next(const Page& page) const {
  auto body = need_body(page, "start/next");
  if (!body.is_ok()) return body.status();
  auto next = select(**body, next_pointer_);
  if (!next.is_ok()) return next.status();
  if (*next == nullptr || (*next)->is_null()) return std::optional<std::string>();
  if (!(*next)->is_number_integer() || (*next)->get<long long>() < 0) {
    return unavailable("'next' at " + next_pointer_ + " is not a start offset: " + (*next)->dump().substr(0, 80));
  }
  return std::optional<std::string>(
      with_query_param(page.url, start_param_, std::to_string((*next)->get<long long>())));
}

NextUrl PageTokenPaginator::next(const Page& page) const {
  auto body = need_body(page, "page-token");
  if (!body.is_ok()) return body.status();
  auto token = text_at(**body, pointer_, "the page token");
  if (!token.is_ok()) return token.status();
  if (!token->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(with_query_param(page.url, param_, **token));
}

NextUrl LinkHeaderPaginator::next(const Page& page) const {
  return find_link(page.response->headers, rel_, page.url);
}

NextUrl NextUrlPaginator::next(const Page& page) const {
  auto body = need_body(page, "next-URL");
  if (!body.is_ok()) return body.status();
  auto next = text_at(**body, pointer_, "the next-page URL");
  if (!next.is_ok()) return next.status();
  if (!next->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(resolve_url(page.url, **next));
}

}  // namespace conflux::http
