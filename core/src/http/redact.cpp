#include "conflux/http/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include <nlohmann/json.hpp>

#include "conflux/common/logging.hpp"
#include "conflux/http/url.hpp"

namespace conflux::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::optional<std::pair<size_t, size_t>> find_webhook_secret(std::string_view url) {
  size_t scheme = url.find("://");
  size_t path = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (path == std::string_view::npos) return std::nullopt;
  size_t end = url.find_first_of("?#", path);
  if (end == std::string_view::npos) end = url.size();
  // Walk the segments looking for rest / <digits> / <code>.
  std::vector<std::pair<size_t, size_t>> segments;
  for (size_t at = path + 1; at <= end;) {
    size_t slash = url.find('/', at);
    if (slash == std::string_view::npos || slash > end) slash = end;
    segments.emplace_back(at, slash - at);
    at = slash + 1;
  }
  auto is = [&](size_t i, auto predicate) {
    std::string_view seg = url.substr(segments[i].first, segments[i].second);
    return !seg.empty() && std::all_of(seg.begin(), seg.end(), predicate);
  };
  for (size_t i = 0; i + 2 < segments.size(); ++i) {
    if (url.substr(segments[i].first, segments[i].second) != "rest") continue;
    if (!is(i + 1, [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) continue;
    if (segments[i + 2].second < 8 || !is(i + 2, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; })) {
      continue;
    }
    return segments[i + 2];
  }
  return std::nullopt;
}

bool is_secret_param(std::string_view name) {
  static const std::array<std::string_view, 16> kNames = {
      "api_key", "apikey",    "hapikey", "key",         "access_token", "token",     "auth",   "client_secret",
      "refresh_token", "clientapiid", "password", "signature", "sig", "secret", "code", "id_token"};
  std::string n = lower(name);
  return std::find(kNames.begin(), kNames.end(), n) != kNames.end();
}

std::string redact_url(std::string_view url) {
  std::string masked;
  if (auto code = find_webhook_secret(url)) {
    masked = std::string(url.substr(0, code->first)) + "***" + std::string(url.substr(code->first + code->second));
    url = masked;
  }
  std::string out;
  out.reserve(url.size());
  // User-info: scheme://user:password@host -> scheme://***@host
  size_t scheme = url.find("://");
  size_t authority_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  size_t at = url.substr(authority_start, authority_end - authority_start).rfind('@');
  if (scheme != std::string_view::npos && at != std::string_view::npos) {
    out.append(url.substr(0, authority_start));
    out += "***";
    url.remove_prefix(authority_start + at);
  }
  // Query values of secret parameters (the fragment is left as is: it never leaves the client).
  size_t q = url.find('?');
  if (q == std::string_view::npos) {
    out.append(url);
    return logging::redact(std::move(out));
  }
  out.append(url.substr(0, q + 1));
  std::string_view rest = url.substr(q + 1);
  size_t hash = rest.find('#');
  std::string_view fragment = hash == std::string_view::npos ? std::string_view() : rest.substr(hash);
  std::string_view query = rest.substr(0, hash);
  bool first = true;
  while (true) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    if (!first) out += '&';
    first = false;
    size_t eq = item.find('=');
    if (eq != std::string_view::npos && is_secret_param(item.substr(0, eq))) {
      out.append(item.substr(0, eq + 1));
      out += "***";
    } else {
      out.append(item);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  out.append(fragment);
  return logging::redact(std::move(out));
}

std::string redact_text(std::string_view text, size_t max_chars) {
  // Redact before cutting, so a secret that straddles the cut cannot leave its first half behind.
  std::string out = logging::redact(std::string(text));
  if (out.size() > max_chars) {
    out.resize(max_chars);
    out += "...";
  }
  return out;
}

void register_secret(const std::string& secret) { logging::add_secret(secret); }

namespace {

bool is_secret_header(std::string_view name) {
  std::string n = lower(name);
  for (const char* word : {"key", "token", "secret", "signature", "auth", "password", "cookie"}) {
    if (n.find(word) != std::string::npos) return true;
  }
  return false;
}

void register_json_secrets(const nlohmann::json& j, int depth) {
  if (depth > 8) return;
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (value.is_string() && is_secret_param(key)) register_secret(value.get<std::string>());
      register_json_secrets(value, depth + 1);
    }
  } else if (j.is_array()) {
    for (const auto& item : j) register_json_secrets(item, depth + 1);
  }
}

}  // namespace

void register_request_secrets(const Request& request) {
  for (const auto& [name, value] : request.headers) {
    std::string n = lower(name);
    if (n == "authorization" || n == "proxy-authorization") {
      // "Bearer abc", "Basic dXNlcjpwYXNz", "Token token=\"abc\"": the credential follows the scheme.
      size_t space = value.find(' ');
      register_secret(space == std::string::npos ? value : value.substr(space + 1));
    } else if (is_secret_header(n)) {
      register_secret(value);
    }
  }
  if (auto code = find_webhook_secret(request.url)) register_secret(request.url.substr(code->first, code->second));
  size_t q = request.url.find('?');
  if (q != std::string::npos) {
    std::string_view query = std::string_view(request.url).substr(q + 1);
    query = query.substr(0, query.find('#'));
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view item = query.substr(0, amp);
      size_t eq = item.find('=');
      if (eq != std::string_view::npos && is_secret_param(item.substr(0, eq))) {
        std::string raw(item.substr(eq + 1));
        register_secret(raw);
        register_secret(url_decode(raw));
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  if (request.body.empty() || request.body.size() > (64u << 10)) return;
  auto type = find_header(request.headers, "Content-Type");
  std::string content_type = type ? lower(*type) : std::string();
  if (content_type.find("x-www-form-urlencoded") != std::string::npos) {
    std::string_view body = request.body;
    while (!body.empty()) {
      size_t amp = body.find('&');
      std::string_view item = body.substr(0, amp);
      size_t eq = item.find('=');
      if (eq != std::string_view::npos && is_secret_param(url_decode(item.substr(0, eq)))) {
        register_secret(std::string(item.substr(eq + 1)));
        register_secret(url_decode(item.substr(eq + 1)));
      }
      if (amp == std::string_view::npos) break;
      body.remove_prefix(amp + 1);
    }
  } else if (content_type.find("json") != std::string::npos) {
    nlohmann::json j = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) register_json_secrets(j, 0);
  }
}

}  // namespace conflux::http
