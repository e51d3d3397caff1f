// A reusable loopback HTTP server for tests (Poco::Net::HTTPServer on 127.0.0.1, an ephemeral port). Tests register
// routes, keep data in its RecordStore, require credentials, and inject faults; then assert on what it counted.
//
// Lifetime: start() binds and serves; stop() (or the destructor) ends it, cutting short any injected delay. A
// platform dialect (HubSpot, Salesforce, ...) is a small module that registers its routes on a FakeServer, the way
// generic_api.hpp does.
//
// Control endpoints (never subject to auth or faults): POST /__faults adds faults (a fault object, an array, or
// {"faults":[...], "replace":true}); DELETE /__faults clears them; GET /__stats returns the counters; POST /__reset
// clears the counters and the request log; POST /__store adds or replaces records, as the data file's "collections"
// ({"calls":[{"id":..,"properties":{..},"updated_at":..}]}), standing in for changes made outside the API (a phone
// call arriving at a call tracker).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_server/record_store.hpp"

namespace conflux::test::fake {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;
  std::string path;   // decoded, without the query
  std::string query;  // raw
  std::map<std::string, std::string> params;       // decoded query parameters (first value wins)
  std::map<std::string, std::string> path_params;  // {name} captures of the route pattern
  HeaderList headers;
  std::string body;
  int fail_every = 0;  // set by a kPartialBatch fault: batch handlers fail every Nth input (1-based)

  std::optional<std::string> header(const std::string& name) const;  // case-insensitive
  std::optional<std::string> param(const std::string& name) const;
  // The body as JSON, or nullopt when it is not JSON.
  std::optional<nlohmann::json> json() const;
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;

  static Response json(int status, const nlohmann::json& body);
  static Response error(int status, const std::string& message);  // {"status":"error","message":...}
};

using Handler = std::function<Response(const Request&)>;

// Credentials every non-control route requires. kBasic's secret is "user:password".
struct Auth {
  enum class Kind { kNone, kBearer, kBasic, kApiKeyHeader, kApiKeyQuery };
  Kind kind = Kind::kNone;
  std::string secret;
  std::string name;  // the header (kApiKeyHeader) or query parameter (kApiKeyQuery)
  static Auth from_json(const nlohmann::json& j);  // {"type":"bearer","token":"..."} etc.
};

struct Fault {
  enum class Kind {
    kRateLimit,     // 429 with Retry-After `retry_after` (seconds or an HTTP-date; "" = no header), body `body`
    kServerError,   // `status` (default 503) with body `body` (and Retry-After `retry_after` when set)
    kDelay,         // wait `delay_ms` before handling
    kTruncate,      // Content-Length of the full body, but only half of it sent, then the connection is closed
    kCutJson,       // half of the body with a matching Content-Length: a clean 200 whose JSON is cut
    kPartialBatch,  // batch handlers fail every `fail_every`-th input
  };
  Kind kind = Kind::kServerError;
  int count = 1;            // requests it applies to; then it is used up
  std::string path_prefix;  // only requests whose path starts with this; "" = all
  std::string method;       // only this method; "" = all
  int status = 503;
  std::string retry_after;
  std::string body;
  int delay_ms = 0;
  int fail_every = 2;
  // {"type":"429"|"5xx"|"delay"|"truncate"|"cut_json"|"partial_batch", "count":N, "path":"/api", "method":"GET",
  //  "status":503, "retry_after":"2", "body":"...", "delay_ms":200, "fail_every":2}. Throws std::runtime_error.
  static Fault from_json(const nlohmann::json& j);
};

struct LoggedRequest {
  std::string method;
  std::string path;
  int status = 0;
  std::chrono::steady_clock::time_point at;
  std::string client;  // "ip:port": one value per TCP connection
};

struct ServerOptions {
  int threads = 16;          // handler threads; also the most concurrent requests
  bool gzip = false;         // compress bodies for clients that send Accept-Encoding: gzip
  int keep_alive_seconds = 10;
};

class FakeServer {
 public:
  explicit FakeServer(ServerOptions options = {});
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // Binds 127.0.0.1:`port` (0 = ephemeral) and serves. Throws on failure.
  void start(uint16_t port = 0);
  void stop();
  uint16_t port() const { return port_; }
  std::string base_url() const;  // "http://127.0.0.1:<port>"

  // Routes match method and path; "{name}" in the pattern captures one path segment. First match wins; no match
  // is 404 (405 when only the method differs).
  void route(const std::string& method, const std::string& pattern, Handler handler);
  void set_auth(Auth auth);
  void add_fault(Fault fault);
  void clear_faults();
  size_t pending_faults() const;

  RecordStore& store() { return store_; }

  // Counters of non-control requests.
  size_t request_count() const;
  size_t count_status(int status) const;
  size_t connection_count() const;  // distinct client connections seen
  size_t max_in_flight() const;     // most requests handled at the same time
  size_t max_requests_in_window(std::chrono::milliseconds window) const;
  std::vector<LoggedRequest> requests() const;
  nlohmann::json stats() const;
  void reset_stats();

  // Used by the Poco glue: handles one request. Public for it only.
  struct Raw;
  void handle(Raw& raw);

 private:
  std::optional<Fault> take_fault(const Request& request);
  Response dispatch(Request& request);
  Response control(const Request& request);
  bool authorised(const Request& request) const;
  // Waits up to `ms` or until stop(); returns false when stopped.
  bool pause(int ms);

  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };

  ServerOptions options_;
  RecordStore store_;
  uint16_t port_ = 0;
  struct Glue;
  std::unique_ptr<Glue> glue_;

  mutable std::mutex mutex_;  // guards everything below
  std::vector<Route> routes_;
  Auth auth_;
  std::vector<Fault> faults_;
  std::vector<LoggedRequest> log_;
  std::set<std::string> clients_;
  size_t in_flight_ = 0;
  size_t max_in_flight_ = 0;

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace conflux::test::fake
