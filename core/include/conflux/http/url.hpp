// Small URL helpers for building paged requests. Pure functions; no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace conflux::http {

// Percent-encodes everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string url_encode(std::string_view text);
// Decodes %XX escapes; with `plus_is_space`, '+' becomes ' ' (form encoding).
std::string url_decode(std::string_view text, bool plus_is_space = true);
// "a=1&b=x%20y" from pairs, each name and value percent-encoded: a query string or a form body.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

// The decoded value of query parameter `name` of `url`, or nullopt.
std::optional<std::string> query_param(std::string_view url, std::string_view name);
// `url` with query parameter `name` set to `value` (replacing every existing `name`, or appended). Keeps the
// fragment and the order of the other parameters.
std::string with_query_param(std::string_view url, std::string_view name, std::string_view value);
// `url` without query parameter `name`.
std::string without_query_param(std::string_view url, std::string_view name);

// Resolves `reference` against `base` as RFC 3986 does (an absolute URL is returned unchanged, "/x" keeps the
// scheme and authority of `base`, "x" replaces the last path segment, "?q" keeps the path).
std::string resolve_url(std::string_view base, std::string_view reference);

}  // namespace conflux::http
