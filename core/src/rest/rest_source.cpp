// The rest source at run time: requests through the host's HTTP client, pages through the configured paginator,
// turns the selected JSON objects into records, and emits a cursor after every batch (see rest_source.hpp for its
// contract).
#include "conflux/rest/rest_source.hpp"

#include <openssl/evp.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "conflux/common/json_schema.hpp"
#include "conflux/common/logging.hpp"
#include "conflux/http/client.hpp"
#include "conflux/http/rate_limiter.hpp"
#include "conflux/http/redact.hpp"
#include "conflux/http/url.hpp"

namespace conflux::rest {
namespace {

using Json = nlohmann::json;
using NextUrl = Result<std::optional<std::string>>;

// The whole listing is one response.
class SinglePage final : public http::Paginator {
 public:
  NextUrl next(const http::Page&) const override { return std::optional<std::string>(); }
};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// RFC 3339 / ISO 8601 instants: YYYY-MM-DD, optionally [T ]HH:MM[:SS[.fraction]] and Z or +HH[:]MM; no offset
// means UTC. Microseconds since the epoch.
std::optional<double> parse_instant(std::string_view s) {
  auto digits = [&](size_t at, size_t n, int& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  auto at_char = [&](size_t i, char c) { return i < s.size() && s[i] == c; };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offset_minutes = 0;
  double fraction = 0;
  if (!digits(0, 4, year) || !at_char(4, '-') || !digits(5, 2, month) || !at_char(7, '-') || !digits(8, 2, day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  size_t i = 10;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return std::nullopt;
    ++i;
    if (!digits(i, 2, hour) || !at_char(i + 2, ':') || !digits(i + 3, 2, minute)) return std::nullopt;
    i += 5;
    if (at_char(i, ':')) {
      if (!digits(i + 1, 2, second)) return std::nullopt;
      i += 3;
      if (at_char(i, '.') || at_char(i, ',')) {
        const size_t start = ++i;
        double scale = 0.1;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
          fraction += (s[i] - '0') * scale;
          scale /= 10;
          ++i;
        }
        if (i == start) return std::nullopt;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    if (at_char(i, 'Z') || at_char(i, 'z')) {
      ++i;
    } else if (at_char(i, '+') || at_char(i, '-')) {
      const int sign = s[i] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!digits(i + 1, 2, oh)) return std::nullopt;
      i += 3;
      if (at_char(i, ':')) ++i;
      if (i < s.size()) {
        if (!digits(i, 2, om)) return std::nullopt;
        i += 2;
      }
      offset_minutes = sign * (oh * 60 + om);
    }
    if (i != s.size()) return std::nullopt;
  }
  const double seconds = static_cast<double>(days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day))) * 86400.0 +
                         hour * 3600.0 + minute * 60.0 + second - offset_minutes * 60.0;
  return seconds * 1e6 + std::round(fraction * 1e6);
}

std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (...) {
  }
  return std::nullopt;
}

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

// The first 12 hex digits of SHA-256(text): names an account in a rate-limit key without holding its secret.
std::string short_digest(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) return "default";
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 6 && i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string host_of(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = authority.rfind('@');
  return at == std::string::npos ? authority : authority.substr(at + 1);
}

// A JSON value as a record field: nested objects and arrays stay JSON text.
Value to_value(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return Value::null();
    case Json::value_t::boolean: return Value::boolean(v.get<bool>());
    case Json::value_t::number_integer: return Value::integer(v.get<int64_t>());
    case Json::value_t::number_unsigned: {
      uint64_t u = v.get<uint64_t>();
      return u <= static_cast<uint64_t>(INT64_MAX) ? Value::integer(static_cast<int64_t>(u)) : Value::decimal(v.dump());
    }
    case Json::value_t::number_float: return Value::real(v.get<double>());
    case Json::value_t::string: return Value::string(v.get<std::string>());
    default: return Value::json(v.dump());
  }
}

