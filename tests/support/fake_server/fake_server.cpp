#include "fake_server/fake_server.hpp"

#include <Poco/Base64Encoder.h>
#include <Poco/DeflatingStream.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace conflux::test::fake {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::string current;
  for (char c : path) {
    if (c == '/') {
      if (!current.empty()) out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

std::string base64(const std::string& text) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << text;
  encoder.close();
  return out.str();
}

bool is_control(const std::string& path) { return path.rfind("/__", 0) == 0; }

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Request / Response / Auth / Fault

std::optional<std::string> Request::header(const std::string& name) const {
  std::string wanted = lower(name);
  for (const auto& [k, v] : headers) {
    if (lower(k) == wanted) return v;
  }
  return std::nullopt;
}

std::optional<std::string> Request::param(const std::string& name) const {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

std::optional<nlohmann::json> Request::json() const {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

Response Response::json(int status, const nlohmann::json& body) {
  return Response{status, {{"Content-Type", "application/json"}}, body.dump()};
}

Response Response::error(int status, const std::string& message) {
  return json(status, {{"status", "error"}, {"message", message}});
}

Auth Auth::from_json(const nlohmann::json& j) {
  Auth a;
  std::string type = j.value("type", "none");
  if (type == "none") return a;
  if (type == "bearer") {
    a.kind = Kind::kBearer;
    a.secret = j.value("token", "");
  } else if (type == "basic") {
    a.kind = Kind::kBasic;
    a.secret = j.value("user", "") + ":" + j.value("password", "");
  } else if (type == "api_key_header") {
    a.kind = Kind::kApiKeyHeader;
    a.name = j.value("name", "X-Api-Key");
    a.secret = j.value("key", "");
  } else if (type == "api_key_query") {
    a.kind = Kind::kApiKeyQuery;
    a.name = j.value("name", "api_key");
    a.secret = j.value("key", "");
  } else {
    throw std::runtime_error("unknown auth type '" + type + "'");
  }
  return a;
}

Fault Fault::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::runtime_error("a fault must be an object");
  Fault f;
  std::string type = j.value("type", "");
  if (type == "429") {
    f.kind = Kind::kRateLimit;
    f.status = 429;
  } else if (type == "5xx") {
    f.kind = Kind::kServerError;
  } else if (type == "delay") {
    f.kind = Kind::kDelay;
  } else if (type == "truncate") {
    f.kind = Kind::kTruncate;
  } else if (type == "cut_json") {
    f.kind = Kind::kCutJson;
  } else if (type == "partial_batch") {
    f.kind = Kind::kPartialBatch;
  } else {
    throw std::runtime_error("unknown fault type '" + type + "'");
  }
  f.count = j.value("count", 1);
  f.path_prefix = j.value("path", "");
  f.method = j.value("method", "");
  f.status = j.value("status", f.status);
  if (j.contains("retry_after")) {
    f.retry_after = j["retry_after"].is_string() ? j["retry_after"].get<std::string>() : j["retry_after"].dump();
  }
  if (j.contains("body")) f.body = j["body"].is_string() ? j["body"].get<std::string>() : j["body"].dump();
  f.delay_ms = j.value("delay_ms", 0);
  f.fail_every = std::max(1, j.value("fail_every", 2));
  return f;
}

// ---------------------------------------------------------------------------------------------------------------
// Poco glue

struct FakeServer::Raw {
  Poco::Net::HTTPServerRequest& request;
  Poco::Net::HTTPServerResponse& response;
};

namespace {

class PocoHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit PocoHandler(FakeServer& server) : server_(server) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    FakeServer::Raw raw{request, response};
    server_.handle(raw);
  }

 private:
  FakeServer& server_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(FakeServer& server) : server_(server) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new PocoHandler(server_);
  }

 private:
  FakeServer& server_;
};

}  // namespace

struct FakeServer::Glue {
  Poco::ThreadPool pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  explicit Glue(int threads) : pool(2, threads) {}
};

FakeServer::FakeServer(ServerOptions options) : options_(options) {}

FakeServer::~FakeServer() { stop(); }

void FakeServer::start(uint16_t port) {
  if (glue_) return;
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stopping_ = false;
  }
  auto glue = std::make_unique<Glue>(options_.threads);
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  port_ = socket.address().port();
  auto* params = new Poco::Net::HTTPServerParams;
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);  // unlimited
  params->setKeepAliveTimeout(Poco::Timespan(options_.keep_alive_seconds, 0));
  params->setMaxQueued(256);
  params->setMaxThreads(options_.threads);
  glue->server = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), glue->pool, socket, params);
  glue->server->start();
  glue_ = std::move(glue);
}

void FakeServer::stop() {
  if (!glue_) return;
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  glue_->server->stopAll(true);
  glue_->pool.joinAll();
  glue_.reset();
}

std::string FakeServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

