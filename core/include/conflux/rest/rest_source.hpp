// The built-in `rest` source: reads the JSON listings of an HTTP API that the pipeline file describes entirely
// (base URL, auth, paginator, record selector, incremental cursor, rate limit, record schema), so that adding an API
// takes YAML only. It is built on the host's HTTP toolkit (conflux/http): retries with Retry-After, the process-wide
// rate limits, the seven paginators, the OAuth2 token cache and redaction. docs/rest-source.md describes every key.
//
// Cursor contract (what the engine commits after the sink accepted a batch): a JSON object naming the page to resume
// at and how many of its records were already emitted, plus, for incremental streams, the value sent on this run
// ("since") and the newest cursor-field value read so far ("max"). When a stream ends, its cursor keeps only
// {"since": max}: the next run asks for what changed after it. A page whose body is not valid JSON is fetched again
// and never emitted in part, so a truncated body never moves the cursor.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "conflux/common/status.hpp"
#include "conflux/engine/stage.hpp"
#include "conflux/http/oauth2.hpp"
#include "conflux/http/pagination.hpp"

namespace conflux::http {
class HttpClient;
}

namespace conflux::rest {

// One problem in a rest config, at a JSON pointer relative to the config object.
struct ConfigProblem {
  std::string pointer;
  std::string message;
  bool at_key = false;  // point at the key itself (an unknown key) rather than at its value
};

enum class AuthType { kNone, kBearer, kBasic, kApiKey, kOAuth2 };

struct AuthConfig {
  AuthType type = AuthType::kNone;
  std::string token;     // bearer
  std::string username;  // basic
  std::string password;  // basic
  bool in_query = false;  // api_key: a query parameter instead of a header
  std::string name;       // api_key: header or parameter name
  std::string value;      // api_key: its whole value
  http::OAuth2Credentials oauth2;
};

struct RateLimitConfig {
  int requests = 0;
  double per_seconds = 1;
  int burst = 0;        // 0 = requests
  std::string key;      // platform part of the bucket key; "" = the host of base_url
  std::string account;  // "" = a hash of the credential
};

// Which http::Paginator a stream uses, with the fields each type needs (see docs/rest-source.md#paginator).
struct PaginatorConfig {
  std::string type = "none";  // none, cursor, offset, page, start, page_token, link_header, next_url
  size_t page_size = 0;       // 0 = no page size is sent
  std::string size_param;
  std::string cursor_pointer;
  std::string cursor_param;
  std::string offset_param = "offset";
  std::string total_pointer;
  std::string page_param = "page";
  long first_page = 1;
  std::string pages_pointer;
  std::string next_pointer;
  std::string start_param = "start";
  std::string token_pointer;
  std::string token_param;
  std::string rel = "next";
};

// How cursor-field values compare: as instants (rfc3339), as numbers (unix seconds, unix milliseconds, number) or
// as text.
enum class CursorFormat { kRfc3339, kUnix, kUnixMs, kNumber, kString };

struct IncrementalConfig {
  std::string cursor_field;  // JSON pointer into the record as the API sends it, e.g. "/last_changed"
  std::string request_param;
  CursorFormat format = CursorFormat::kRfc3339;
  std::string start;  // sent on the first run; "" = nothing is sent, everything is read
};

struct StreamConfig {
  std::string name;
  std::string path;  // appended to base_url; may carry a query
  std::vector<std::pair<std::string, std::string>> params;
  std::string record_selector;  // JSON pointer to the page's array of records; "" = the body is the array
  PaginatorConfig paginator;
  size_t max_pages = 0;  // 0 = no bound
  std::optional<IncrementalConfig> incremental;
  std::vector<std::string> primary_key;
  nlohmann::json schema;  // JSON Schema of one record as the API sends it; null = none
  // Output field -> JSON pointer into the record. Empty: every top-level member, nested values as JSON.
  std::vector<std::pair<std::string, std::string>> fields;
};

struct RestConfig {
  std::string base_url;  // without a trailing slash
  AuthConfig auth;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<RateLimitConfig> rate_limit;
  double timeout_seconds = 60;
  std::vector<StreamConfig> streams;
};

// Reads and checks a rest source's `config` object. Every problem goes to `problems`, each at a JSON pointer
// relative to `config`; returns the config only when there is none. A `schema` given as a file name is read
// relative to `base_dir` (the pipeline file's directory). Never throws.
std::optional<RestConfig> parse_rest_config(const nlohmann::json& config, const std::string& base_dir,
                                            std::vector<ConfigProblem>& problems);

// The paginator `config` describes (a null-object paginator for "none").
std::unique_ptr<http::Paginator> make_paginator(const PaginatorConfig& config);

// Compares cursor-field values. parse_cursor_value gives a sortable key, or nullopt when `value` does not read as
// `format` (a record then goes to the dead letters rather than move the cursor).
struct CursorKey {
  bool is_text = false;  // kString
  double number = 0;     // instants in microseconds since the epoch; numbers as they are
  std::string text;
  bool operator<(const CursorKey& other) const { return is_text ? text < other.text : number < other.number; }
};
std::optional<CursorKey> parse_cursor_value(const std::string& value, CursorFormat format);

struct SourceOptions {
  std::string logger_name = "rest";  // "<pipeline>/<source>/rest"
  const std::atomic<bool>* cancel = nullptr;
  int body_retries = 3;                 // fetches again of a page whose body is not valid JSON
  http::HttpClient* client = nullptr;   // null: HttpClient::shared()
  http::TokenCache* tokens = nullptr;   // null: http::shared_token_cache()
};

// The engine's Source over `config`: one stream per configured stream, discover() from the config (no request),
// check() reads the first page of every stream.
std::unique_ptr<engine::Source> make_rest_source(RestConfig config, SourceOptions options = {});

}  // namespace conflux::rest
