#include "conflux/http/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "conflux/common/logging.hpp"

namespace conflux::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

bool is_secret_param(std::string_view name) {
  static const std::array<std::string_view, 16> kNames = {
      "api_key", "apikey",    "hapikey", "key",         "access_token", "token",     "auth",   "client_secret",
      "refresh_token", "clientapiid", "password", "signature", "sig", "secret", "code", "id_token"};
  std::string n = lower(name);
  return std::find(kNames.begin(), kNames.end(), n) != kNames.end();
}

std::string redact_url(std::string_view url) {
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

}  // namespace conflux::http
