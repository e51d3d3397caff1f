#include "conflux/http/client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "conflux/common/logging.hpp"
#include "conflux/http/classify.hpp"
#include "conflux/http/redact.hpp"

namespace conflux::http {
namespace {

using std::chrono::milliseconds;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string trim(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return std::string(v);
}

// Loopback hosts never go through a proxy: test servers and local sidecars live there.
bool is_loopback(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string_view authority = url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  return authority.substr(0, 4) == "127." || authority.substr(0, 9) == "localhost" || authority.substr(0, 5) == "[::1]";
}

// What one attempt collects while libcurl runs it.
struct Transfer {
  Response response;
  size_t max_body = 0;
  bool too_large = false;
  const std::atomic<bool>* cancelled = nullptr;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t->response.body.size() + n > t->max_body) {
    t->too_large = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.substr(0, 5) == "HTTP/") {
    t->response.headers.clear();  // a new response (after 100 Continue or a redirect): only the last one counts
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    t->response.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return size * count;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->cancelled && t->cancelled->load() ? 1 : 0;  // non-zero aborts with CURLE_ABORTED_BY_CALLBACK
}

ErrorKind kind_of(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return ErrorKind::kTimeout;
    case CURLE_PARTIAL_FILE: return ErrorKind::kTruncated;
    case CURLE_ABORTED_BY_CALLBACK: return ErrorKind::kCancelled;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE: return ErrorKind::kConfig;
    default: return ErrorKind::kNetwork;
  }
}

std::string seconds_text(milliseconds d) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buffer;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Impl: the share handle (DNS cache, TLS sessions) and the pool of easy handles.

struct HttpClient::Impl {
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks;
  std::mutex pool_mutex;
  std::vector<CURL*> pool;  // idle handles, most recently used last (LIFO keeps connections warm)
  static constexpr size_t kMaxIdle = 16;

  Impl() {
    global_init();
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &Impl::lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &Impl::unlock);
    curl_share_setopt(share, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~Impl() {
    for (CURL* h : pool) curl_easy_cleanup(h);
    curl_share_cleanup(share);
  }

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Impl*>(user)->share_locks[static_cast<size_t>(data) % CURL_LOCK_DATA_LAST].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Impl*>(user)->share_locks[static_cast<size_t>(data) % CURL_LOCK_DATA_LAST].unlock();
  }

  CURL* take() {
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      if (!pool.empty()) {
        CURL* h = pool.back();
        pool.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void give_back(CURL* h) {
    curl_easy_reset(h);  // forgets options; keeps live connections, DNS and TLS session caches
    std::lock_guard<std::mutex> lock(pool_mutex);
    if (pool.size() < kMaxIdle) {
      pool.push_back(h);
      return;
    }
    curl_easy_cleanup(h);
  }
};

HttpClient::HttpClient(ClientOptions options, RateLimiterRegistry& limits, Clock& clock)
    : impl_(std::make_unique<Impl>()), options_(std::move(options)), limits_(limits), clock_(clock) {}

HttpClient::~HttpClient() = default;

HttpClient& HttpClient::shared() {
  static HttpClient client([] {
    ClientOptions options;
    // The host's CA bundle, for platforms behind a private CA (the system store stays the default).
    if (const char* ca = std::getenv("CONFLUX_CA_BUNDLE"); ca != nullptr && *ca != '\0') options.ca_bundle = ca;
    return options;
  }());
  return client;
}

Outcome HttpClient::perform(const Request& request) {
  Outcome outcome;
  outcome.attempts = 1;
  CURL* h = impl_->take();
  if (h == nullptr) {
    outcome.kind = ErrorKind::kNetwork;
    outcome.message = "cannot create a libcurl handle";
    return outcome;
  }
  Transfer t;
  t.max_body = options_.max_body_bytes;
  t.cancelled = request.cancelled;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(h, CURLOPT_SHARE, impl_->share);
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  milliseconds connect = request.connect_timeout.count() > 0 ? request.connect_timeout : options_.connect_timeout;
  milliseconds total = request.timeout.count() > 0 ? request.timeout : options_.timeout;
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_bundle.c_str());
  if (options_.proxy == "none" || is_loopback(request.url)) {
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  } else if (!options_.proxy.empty()) {
    curl_easy_setopt(h, CURLOPT_PROXY, options_.proxy.c_str());
  }  // else: libcurl reads the proxy environment variables itself

  const std::string& method = request.method.empty() ? std::string("GET") : request.method;
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    if (method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "POST" || !request.body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    }
  }
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip for large bodies
  for (const auto& [name, value] : request.headers) {
    std::string line = name + (value.empty() ? ";" : ": " + value);  // "Name;" sends an empty header in libcurl
    headers = curl_slist_append(headers, line.c_str());
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);

  auto started = std::chrono::steady_clock::now();
  CURLcode code = curl_easy_perform(h);
  t.response.elapsed = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  long connects = 0;
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
  t.response.status = status;
  t.response.new_connections = connects;
  curl_slist_free_all(headers);
  impl_->give_back(h);