bool FakeServer::pause(int ms) {
  std::unique_lock<std::mutex> lock(stop_mutex_);
  return !stop_cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
}

void FakeServer::route(const std::string& method, const std::string& pattern, Handler handler) {
  std::lock_guard<std::mutex> lock(mutex_);
  routes_.push_back({method, split_path(pattern), std::move(handler)});
}

void FakeServer::set_auth(Auth auth) {
  std::lock_guard<std::mutex> lock(mutex_);
  auth_ = std::move(auth);
}

void FakeServer::add_fault(Fault fault) {
  std::lock_guard<std::mutex> lock(mutex_);
  faults_.push_back(std::move(fault));
}

void FakeServer::clear_faults() {
  std::lock_guard<std::mutex> lock(mutex_);
  faults_.clear();
}

size_t FakeServer::pending_faults() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t n = 0;
  for (const Fault& f : faults_) n += static_cast<size_t>(std::max(0, f.count));
  return n;
}

std::optional<Fault> FakeServer::take_fault(const Request& request) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->count <= 0) continue;
    if (!it->path_prefix.empty() && request.path.rfind(it->path_prefix, 0) != 0) continue;
    if (!it->method.empty() && it->method != request.method) continue;
    Fault f = *it;
    if (--it->count <= 0) faults_.erase(it);
    return f;
  }
  return std::nullopt;
}

bool FakeServer::authorised(const Request& request) const {
  Auth auth;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auth = auth_;
  }
  switch (auth.kind) {
    case Auth::Kind::kNone: return true;
    case Auth::Kind::kBearer: return request.header("Authorization") == "Bearer " + auth.secret;
    case Auth::Kind::kBasic: return request.header("Authorization") == "Basic " + base64(auth.secret);
    case Auth::Kind::kApiKeyHeader: return request.header(auth.name) == auth.secret;
    case Auth::Kind::kApiKeyQuery: return request.param(auth.name) == auth.secret;
  }
  return false;
}

Response FakeServer::dispatch(Request& request) {
  std::vector<std::string> segments = split_path(request.path);
  Handler handler;
  bool path_matched = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Route& route : routes_) {
      if (route.segments.size() != segments.size()) continue;
      std::map<std::string, std::string> captures;
      bool match = true;
      for (size_t i = 0; i < segments.size() && match; ++i) {
        const std::string& p = route.segments[i];
        if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
          captures[p.substr(1, p.size() - 2)] = segments[i];
        } else {
          match = p == segments[i];
        }
      }
      if (!match) continue;
      path_matched = true;
      if (route.method != request.method) continue;
      request.path_params = std::move(captures);
      handler = route.handler;
      break;
    }
  }
  if (!handler) {
    return path_matched ? Response::error(405, "method not allowed") : Response::error(404, "no route");
  }
  try {
    return handler(request);
  } catch (const std::exception& e) {
    return Response::error(500, std::string("fake server handler threw: ") + e.what());
  }
}

Response FakeServer::control(const Request& request) {
  if (request.path == "/__faults" && request.method == "POST") {
    auto body = request.json();
    if (!body) return Response::error(400, "body is not JSON");
    try {
      nlohmann::json list = *body;
      if (body->is_object() && body->contains("faults")) {
        if (body->value("replace", false)) clear_faults();
        list = (*body)["faults"];
      }
      if (!list.is_array()) list = nlohmann::json::array({list});
      for (const auto& f : list) add_fault(Fault::from_json(f));
    } catch (const std::exception& e) {
      return Response::error(400, e.what());
    }
    return Response::json(200, {{"pending", pending_faults()}});
  }
  if (request.path == "/__faults" && request.method == "DELETE") {
    clear_faults();
    return Response::json(200, {{"pending", 0}});
  }
  if (request.path == "/__stats" && request.method == "GET") return Response::json(200, stats());
  if (request.path == "/__store" && request.method == "POST") {
    auto body = request.json();
    if (!body) return Response::error(400, "body is not JSON");
    try {
      store_.load(*body);
    } catch (const std::exception& e) {
      return Response::error(400, e.what());
    }
    return Response::json(200, {{"ok", true}});
  }
  if (request.path == "/__reset" && request.method == "POST") {
    reset_stats();
    return Response::json(200, {{"ok", true}});
  }
  return Response::error(404, "unknown control endpoint");
}