const char* field_type(const Json& schema) {
  if (!schema.is_object() || !schema.contains("type")) return "any";
  std::string type;
  const Json& t = schema["type"];
  if (t.is_string()) {
    type = t.get<std::string>();
  } else if (t.is_array()) {
    for (const auto& x : t) {
      if (x.is_string() && x.get<std::string>() != "null") type = x.get<std::string>();
    }
  }
  if (type == "string") return "string";
  if (type == "integer") return "int";
  if (type == "number") return "double";
  if (type == "boolean") return "bool";
  if (type == "object" || type == "array") return "json";
  return "any";
}

// The subschema describing the value at `pointer` (following "properties"), or null.
const Json* subschema(const Json& schema, const std::string& pointer) {
  const Json* at = &schema;
  size_t pos = 1;
  while (pos <= pointer.size() && !pointer.empty()) {
    size_t slash = pointer.find('/', pos);
    std::string token = pointer.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    for (size_t i = 0; (i = token.find("~1", i)) != std::string::npos;) token.replace(i, 2, "/");
    for (size_t i = 0; (i = token.find("~0", i)) != std::string::npos;) token.replace(i, 2, "~");
    if (!at->is_object() || !at->contains("properties") || !(*at)["properties"].contains(token)) return nullptr;
    at = &(*at)["properties"][token];
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return at;
}

// The stream's resume point; see the contract in rest_source.hpp.
struct StreamCursor {
  std::optional<std::string> since;  // the value sent as request_param on this run
  std::optional<std::string> max;    // the newest cursor-field value read so far
  std::optional<std::string> page;   // the page to resume at: a path under base_url, or an absolute URL
  size_t skip = 0;                   // records of `page` already emitted

  std::string encode() const {
    Json j = Json::object();
    if (since) j["since"] = *since;
    if (max) j["max"] = *max;
    if (page) {
      j["page"] = *page;
      j["skip"] = skip;
    }
    return j.dump();
  }

  static Result<StreamCursor> decode(const std::string& text) {
    StreamCursor c;
    if (text.empty()) return c;
    Json j = Json::parse(text, nullptr, false);
    auto bad = [&]() -> Result<StreamCursor> {
      return failed_precondition("the saved cursor '" + text.substr(0, 200) +
                                 "' is not a rest source cursor (was the source's type changed?); `conflux state reset` "
                                 "makes the stream start from the beginning");
    };
    if (!j.is_object()) return bad();
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if ((k == "since" || k == "max" || k == "page") && !it.value().is_string()) return bad();
      if (k == "skip" && !it.value().is_number_unsigned()) return bad();
      if (k != "since" && k != "max" && k != "page" && k != "skip") return bad();
    }
    if (j.contains("since")) c.since = j["since"].get<std::string>();
    if (j.contains("max")) c.max = j["max"].get<std::string>();
    if (j.contains("page")) c.page = j["page"].get<std::string>();
    c.skip = j.value("skip", size_t{0});
    return c;
  }
};

// Requests with the source's auth, headers, rate limit and timeout; failures as Status with actionable messages.
class Api {
 public:
  Api(const RestConfig& config, const SourceOptions& options)
      : config_(config), options_(options),
        client_(options.client ? *options.client : http::HttpClient::shared()),
        tokens_(options.tokens ? *options.tokens : http::shared_token_cache()),
        logger_(logging::get(options.logger_name)) {
    const AuthConfig& auth = config_.auth;
    std::string credential;
    switch (auth.type) {
      case AuthType::kBearer: credential = auth.token; break;
      case AuthType::kBasic: credential = auth.username + ":" + auth.password; break;
      case AuthType::kApiKey: credential = auth.value; break;
      case AuthType::kOAuth2: credential = auth.oauth2.client_id + ":" + auth.oauth2.refresh_token; break;
      case AuthType::kNone: break;
    }
    for (const std::string* secret : {&auth.token, &auth.password, &auth.value, &auth.oauth2.client_secret,
                                      &auth.oauth2.refresh_token}) {
      if (!secret->empty()) http::register_secret(*secret);
    }
    if (auth.type == AuthType::kBasic) http::register_secret(base64(credential));
    rate_key_.platform = config_.rate_limit && !config_.rate_limit->key.empty() ? config_.rate_limit->key
                                                                                  : host_of(config_.base_url);
    rate_key_.account = config_.rate_limit && !config_.rate_limit->account.empty()
                            ? config_.rate_limit->account
                            : (credential.empty() ? "default" : short_digest(credential));
    if (config_.rate_limit) {
      const RateLimitConfig& r = *config_.rate_limit;
      http::RateLimiterRegistry::process().set_limit(
          rate_key_, http::RateLimit{r.requests,
                                     std::chrono::milliseconds(static_cast<int64_t>(std::llround(r.per_seconds * 1000))),
                                     r.burst});
    }
  }

