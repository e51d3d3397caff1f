// Plugins' HTTP requests go through the host's shared client (conflux::http::HttpClient::shared()), so every
// plugin instance in the process shares its connections, its rate-limit buckets and its redaction.
#include "host_http.hpp"

#include <cstring>

#include "conflux/http/client.hpp"
#include "handles.hpp"

namespace conflux::plugin_host {
namespace {

std::string text(const char* data, size_t len) { return data ? std::string(data, len) : std::string(); }

template <typename T>
T read_prefix(const void* in, size_t size) {
  T out{};
  if (in != nullptr) std::memcpy(&out, in, size < sizeof(T) ? size : sizeof(T));
  return out;
}

// Copies `filled` into the plugin's struct, no more than its struct_size (an older plugin's may be smaller).
void write_response(conflux_http_response* out, const conflux_http_response& filled) {
  uint32_t size = out->struct_size;
  conflux_http_response copy = filled;
  copy.struct_size = size;
  std::memcpy(out, &copy, size < sizeof copy ? size : sizeof copy);
}

conflux_code code_of(http::ErrorKind kind) {
  switch (kind) {
    case http::ErrorKind::kNone: return CONFLUX_OK;
    case http::ErrorKind::kTimeout: return CONFLUX_ERR_TIMEOUT;
    case http::ErrorKind::kNetwork:
    case http::ErrorKind::kTruncated:
    case http::ErrorKind::kRateLimited:
    case http::ErrorKind::kServer:
    case http::ErrorKind::kCancelled: return CONFLUX_ERR_RETRY;
    case http::ErrorKind::kAuth:
    case http::ErrorKind::kConfig: return CONFLUX_ERR_CONFIG;
    case http::ErrorKind::kQuotaExhausted: return CONFLUX_ERR_QUOTA;
    case http::ErrorKind::kClient: return CONFLUX_ERR_FATAL;
  }
  return CONFLUX_ERR_FATAL;
}

// Stores `outcome` in the context and points `out` at it.
conflux_code answer(conflux_host_context* context, conflux_http_response* out, const http::Outcome& outcome,
                    conflux_code code) {
  auto storage = std::make_unique<HttpResponseStorage>();
  storage->body = outcome.response.body;
  storage->error = outcome.message;
  for (const auto& [name, value] : outcome.response.headers) {
    storage->header_text.push_back(name);
    storage->header_text.push_back(value);
  }
  for (size_t i = 0; i + 1 < storage->header_text.size(); i += 2) {
    conflux_http_header h{};
    h.struct_size = sizeof h;
    h.name = storage->header_text[i].data();
    h.name_len = storage->header_text[i].size();
    h.value = storage->header_text[i + 1].data();
    h.value_len = storage->header_text[i + 1].size();
    storage->headers.push_back(h);
  }
  conflux_http_response filled{};
  filled.status = static_cast<int32_t>(outcome.response.status);
  filled.headers = storage->headers.empty() ? nullptr : storage->headers.data();
  filled.header_count = storage->headers.size();
  filled.body = storage->body.data();
  filled.body_len = storage->body.size();
  filled.error = storage->error.c_str();
  filled.error_len = storage->error.size();
  filled.attempts = static_cast<uint32_t>(outcome.attempts);
  filled.elapsed_ms = static_cast<uint32_t>(outcome.response.elapsed.count());
  context->http_response = std::move(storage);
  write_response(out, filled);
  return code;
}

conflux_code misuse(conflux_host_context* context, conflux_http_response* out, std::string message) {
  http::Outcome outcome;
  outcome.kind = http::ErrorKind::kClient;
  outcome.message = "http_request: " + std::move(message);
  return answer(context, out, outcome, CONFLUX_ERR_FATAL);
}

}  // namespace

conflux_code http_request(conflux_host_context* context, const conflux_http_request* request,
                          conflux_http_response* response) {
  if (context == nullptr || response == nullptr || response->struct_size == 0) return CONFLUX_ERR_FATAL;
  try {
    context->http_response.reset();  // the previous response's memory ends here, as the ABI says
    if (request == nullptr) return misuse(context, response, "request is NULL");
    auto in = read_prefix<conflux_http_request>(request, request->struct_size);
    http::Request r;
    r.method = in.method ? text(in.method, in.method_len) : "GET";
    r.url = text(in.url, in.url_len);
    if (r.url.empty()) return misuse(context, response, "the request has no URL");
    if (in.header_count > 0) {
      if (in.headers == nullptr) return misuse(context, response, "header_count > 0 but headers is NULL");
      const uint32_t stride = in.headers[0].struct_size;
      if (stride < offsetof(conflux_http_header, value_len) + sizeof(size_t)) {
        return misuse(context, response, "headers[0].struct_size is too small");
      }
      const char* base = reinterpret_cast<const char*>(in.headers);
      for (size_t i = 0; i < in.header_count; ++i) {
        auto h = read_prefix<conflux_http_header>(base + i * stride, stride);
        if (h.name == nullptr || h.name_len == 0) return misuse(context, response, "a header has no name");
        r.headers.emplace_back(text(h.name, h.name_len), text(h.value, h.value_len));
      }
    }
    r.body = text(in.body, in.body_len);
    r.timeout = std::chrono::milliseconds(in.timeout_ms);
    r.connect_timeout = std::chrono::milliseconds(in.connect_timeout_ms);
    r.rate_key = {text(in.rate_platform, in.rate_platform_len), text(in.rate_account, in.rate_account_len)};
    if (!r.rate_key.empty() && in.rate_requests > 0 && in.rate_period_ms > 0) {
      http::RateLimiterRegistry::process().set_limit_if_absent(
          r.rate_key, http::RateLimit{static_cast<int>(in.rate_requests), std::chrono::milliseconds(in.rate_period_ms),
                                      static_cast<int>(in.rate_burst)});
    }
    if (in.max_attempts > 0) r.max_attempts = static_cast<int>(in.max_attempts);
    r.cancelled = context->cancelled;
    r.logger = context->logger;
    http::Outcome outcome = http::HttpClient::shared().send(r);
    return answer(context, response, outcome, code_of(outcome.kind));
  } catch (const std::exception& e) {
    try {
      return misuse(context, response, std::string("host error: ") + e.what());
    } catch (...) {
      return CONFLUX_ERR_FATAL;
    }
  } catch (...) {
    return CONFLUX_ERR_FATAL;
  }
}

void http_response_free(conflux_host_context* context, conflux_http_response* response) {
  if (context != nullptr) context->http_response.reset();
  if (response != nullptr && response->struct_size > 0) {
    conflux_http_response empty{};
    write_response(response, empty);
  }
}

}  // namespace conflux::plugin_host