void FakeServer::handle(Raw& raw) {
  Request request;
  request.method = raw.request.getMethod();
  Poco::URI uri(raw.request.getURI());
  request.path = uri.getPath();
  request.query = uri.getRawQuery();
  for (const auto& [k, v] : uri.getQueryParameters()) request.params.emplace(k, v);
  for (const auto& [k, v] : raw.request) request.headers.emplace_back(k, v);
  std::istream& in = raw.request.stream();
  request.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const std::string client = raw.request.clientAddress().toString();

  Response response;
  std::optional<Fault> fault;
  const bool control_request = is_control(request.path);
  if (control_request) {
    response = control(request);
  } else {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      clients_.insert(client);
      max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    }
    fault = take_fault(request);
    if (fault && fault->kind == Fault::Kind::kDelay && !pause(fault->delay_ms)) {
      response = Response::error(503, "server stopping");
    } else if (fault && fault->kind == Fault::Kind::kRateLimit) {
      response = Response{429, {{"Content-Type", "application/json"}},
                          fault->body.empty() ? R"({"status":"error","message":"rate limited"})" : fault->body};
      if (!fault->retry_after.empty()) response.headers.emplace_back("Retry-After", fault->retry_after);
    } else if (fault && fault->kind == Fault::Kind::kServerError) {
      const char* fallback = R"({"status":"error","message":"injected server error"})";
      response = Response{fault->status, {{"Content-Type", "application/json"}},
                          fault->body.empty() ? fallback : fault->body};
      if (!fault->retry_after.empty()) response.headers.emplace_back("Retry-After", fault->retry_after);
    } else if (!authorised(request)) {
      response = Response::error(401, "authentication required");
    } else {
      if (fault && fault->kind == Fault::Kind::kPartialBatch) request.fail_every = fault->fail_every;
      response = dispatch(request);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    --in_flight_;
    log_.push_back({request.method, request.path, response.status, std::chrono::steady_clock::now(), client});
  }

  auto& out = raw.response;
  out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
  for (const auto& [k, v] : response.headers) out.add(k, v);
  std::string body = std::move(response.body);
  if (fault && fault->kind == Fault::Kind::kTruncate) {
    // Promise the whole body, send half, and close: the client sees the connection end mid-body.
    out.setContentLength(static_cast<std::streamsize>(body.size()));
    out.setKeepAlive(false);
    std::ostream& stream = out.send();
    stream.write(body.data(), static_cast<std::streamsize>(body.size() / 2));
    stream.flush();
    return;
  }
  if (fault && fault->kind == Fault::Kind::kCutJson) body.resize(body.size() / 2);
  auto accept = request.header("Accept-Encoding");
  if (options_.gzip && accept && accept->find("gzip") != std::string::npos && !body.empty()) {
    std::ostringstream compressed;
    {
      Poco::DeflatingOutputStream gz(compressed, Poco::DeflatingStreamBuf::STREAM_GZIP);
      gz.write(body.data(), static_cast<std::streamsize>(body.size()));
      gz.close();
    }
    body = compressed.str();
    out.set("Content-Encoding", "gzip");
  }
  out.setContentLength(static_cast<std::streamsize>(body.size()));
  out.send().write(body.data(), static_cast<std::streamsize>(body.size()));
}

// ---------------------------------------------------------------------------------------------------------------
// Counters

size_t FakeServer::request_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return log_.size();
}

size_t FakeServer::count_status(int status) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto same = [&](const LoggedRequest& r) { return r.status == status; };
  return static_cast<size_t>(std::count_if(log_.begin(), log_.end(), same));
}

size_t FakeServer::connection_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return clients_.size();
}

size_t FakeServer::max_in_flight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return max_in_flight_;
}

size_t FakeServer::max_requests_in_window(std::chrono::milliseconds window) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::chrono::steady_clock::time_point> times;
  for (const auto& r : log_) times.push_back(r.at);
  std::sort(times.begin(), times.end());
  size_t best = 0;
  size_t start = 0;
  for (size_t end = 0; end < times.size(); ++end) {
    while (times[end] - times[start] >= window) ++start;
    best = std::max(best, end - start + 1);
  }
  return best;
}

std::vector<LoggedRequest> FakeServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return log_;
}

nlohmann::json FakeServer::stats() const {
  nlohmann::json by_status = nlohmann::json::object();
  nlohmann::json by_path = nlohmann::json::object();
  nlohmann::json by_method = nlohmann::json::object();
  size_t total = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& r : log_) {
      const std::string status = std::to_string(r.status);
      by_status[status] = by_status.value(status, 0) + 1;
      nlohmann::json& path = by_path[r.method + " " + r.path];
      path[status] = path.is_object() ? path.value(status, 0) + 1 : 1;
      by_method[r.method] = by_method.value(r.method, 0) + 1;
    }
    total = log_.size();
  }
  return {{"requests", total},
          {"by_status", by_status},
          {"by_path", by_path},
          {"by_method", by_method},
          {"connections", connection_count()},
          {"max_in_flight", max_in_flight()},
          {"max_requests_in_1s", max_requests_in_window(std::chrono::seconds(1))},
          {"max_requests_in_10s", max_requests_in_window(std::chrono::seconds(10))},
          {"pending_faults", pending_faults()}};
}

void FakeServer::reset_stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  log_.clear();
  clients_.clear();
  max_in_flight_ = in_flight_;
}

}  // namespace conflux::test::fake