  // An absolute URL for a stored page reference (see portable()).
  std::string absolute(const std::string& page) const {
    return page.rfind('/', 0) == 0 ? config_.base_url + page : page;
  }
  // `url` without the API key parameter, and as a path when it lies under base_url, so a saved cursor holds no
  // secret and survives a change of host (a new data center, a test server's port).
  std::string portable(const std::string& url) const {
    std::string out = config_.auth.type == AuthType::kApiKey && config_.auth.in_query
                          ? http::without_query_param(url, config_.auth.name)
                          : url;
    if (out.rfind(config_.base_url, 0) == 0 &&
        (out.size() == config_.base_url.size() || out[config_.base_url.size()] == '/' ||
         out[config_.base_url.size()] == '?')) {
      out = out.substr(config_.base_url.size());
      if (out.empty() || out.front() != '/') out = "/" + out;
    }
    return out;
  }

  // GETs `url` (which never carries the API key: it is added here). OK only for a 2xx or 3xx response.
  Result<http::Response> get(const std::string& url) {
    http::Request request;
    request.url = url;
    request.headers.emplace_back("Accept", "application/json");
    for (const auto& h : config_.headers) request.headers.push_back(h);
    request.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::llround(config_.timeout_seconds * 1000)));
    request.rate_key = rate_key_;
    request.cancelled = options_.cancel;
    request.logger = logger_;
    const AuthConfig& auth = config_.auth;
    switch (auth.type) {
      case AuthType::kBearer: request.headers.emplace_back("Authorization", "Bearer " + auth.token); break;
      case AuthType::kBasic:
        request.headers.emplace_back("Authorization", "Basic " + base64(auth.username + ":" + auth.password));
        break;
      case AuthType::kApiKey:
        if (auth.in_query) request.url = http::with_query_param(request.url, auth.name, auth.value);
        else request.headers.emplace_back(auth.name, auth.value);
        break;
      case AuthType::kOAuth2: {
        auto token = tokens_.get(auth.oauth2);
        if (!token) return token.status().with_context("getting an OAuth2 access token from " + auth.oauth2.token_url);
        request.headers.emplace_back("Authorization", token->authorization());
        break;
      }
      case AuthType::kNone: break;
    }
    http::Outcome outcome = client_.send(request);
    if (auth.type == AuthType::kOAuth2 && outcome.kind == http::ErrorKind::kAuth && outcome.response.status == 401) {
      // The cached token may have been revoked before it expired: refresh once, then give up.
      tokens_.invalidate(auth.oauth2);
      auto token = tokens_.get(auth.oauth2);
      if (!token) return token.status().with_context("refreshing the OAuth2 access token after a 401");
      for (auto& [name, value] : request.headers) {
        if (name == "Authorization") value = token->authorization();
      }
      outcome = client_.send(request);
    }
    if (outcome.ok()) return std::move(outcome.response);
    if (outcome.kind == http::ErrorKind::kAuth) {
      return failed_precondition("authentication failed (HTTP " + std::to_string(outcome.response.status) +
                                 "): check `auth` in this source's config (the credential, its type and its "
                                 "permissions); " + outcome.message);
    }
    Status status = outcome.to_status();
    return Status(status.code(), outcome.message);
  }

 private:
  const RestConfig& config_;
  const SourceOptions& options_;
  http::HttpClient& client_;
  http::TokenCache& tokens_;
  std::shared_ptr<spdlog::logger> logger_;
  http::RateKey rate_key_;
};

// What a stream shares with its source: the parsed config, its compiled schema and paginator.
struct StreamPlan {
  const StreamConfig* config = nullptr;
  std::shared_ptr<const JsonSchema> schema;
  std::unique_ptr<http::Paginator> paginator;
};

// One fetched page: its body and where its records are.
struct FetchedPage {
  std::string url;
  Json body;
  const Json* records = nullptr;
  std::optional<std::string> next;
};

