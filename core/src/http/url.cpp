#include "conflux/http/url.hpp"

#include <cctype>

namespace conflux::http {
namespace {

struct Parts {
  std::string_view before_query;  // scheme, authority and path
  std::string_view query;         // without '?'
  std::string_view fragment;      // with '#', or empty
  bool has_query = false;
};

Parts split(std::string_view url) {
  Parts p;
  size_t hash = url.find('#');
  if (hash != std::string_view::npos) {
    p.fragment = url.substr(hash);
    url = url.substr(0, hash);
  }
  size_t q = url.find('?');
  if (q == std::string_view::npos) {
    p.before_query = url;
  } else {
    p.before_query = url.substr(0, q);
    p.query = url.substr(q + 1);
    p.has_query = true;
  }
  return p;
}

// Splits a query into its '&'-separated items, each as (raw name, raw item).
template <typename Fn>
void for_each_item(std::string_view query, Fn&& fn) {
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view item = query.substr(start, end - start);
    if (!item.empty()) {
      size_t eq = item.find('=');
      fn(item.substr(0, eq), item);
    }
    start = end + 1;
  }
}

std::string join(const Parts& p, const std::string& query) {
  std::string out(p.before_query);
  if (!query.empty()) out += "?" + query;
  out += p.fragment;
  return out;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Removes "." and ".." segments (RFC 3986 section 5.2.4).
std::string remove_dot_segments(std::string_view path) {
  std::string out;
  while (!path.empty()) {
    if (path.substr(0, 3) == "../") {
      path.remove_prefix(3);
    } else if (path.substr(0, 2) == "./") {
      path.remove_prefix(2);
    } else if (path.substr(0, 3) == "/./") {
      path.remove_prefix(2);
    } else if (path == "/.") {
      path = "/";
    } else if (path.substr(0, 4) == "/../" || path == "/..") {
      path = path.size() == 3 ? std::string_view("/") : path.substr(3);
      size_t slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (path == "." || path == "..") {
      path = {};
    } else {
      size_t next = path.find('/', 1);
      if (next == std::string_view::npos) next = path.size();
      out.append(path.substr(0, next));
      path.remove_prefix(next);
    }
  }
  return out;
}

}  // namespace

std::string url_encode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else if (text[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += url_encode(name) + "=" + url_encode(value);
  }
  return out;
}

std::optional<std::string> query_param(std::string_view url, std::string_view name) {
  std::optional<std::string> found;
  for_each_item(split(url).query, [&](std::string_view raw_name, std::string_view item) {
    if (found || url_decode(raw_name) != name) return;
    size_t eq = item.find('=');
    found = eq == std::string_view::npos ? std::string() : url_decode(item.substr(eq + 1));
  });
  return found;
}

std::string with_query_param(std::string_view url, std::string_view name, std::string_view value) {
  Parts p = split(url);
  std::string query;
  bool placed = false;
  const std::string encoded = url_encode(name) + "=" + url_encode(value);
  for_each_item(p.query, [&](std::string_view raw_name, std::string_view item) {
    bool same = url_decode(raw_name) == name;
    if (same && placed) return;  // a duplicate: the parameter ends up with one value
    if (!query.empty()) query += '&';
    if (same) {
      query += encoded;
      placed = true;
    } else {
      query.append(item);
    }
  });
  if (!placed) query += (query.empty() ? "" : "&") + encoded;
  return join(p, query);
}

std::string without_query_param(std::string_view url, std::string_view name) {
  Parts p = split(url);
  std::string query;
  for_each_item(p.query, [&](std::string_view raw_name, std::string_view item) {
    if (url_decode(raw_name) == name) return;
    if (!query.empty()) query += '&';
    query.append(item);
  });
  return join(p, query);
}

std::string resolve_url(std::string_view base, std::string_view reference) {
  // An absolute reference: a scheme ("x:" with only scheme characters before the colon).
  size_t colon = reference.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    bool scheme = std::isalpha(static_cast<unsigned char>(reference[0]));
    for (size_t i = 1; i < colon && scheme; ++i) {
      char c = reference[i];
      scheme = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    }
    if (scheme) return std::string(reference);
  }
  Parts b = split(base);
  // base = scheme://authority/path
  size_t scheme_end = b.before_query.find("://");
  size_t authority_end = scheme_end == std::string_view::npos ? 0 : b.before_query.find('/', scheme_end + 3);
  if (authority_end == std::string_view::npos) authority_end = b.before_query.size();
  std::string_view origin = b.before_query.substr(0, authority_end);
  std::string_view path = b.before_query.substr(authority_end);

  if (reference.substr(0, 2) == "//") {
    return std::string(b.before_query.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end + 1)) +
           std::string(reference);
  }
  if (reference.empty()) return join(b, std::string(b.query));
  if (reference[0] == '#') return std::string(b.before_query) + (b.has_query ? "?" + std::string(b.query) : "") +
                                  std::string(reference);
  if (reference[0] == '?') return std::string(b.before_query) + std::string(reference);

  Parts r = split(reference);
  std::string merged;
  if (reference[0] == '/') {
    merged = remove_dot_segments(r.before_query);
  } else {
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string_view::npos ? "/" : std::string(path.substr(0, slash + 1));
    merged = remove_dot_segments(dir + std::string(r.before_query));
  }
  std::string out = std::string(origin) + merged;
  if (r.has_query) out += "?" + std::string(r.query);
  out += r.fragment;
  return out;
}

}  // namespace conflux::http