  const std::string where = method + " " + redact_url(request.url);
  if (code == CURLE_OK) {
    outcome.kind = classify(t.response);
    if (!outcome.ok()) {
      outcome.message = where + ": HTTP " + std::to_string(status) + " " + error_kind_name(outcome.kind);
      if (outcome.kind == ErrorKind::kQuotaExhausted) {
        outcome.message += " (the platform's daily quota is used up; resume in its next window)";
      } else if (outcome.kind == ErrorKind::kAuth) {
        outcome.message += " (check the credentials and their permissions)";
      }
      if (!t.response.body.empty()) outcome.message += ": " + redact_text(t.response.body);
    }
  } else {
    outcome.kind = t.too_large ? ErrorKind::kClient : kind_of(code);
    std::string detail = error_buffer[0] ? std::string(error_buffer) : std::string(curl_easy_strerror(code));
    if (t.too_large) {
      detail = "response larger than " + std::to_string(options_.max_body_bytes) + " bytes";
    } else if (code == CURLE_PARTIAL_FILE) {
      detail = "response body truncated after " + std::to_string(t.response.body.size()) +
               " bytes, before its Content-Length (" + detail + ")";
    }
    outcome.message = where + ": " + error_kind_name(outcome.kind) + ": " + redact_text(detail);
  }
  outcome.response = std::move(t.response);
  return outcome;
}

Outcome HttpClient::send(const Request& request) {
  register_request_secrets(request);
  RetryPolicy policy = options_.retry;
  if (request.max_attempts) policy.max_attempts = std::max(1, *request.max_attempts);
  Backoff backoff(policy);
  auto logger = request.logger ? request.logger : logging::get("http");
  const std::string method = request.method.empty() ? std::string("GET") : request.method;
  milliseconds waited{0};
  for (int attempt = 1;; ++attempt) {
    Status admitted = limits_.acquire(request.rate_key, request.cancelled);
    if (!admitted.is_ok()) {
      Outcome stopped;
      stopped.kind = ErrorKind::kCancelled;
      stopped.message = method + " " + redact_url(request.url) + ": " + admitted.message();
      stopped.attempts = attempt - 1;
      stopped.waited = waited;
      return stopped;
    }
    Outcome outcome = perform(request);
    outcome.attempts = attempt;
    outcome.waited = waited;
    const long status = outcome.response.status;
    // A transport fault after the status line (a truncated body) shows both: "200 truncated response".
    const bool transport_fault = outcome.kind == ErrorKind::kNetwork || outcome.kind == ErrorKind::kTimeout ||
                                 outcome.kind == ErrorKind::kTruncated || outcome.kind == ErrorKind::kCancelled ||
                                 outcome.kind == ErrorKind::kConfig;
    std::string status_text = status > 0 ? std::to_string(status) : std::string();
    if (transport_fault || status == 0) {
      status_text += (status_text.empty() ? "" : " ") + std::string(error_kind_name(outcome.kind));
    }
    // The request log: one line per attempt; debug when it succeeded, warn when it will be retried.
    const std::string line = method + " " + redact_url(request.url) + " -> " + status_text + " in " +
                             std::to_string(outcome.response.elapsed.count()) + " ms (attempt " +
                             std::to_string(attempt) + ")";
    if (outcome.ok()) {
      logger->debug("{}", line);
      return outcome;
    }

    std::optional<milliseconds> retry_after;
    if (auto header = outcome.response.header("Retry-After"); header && (status == 429 || status == 503)) {
      retry_after = parse_retry_after(*header, clock_.wall_now());
    }
    if (retry_after && status == 429) {
      // Every user of this bucket holds off, not just this request.
      limits_.pause_until(request.rate_key, clock_.now() + *retry_after);
    }
    if (!should_retry(policy, outcome.kind, status)) {
      logger->info("{}: {}", line, error_kind_name(outcome.kind));
      return outcome;
    }
    if (attempt >= policy.max_attempts) {
      logger->warn("{}: giving up", line);
      outcome.message += " (gave up after " + std::to_string(attempt) + " attempts)";
      return outcome;
    }
    milliseconds delay = retry_after ? *retry_after : backoff.draw(attempt - 1);
    if (waited + delay > policy.max_total_wait) {
      logger->warn("{}: giving up", line);
      outcome.message += " (gave up after " + std::to_string(attempt) + " attempts: waiting " + seconds_text(delay) +
                         " more would exceed the retry budget of " + seconds_text(policy.max_total_wait) + ")";
      return outcome;
    }
    logger->warn("{}, retrying in {}", line, seconds_text(delay));
    if (!clock_.sleep_for(delay, request.cancelled)) {
      outcome.kind = ErrorKind::kCancelled;
      outcome.message += " (cancelled while waiting to retry)";
      return outcome;
    }
    waited += delay;
  }
}

std::vector<Outcome> HttpClient::send_all(const std::vector<Request>& requests) {
  std::vector<Outcome> outcomes(requests.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < requests.size(); i = next++) outcomes[i] = send(requests[i]);
  };
  size_t threads = std::min(requests.size(), std::max<size_t>(1, options_.max_parallel));
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();  // the caller's thread works too
  for (std::thread& t : pool) t.join();
  return outcomes;
}

}  // namespace conflux::http