// Fetches `url` and computes its next page; a body that is not valid JSON is fetched again up to `body_retries`
// times, and never emitted in part.
Result<FetchedPage> fetch_page(Api& api, const StreamPlan& plan, const std::string& url, const SourceOptions& options) {
  for (int attempt = 0;; ++attempt) {
    auto response = api.get(url);
    if (!response) return response.status();
    auto body = http::parse_json_body(*response);
    if (!body) {
      if (attempt >= options.body_retries) {
        return unavailable(body.status().message() + " from GET " + http::redact_url(url) + " after " +
                           std::to_string(attempt + 1) +
                           " attempts; nothing of this page was emitted, so the cursor stays where it was");
      }
      logging::get(options.logger_name)
          ->warn("GET {}: {}; fetching the page again", http::redact_url(url), body.status().message());
      const auto wait = std::chrono::milliseconds(500 << std::min(attempt, 5));
      for (auto waited = std::chrono::milliseconds(0); waited < wait; waited += std::chrono::milliseconds(50)) {
        if (options.cancel && options.cancel->load()) return cancelled("cancelled while waiting to fetch a page again");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      continue;
    }
    FetchedPage page;
    page.url = url;
    page.body = std::move(body.value());
    auto records = http::select_records(page.body, plan.config->record_selector);
    if (!records) {
      return records.status().with_context("the page at " + http::redact_url(url) + " (record_selector '" +
                                           plan.config->record_selector + "')");
    }
    page.records = *records;
    http::Page view{url, &*response, &page.body, page.records->size()};
    auto next = plan.paginator->next(view);
    if (!next) return next.status().with_context("finding the page after " + http::redact_url(url));
    if (next->has_value() && **next == url) {
      return internal_error("the page at " + http::redact_url(url) +
                            " names itself as the next page; stopping rather than reading it forever");
    }
    page.next = std::move(next.value());
    return page;
  }
}

class RestStream final : public engine::SourceStream {
 public:
  RestStream(Api& api, const StreamPlan& plan, const SourceOptions& options, StreamCursor cursor, std::string first_url)
      : api_(api), plan_(plan), options_(options), since_(cursor.since), max_(cursor.max),
        next_url_(cursor.page ? api.absolute(*cursor.page) : std::move(first_url)), skip_(cursor.page ? cursor.skip : 0) {
    if (plan_.config->incremental && max_) max_key_ = parse_cursor_value(*max_, plan_.config->incremental->format);
  }

  Status read(size_t max_records, engine::SourceBatch& out) override {
    size_t produced = 0;
    while (produced < max_records) {
      if (page_ && index_ < page_->records->size()) {
        emit((*page_->records)[index_++], out);
        ++produced;
        continue;
      }
      if (!next_url_ || (plan_.config->max_pages > 0 && pages_read_ >= plan_.config->max_pages)) break;
      auto fetched = fetch_page(api_, plan_, *next_url_, options_);
      if (!fetched) return fetched.status();
      page_ = std::move(fetched.value());
      next_url_ = page_->next;
      ++pages_read_;
      index_ = std::min(skip_, page_->records->size());
      position_ += index_;
      skip_ = 0;
    }
    const bool page_done = !page_ || index_ >= page_->records->size();
    const bool bounded = plan_.config->max_pages > 0 && pages_read_ >= plan_.config->max_pages;
    out.end = page_done && (!next_url_ || bounded);
    out.cursor = cursor(page_done).encode();
    out.progress_done = position_;
    return Status::ok();
  }

 private:
  StreamCursor cursor(bool page_done) const {
    StreamCursor c;
    if (!page_done) {
      c.since = since_;
      c.max = max_;
      c.page = api_.portable(page_->url);
      c.skip = index_;
    } else if (next_url_) {
      c.since = since_;
      c.max = max_;
      c.page = api_.portable(*next_url_);
    } else {
      c.since = max_ ? max_ : since_;  // the listing is complete: the next run asks for what changed after it
    }
    return c;
  }

  void emit(const Json& item, engine::SourceBatch& out) {
    ++position_;
    const StreamConfig& config = *plan_.config;
    if (!item.is_object()) {
      out.invalid.push_back({position_, "stream '" + config.name + "': a record is not a JSON object", item.dump()});
      return;
    }
    if (plan_.schema) {
      auto violations = plan_.schema->validate(item);
      if (!violations.empty()) {
        out.invalid.push_back({position_, "stream '" + config.name + "': the record does not match the stream's schema: " +
                                              join_violations(violations),
                               item.dump()});
        return;
      }
    }
    if (config.incremental) {
      const IncrementalConfig& inc = *config.incremental;
      auto found = http::select(item, inc.cursor_field);
      const Json* v = found ? *found : nullptr;
      std::optional<std::string> text;
      if (v != nullptr && v->is_string()) text = v->get<std::string>();
      else if (v != nullptr && v->is_number()) text = v->dump();
      std::optional<CursorKey> key = text ? parse_cursor_value(*text, inc.format) : std::nullopt;
      if (!key) {
        out.invalid.push_back({position_,
                               "stream '" + config.name + "': cursor field '" + inc.cursor_field + "' is " +
                                   (v == nullptr || v->is_null() ? std::string("missing")
                                                                 : "'" + v->dump() + "', which does not read as the incremental format") +
                                   ", so the record cannot move the cursor",
                               item.dump()});
        return;
      }
      if (!max_key_ || *max_key_ < *key) {
        max_key_ = key;
        max_ = text;
      }
    }
    Record record(position_);
    if (config.fields.empty()) {
      for (auto it = item.begin(); it != item.end(); ++it) record.append(it.key(), to_value(it.value()));
    } else {
      for (const auto& [name, pointer] : config.fields) {
        auto found = http::select(item, pointer);
        record.append(name, found && *found ? to_value(**found) : Value::null());
      }
    }
    out.records.push_back(std::move(record));
  }

  Api& api_;
  const StreamPlan& plan_;
  const SourceOptions& options_;
  std::optional<std::string> since_;
  std::optional<std::string> max_;
  std::optional<CursorKey> max_key_;
  std::optional<std::string> next_url_;  // the page to fetch when the current one is used up
  size_t skip_ = 0;                      // records of the first fetched page already emitted by an earlier run
  std::optional<FetchedPage> page_;
  size_t index_ = 0;
  size_t pages_read_ = 0;
  uint64_t position_ = 0;  // records of this listing before the next one, for dead-letter positions
};

class RestSource final : public engine::Source {
 public:
  RestSource(RestConfig config, SourceOptions options)
      : config_(std::move(config)), options_(std::move(options)), api_(config_, options_) {
    for (const StreamConfig& stream : config_.streams) {
      StreamPlan plan;
      plan.config = &stream;
      if (!stream.schema.is_null()) {
        auto compiled = JsonSchema::compile(stream.schema, "stream '" + stream.name + "' record schema");
        if (compiled) plan.schema = *compiled;  // parse_rest_config compiled it once already
      }
      plan.paginator = make_paginator(stream.paginator);
      plans_.push_back(std::move(plan));
    }
  }

  Result<std::vector<std::string>> streams() override {
    std::vector<std::string> names;
    for (const auto& s : config_.streams) names.push_back(s.name);
    return names;
  }

  Result<std::unique_ptr<engine::SourceStream>> open(const std::string& stream, const std::string& cursor) override {
    const StreamPlan* plan = find(stream);
    if (plan == nullptr) return not_found("the rest source has no stream '" + stream + "'");
    auto decoded = StreamCursor::decode(cursor);
    if (!decoded) return decoded.status();
    StreamCursor c = std::move(decoded.value());
    if (plan->config->incremental && !c.since && !plan->config->incremental->start.empty()) {
      c.since = plan->config->incremental->start;
    }
    return std::unique_ptr<engine::SourceStream>(new RestStream(api_, *plan, options_, c, first_url(*plan, c.since)));
  }

  // Reads the first page of every stream: reaches the API, authenticates, and finds the records where the config
  // says they are.
  Status check() override {
    for (const StreamPlan& plan : plans_) {
      std::optional<std::string> since;
      if (plan.config->incremental && !plan.config->incremental->start.empty()) since = plan.config->incremental->start;
      auto page = fetch_page(api_, plan, first_url(plan, since), options_);
      if (!page) return page.status().with_context("stream '" + plan.config->name + "'");
    }
    return Status::ok();
  }

  Result<std::string> discover() override {
    Json streams = Json::array();
    for (const StreamPlan& plan : plans_) {
      const StreamConfig& s = *plan.config;
      Json fields = Json::object();
      if (!s.fields.empty()) {
        for (const auto& [name, pointer] : s.fields) {
          const Json* sub = s.schema.is_null() ? nullptr : subschema(s.schema, pointer);
          fields[name] = sub ? field_type(*sub) : "any";
        }
      } else if (s.schema.is_object() && s.schema.contains("properties") && s.schema["properties"].is_object()) {
        for (auto it = s.schema["properties"].begin(); it != s.schema["properties"].end(); ++it) {
          fields[it.key()] = field_type(it.value());
        }
      }
      Json entry = {{"name", s.name}, {"fields", fields}, {"primary_key", s.primary_key}};
      if (s.incremental) {
        entry["incremental"] = {{"cursor_field", s.incremental->cursor_field},
                                {"request_param", s.incremental->request_param}};
      }
      entry["paginator"] = s.paginator.type;
      streams.push_back(std::move(entry));
    }
    return Json{{"streams", streams}}.dump();
  }

 private:
  const StreamPlan* find(const std::string& name) const {
    for (const auto& plan : plans_) {
      if (plan.config->name == name) return &plan;
    }
    return nullptr;
  }

  std::string first_url(const StreamPlan& plan, const std::optional<std::string>& since) const {
    const StreamConfig& s = *plan.config;
    std::string url = config_.base_url + s.path;
    for (const auto& [name, value] : s.params) url = http::with_query_param(url, name, value);
    if (s.incremental && since) url = http::with_query_param(url, s.incremental->request_param, *since);
    const PaginatorConfig& p = s.paginator;
    // offset and page paginators send their page size themselves.
    if (p.page_size > 0 && !p.size_param.empty() && p.type != "offset" && p.type != "page") {
      url = http::with_query_param(url, p.size_param, std::to_string(p.page_size));
    }
    return plan.paginator->first(url);
  }

  RestConfig config_;
  SourceOptions options_;
  Api api_;
  std::vector<StreamPlan> plans_;
};

}  // namespace

