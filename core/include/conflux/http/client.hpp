// The host's HTTP client over libcurl, offered to plugins through conflux_host_api.http_request so that no plugin
// links an HTTP stack of its own.
//
// send() is the whole policy for one request: take a token from the request's rate-limit bucket, make an attempt,
// classify the outcome, and retry transient ones under the RetryPolicy (honouring Retry-After, pausing the bucket on
// a 429). Every attempt logs one line: method, redacted URL, status, milliseconds, attempt number.
//
// Connections: each thread reuses pooled easy handles, and each handle keeps its connections alive, so sequential
// requests to one host reuse one connection. DNS answers and TLS sessions are shared between handles through a curl
// share handle. (libcurl cannot share one connection cache between concurrent threads safely, so connections are
// not shared.)
//
// TLS peers are verified unless verify_tls is false; `ca_bundle` replaces the system CA store. Proxies come from the
// environment as libcurl reads it (http_proxy, https_proxy, all_proxy, no_proxy, and their upper-case forms except
// HTTP_PROXY); loopback addresses never go through a proxy.
//
// Thread-safe: one client serves any number of threads; send_all() runs requests concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "conflux/http/clock.hpp"
#include "conflux/http/message.hpp"
#include "conflux/http/rate_limiter.hpp"
#include "conflux/http/retry.hpp"

namespace conflux::http {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{60'000};  // one attempt, connect included
  bool verify_tls = true;
  std::string ca_bundle;   // PEM file of trusted CAs; empty = the system store
  std::string proxy;       // empty = from the environment; "none" = never use a proxy
  std::string user_agent = "conflux-http/1";
  size_t max_body_bytes = 256u << 20;  // a larger response fails the attempt (kClient, not retried)
  size_t max_parallel = 8;             // send_all() concurrency
  RetryPolicy retry;
};

class HttpClient {
 public:
  // `limits` and `clock` must outlive the client. The clock paces retries only; transfers use real time.
  explicit HttpClient(ClientOptions options = {}, RateLimiterRegistry& limits = RateLimiterRegistry::process(),
                      Clock& clock = system_clock());
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // The client of the process (default options, the process rate limiter), created on first use.
  static HttpClient& shared();

  // Sends `request` with rate limiting and retries. Never throws.
  Outcome send(const Request& request);
  // Sends every request concurrently (at most options.max_parallel at once); outcomes in request order.
  std::vector<Outcome> send_all(const std::vector<Request>& requests);
  // One attempt, no rate limit, no retry, no log line. Never throws.
  Outcome perform(const Request& request);

  const ClientOptions& options() const { return options_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ClientOptions options_;
  RateLimiterRegistry& limits_;
  Clock& clock_;
};

}  // namespace conflux::http