std::optional<CursorKey> parse_cursor_value(const std::string& value, CursorFormat format) {
  CursorKey key;
  switch (format) {
    case CursorFormat::kRfc3339: {
      auto micros = parse_instant(value);
      if (!micros) return std::nullopt;
      key.number = *micros;
      return key;
    }
    case CursorFormat::kUnix:
    case CursorFormat::kUnixMs:
    case CursorFormat::kNumber: {
      auto number = parse_number(value);
      if (!number) return std::nullopt;
      key.number = *number;
      return key;
    }
    case CursorFormat::kString:
      key.is_text = true;
      key.text = value;
      return key;
  }
  return std::nullopt;
}

std::unique_ptr<http::Paginator> make_paginator(const PaginatorConfig& c) {
  if (c.type == "cursor") return std::make_unique<http::AfterCursorPaginator>(c.cursor_pointer, c.cursor_param);
  if (c.type == "offset") {
    return std::make_unique<http::OffsetPaginator>(c.page_size, c.offset_param, c.size_param, c.total_pointer);
  }
  if (c.type == "page") {
    return std::make_unique<http::PageNumberPaginator>(c.page_size, c.page_param, c.size_param, c.first_page,
                                                       c.pages_pointer);
  }
  if (c.type == "start") return std::make_unique<http::StartNextPaginator>(c.next_pointer, c.start_param);
  if (c.type == "page_token") return std::make_unique<http::PageTokenPaginator>(c.token_pointer, c.token_param);
  if (c.type == "link_header") return std::make_unique<http::LinkHeaderPaginator>(c.rel);
  if (c.type == "next_url") return std::make_unique<http::NextUrlPaginator>(c.next_pointer);
  return std::make_unique<SinglePage>();
}

std::unique_ptr<engine::Source> make_rest_source(RestConfig config, SourceOptions options) {
  return std::make_unique<RestSource>(std::move(config), std::move(options));
}

}  // namespace conflux::rest
