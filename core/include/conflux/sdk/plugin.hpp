// Conflux C++ plugin SDK: a header-only layer over conflux_abi.h for plugin authors.
//
// A plugin derives from conflux::sdk::Plugin, overrides what its kinds need, and names itself once with
// CONFLUX_PLUGIN(ClassName, info). The macro exports the two ABI symbols and fences every entry point: a C++
// exception thrown by the plugin becomes an error code plus message at the boundary, never an unwind into the host.
//
// Depends on the C++17 standard library only, so third-party plugins need nothing else to build.
#ifndef CONFLUX_SDK_PLUGIN_HPP
#define CONFLUX_SDK_PLUGIN_HPP

#include <conflux/abi/conflux_abi.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace conflux::sdk {

// Thrown by plugin code to return a specific code; any other exception maps to CONFLUX_ERR_FATAL.
class Error : public std::runtime_error {
 public:
  Error(conflux_code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  conflux_code code() const noexcept { return code_; }

 private:
  conflux_code code_;
};

// Convenience constructors for the codes a plugin raises most.
inline Error config_error(const std::string& message) { return Error(CONFLUX_ERR_CONFIG, message); }
inline Error retry_error(const std::string& message) { return Error(CONFLUX_ERR_RETRY, message); }
inline Error fatal_error(const std::string& message) { return Error(CONFLUX_ERR_FATAL, message); }

namespace detail {
// The host API handed to conflux_plugin_describe; set once per library load.
inline const conflux_host_api*& host_api() {
  static const conflux_host_api* api = nullptr;
  return api;
}
inline const conflux_host_api& host() { return *host_api(); }
}  // namespace detail

// A borrowed view of one field; valid until the plugin call that received the batch returns.
class FieldView {
 public:
  explicit FieldView(const conflux_field& field) : field_(field) {}
  std::string_view name() const { return {field_.name, field_.name_len}; }
  conflux_value_type type() const { return field_.type; }
  bool is_null() const { return field_.type == CONFLUX_VALUE_NULL; }
  // Text of STRING, DECIMAL and JSON values; empty for other types.
  std::string_view text() const { return field_.text ? std::string_view(field_.text, field_.text_len) : std::string_view(); }
  int64_t as_int() const { return field_.int_value; }
  double as_double() const { return field_.double_value; }
  bool as_bool() const { return field_.int_value != 0; }
  // The value rendered as text whatever its type (null renders empty).
  std::string to_string() const {
    switch (field_.type) {
      case CONFLUX_VALUE_BOOL: return field_.int_value ? "true" : "false";
      case CONFLUX_VALUE_INT: return std::to_string(field_.int_value);
      case CONFLUX_VALUE_DOUBLE: {
        char buffer[32];
        int n = std::snprintf(buffer, sizeof buffer, "%.17g", field_.double_value);
        return std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0);
      }
      case CONFLUX_VALUE_NULL: return {};
      default: return std::string(text());
    }
  }
  const conflux_field& raw() const { return field_; }

 private:
  conflux_field field_;
};

// A borrowed view of one record of a batch.
class RecordView {
 public:
  RecordView(const conflux_batch* batch, size_t index) : batch_(batch), index_(index) {}
  size_t index() const { return index_; }
  uint64_t position() const { return detail::host().record_position(batch_, index_); }
  size_t field_count() const { return detail::host().record_field_count(batch_, index_); }
  FieldView field_at(size_t i) const {
    conflux_field f{};
    f.struct_size = sizeof f;
    detail::host().record_field_at(batch_, index_, i, &f);
    return FieldView(f);
  }
  std::optional<FieldView> find(std::string_view name) const {
    conflux_field f{};
    f.struct_size = sizeof f;
    if (!detail::host().record_field_find(batch_, index_, name.data(), name.size(), &f)) return std::nullopt;
    return FieldView(f);
  }

 private:
  const conflux_batch* batch_;
  size_t index_;
};

// A borrowed view of the batch handed to write_batch / transform_batch.
class BatchView {
 public:
  explicit BatchView(const conflux_batch* batch) : batch_(batch) {}
  size_t size() const { return detail::host().batch_size(batch_); }
  RecordView operator[](size_t i) const { return RecordView(batch_, i); }
  std::string_view stream() const {
    size_t len = 0;
    const char* name = detail::host().batch_stream(batch_, &len);
    return {name, len};
  }

 private:
  const conflux_batch* batch_;
};

// Builds output records. The host copies every value during the call, so arguments may be temporaries.
class Emitter {
 public:
  explicit Emitter(conflux_emitter* emitter) : emitter_(emitter) {}

  Emitter& begin() { detail::host().record_begin(emitter_); return *this; }
  Emitter& add_null(std::string_view name) { return add(name, CONFLUX_VALUE_NULL, {}, 0, 0); }
  Emitter& add_string(std::string_view name, std::string_view value) { return add(name, CONFLUX_VALUE_STRING, value, 0, 0); }
  Emitter& add_decimal(std::string_view name, std::string_view canonical) { return add(name, CONFLUX_VALUE_DECIMAL, canonical, 0, 0); }
  Emitter& add_json(std::string_view name, std::string_view json) { return add(name, CONFLUX_VALUE_JSON, json, 0, 0); }
  Emitter& add_int(std::string_view name, int64_t value) { return add(name, CONFLUX_VALUE_INT, {}, value, 0); }
  Emitter& add_bool(std::string_view name, bool value) { return add(name, CONFLUX_VALUE_BOOL, {}, value ? 1 : 0, 0); }
  Emitter& add_double(std::string_view name, double value) { return add(name, CONFLUX_VALUE_DOUBLE, {}, 0, value); }
  // Copies a field read from an input batch unchanged.
  Emitter& add_field(const FieldView& field) { detail::host().record_add(emitter_, &field.raw()); return *this; }
  void end(uint64_t position) { detail::host().record_end(emitter_, position); }

  void invalid(uint64_t position, std::string_view reason, std::string_view raw = {}) {
    detail::host().emit_invalid(emitter_, position, reason.data(), reason.size(), raw.data(), raw.size());
  }
  void drop(uint64_t position, std::string_view rule) { detail::host().emit_drop(emitter_, position, rule.data(), rule.size()); }
  void cursor(std::string_view value) { detail::host().emit_cursor(emitter_, value.data(), value.size()); }
  void progress(uint64_t done, uint64_t total) { detail::host().emit_progress(emitter_, done, total); }

 private:
  Emitter& add(std::string_view name, conflux_value_type type, std::string_view text, int64_t i, double d) {
    conflux_field f{};
    f.struct_size = sizeof f;
    f.type = type;
    f.name = name.data();
    f.name_len = name.size();
    f.text = text.data();
    f.text_len = text.size();
    f.int_value = i;
    f.double_value = d;
    detail::host().record_add(emitter_, &f);
    return *this;
  }
  conflux_emitter* emitter_;
};

// Per-record outcomes of a sink write.
class Results {
 public:
  explicit Results(conflux_results* results) : results_(results) {}
  void set(size_t record, conflux_write_outcome outcome, std::string_view message = {}) {
    detail::host().result_set(results_, record, outcome, message.data(), message.size());
  }
  void created(size_t record) { set(record, CONFLUX_WRITE_CREATED); }
  void updated(size_t record) { set(record, CONFLUX_WRITE_UPDATED); }
  void unchanged(size_t record) { set(record, CONFLUX_WRITE_UNCHANGED); }
  void rejected(size_t record, std::string_view reason) { set(record, CONFLUX_WRITE_REJECTED, reason); }
  void deleted(size_t record) { set(record, CONFLUX_WRITE_DELETED); }  // delete_batch only

 private:
  conflux_results* results_;
};

// What the host gives an instance: its config and its logger.
class Context {
 public:
  Context(conflux_host_context* context, std::string config_json) : context_(context), config_json_(std::move(config_json)) {}
  // The config object as JSON text, already validated against the plugin's config_schema.
  const std::string& config_json() const { return config_json_; }
  void log(int32_t level, std::string_view message) const {
    detail::host().log(context_, level, message.data(), message.size());
  }
  void info(std::string_view message) const { log(CONFLUX_LOG_INFO, message); }
  void warn(std::string_view message) const { log(CONFLUX_LOG_WARN, message); }
  bool cancelled() const { return detail::host().is_cancelled(context_) != 0; }
  // The raw handle, for host functions the SDK does not wrap.
  conflux_host_context* handle() const { return context_; }

 private:
  conflux_host_context* context_;
  std::string config_json_;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One HTTP request for Http::send. Zero / empty members take the host's defaults.
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
  uint32_t timeout_ms = 0;
  uint32_t connect_timeout_ms = 0;
  uint32_t max_attempts = 0;  // 1 = never retry
};

// What came back. The data is copied out of host memory, so a result may be kept as long as needed.
struct HttpResult {
  conflux_code code = CONFLUX_ERR_FATAL;  // CONFLUX_OK, or what to do about the failure (see http_request)
  int status = 0;                         // HTTP status; 0 when no response arrived
  HttpHeaders headers;
  std::string body;
  std::string error;  // why it failed, secrets redacted; empty on success
  uint32_t attempts = 0;

  bool ok() const { return code == CONFLUX_OK; }
  // The first value of header `name` (case-insensitive).
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& h : headers) {
      if (h.first.size() != name.size()) continue;
      bool same = true;
      for (size_t i = 0; i < name.size() && same; ++i) {
        same = std::tolower(static_cast<unsigned char>(h.first[i])) ==
               std::tolower(static_cast<unsigned char>(name[i]));
      }
      if (same) return h.second;
    }
    return std::nullopt;
  }
  // Throws Error(code, error) unless ok(): the usual way to turn a failed request into the call's return code.
  const HttpResult& throw_if_error() const {
    if (!ok()) throw Error(code, error);
    return *this;
  }
};

// HTTP through the host (ABI 1.1): connection reuse, retries with back-off and Retry-After, process-wide rate limits
// per (platform, account), redacted request logs. Use it from the plugin call that owns `context`, never from a
// thread of your own. Cheap to construct; holds no connection itself.
class Http {
 public:
  explicit Http(const Context& context) : context_(context.handle()) {}

  // True when the host offers http_request (a 1.0 host does not).
  static bool available() {
    return detail::host_api() != nullptr &&
           detail::host().struct_size > offsetof(conflux_host_api, http_request) &&
           detail::host().http_request != nullptr;
  }

  // Every later request draws from the (platform, account) bucket shared across the process. requests/period_ms
  // declare the platform's limit when the host knows none (0 = leave it to the host).
  Http& rate_limit(std::string platform, std::string account, uint32_t requests = 0, uint32_t period_ms = 0,
                   uint32_t burst = 0) {
    platform_ = std::move(platform);
    account_ = std::move(account);
    requests_ = requests;
    period_ms_ = period_ms;
    burst_ = burst;
    return *this;
  }

  HttpResult get(const std::string& url, HttpHeaders headers = {}) const {
    return send(make("GET", url, std::move(headers), {}));
  }
  HttpResult post(const std::string& url, std::string body, HttpHeaders headers = {}) const {
    return send(make("POST", url, std::move(headers), std::move(body)));
  }
  HttpResult patch(const std::string& url, std::string body, HttpHeaders headers = {}) const {
    return send(make("PATCH", url, std::move(headers), std::move(body)));
  }

  HttpResult send(const HttpRequest& request) const {
    HttpResult result;
    if (!available()) {
      result.error = "the host does not offer http_request (it speaks plugin ABI 1.0; 1.1 is needed)";
      return result;
    }
    std::vector<conflux_http_header> headers;
    headers.reserve(request.headers.size());
    for (const auto& h : request.headers) {
      conflux_http_header c{};
      c.struct_size = sizeof c;
      c.name = h.first.data();
      c.name_len = h.first.size();
      c.value = h.second.data();
      c.value_len = h.second.size();
      headers.push_back(c);
    }
    conflux_http_request r{};
    r.struct_size = sizeof r;
    r.method = request.method.data();
    r.method_len = request.method.size();
    r.url = request.url.data();
    r.url_len = request.url.size();
    r.headers = headers.empty() ? nullptr : headers.data();
    r.header_count = headers.size();
    r.body = request.body.data();
    r.body_len = request.body.size();
    r.timeout_ms = request.timeout_ms;
    r.connect_timeout_ms = request.connect_timeout_ms;
    r.max_attempts = request.max_attempts;
    if (!platform_.empty()) {
      r.rate_platform = platform_.data();
      r.rate_platform_len = platform_.size();
      r.rate_account = account_.data();
      r.rate_account_len = account_.size();
      r.rate_requests = requests_;
      r.rate_period_ms = period_ms_;
      r.rate_burst = burst_;
    }
    conflux_http_response response{};
    response.struct_size = sizeof response;
    result.code = detail::host().http_request(context_, &r, &response);
    result.status = response.status;
    result.attempts = response.attempts;
    if (response.body != nullptr) result.body.assign(response.body, response.body_len);
    if (response.error != nullptr) result.error.assign(response.error, response.error_len);
    // Header elements are as large as the host's struct_size says, which may exceed ours.
    const char* at = reinterpret_cast<const char*>(response.headers);
    const size_t stride = response.header_count > 0 ? response.headers[0].struct_size : 0;
    for (size_t i = 0; i < response.header_count && stride >= sizeof(conflux_http_header); ++i) {
      const auto* h = reinterpret_cast<const conflux_http_header*>(at + i * stride);
      result.headers.emplace_back(std::string(h->name, h->name_len), std::string(h->value, h->value_len));
    }
    detail::host().http_response_free(context_, &response);
    if (!result.ok() && result.error.empty()) {
      result.error = "HTTP request failed (code " + std::to_string(result.code) + ")";
    }
    return result;
  }

 private:
  static HttpRequest make(const char* method, const std::string& url, HttpHeaders headers, std::string body) {
    HttpRequest r;
    r.method = method;
    r.url = url;
    r.headers = std::move(headers);
    r.body = std::move(body);
    return r;
  }

  conflux_host_context* context_;
  std::string platform_;
  std::string account_;
  uint32_t requests_ = 0;
  uint32_t period_ms_ = 0;
  uint32_t burst_ = 0;
};

// One open source stream.
class StreamReader {
 public:
  virtual ~StreamReader() = default;
  // Emits at most max_records records and a cursor; returns false once the stream is exhausted.
  virtual bool read_batch(size_t max_records, Emitter& out) = 0;
};

// Base class of every SDK plugin. One object per configured pipeline step; the host calls it from one thread at a
// time. Override the members your kinds need; the defaults reject the call with a clear message.
class Plugin {
 public:
  explicit Plugin(const Context& context) : context_(context) {}
  virtual ~Plugin() = default;

  virtual void check() {}
  // JSON: {"streams":[{"name":"...","fields":{"field":"type"}}]}
  virtual std::string discover() { return "{\"streams\":[]}"; }
  virtual std::unique_ptr<StreamReader> open_stream(std::string_view /*stream*/, std::string_view /*cursor*/) {
    throw config_error("this plugin is not a source");
  }
  virtual void write_batch(const BatchView& /*batch*/, Results& /*results*/) { throw config_error("this plugin is not a sink"); }
  virtual void flush() {}
  // Mirror sync (ABI 1.2): delete the batch's records (sink.sync.key fields only) from the target; see
  // conflux_plugin.delete_batch. Only called when PluginInfo::deletes is true.
  virtual void delete_batch(const BatchView& /*batch*/, Results& /*results*/) {
    throw config_error("this sink cannot delete records");
  }
  virtual void transform_batch(const BatchView& /*batch*/, Emitter& /*out*/) {
    throw config_error("this plugin is not a transform");
  }

 protected:
  const Context& context() const { return context_; }

 private:
  Context context_;
};

// Static description a plugin passes to CONFLUX_PLUGIN.
struct PluginInfo {
  const char* name;
  const char* version;
  uint32_t kinds;
  const char* description;
  const char* config_schema;
  const char* streams;  // JSON array or nullptr
  bool deletes = false;  // sink overrides delete_batch, so pipelines may mirror into it
};

namespace detail {

struct Stream {
  std::unique_ptr<StreamReader> reader;
};

inline void set_error(conflux_error* error, std::string_view message) {
  host().error_set(error, message.data(), message.size());
}

// Runs `body` and converts any exception into a code and message: the single fence every entry point goes through.
template <typename Body>
conflux_code fenced(conflux_error* error, Body&& body) noexcept {
  try {
    return body();
  } catch (const Error& e) {
    set_error(error, e.what());
    return e.code();
  } catch (const std::exception& e) {
    set_error(error, std::string("unhandled exception: ") + e.what());
    return CONFLUX_ERR_FATAL;
  } catch (...) {
    set_error(error, "unhandled non-standard exception");
    return CONFLUX_ERR_FATAL;
  }
}

template <typename P>
struct Adapter {
  static P* self(conflux_instance* instance) { return reinterpret_cast<P*>(instance); }

  static conflux_code create(conflux_host_context* context, const char* config, size_t config_len,
                             conflux_instance** out, conflux_error* error) {
    return fenced(error, [&] {
      auto* plugin = new P(Context(context, std::string(config, config_len)));
      *out = reinterpret_cast<conflux_instance*>(plugin);
      return CONFLUX_OK;
    });
  }
  static void destroy(conflux_instance* instance) {
    try {
      delete self(instance);
    } catch (...) {
      // A throwing destructor must not unwind into the host.
    }
  }
  static conflux_code check(conflux_instance* instance, conflux_error* error) {
    return fenced(error, [&] { self(instance)->check(); return CONFLUX_OK; });
  }
  static conflux_code discover(conflux_instance* instance, conflux_text* catalog, conflux_error* error) {
    return fenced(error, [&] {
      std::string json = self(instance)->discover();
      host().text_set(catalog, json.data(), json.size());
      return CONFLUX_OK;
    });
  }
  static conflux_code open_stream(conflux_instance* instance, const char* stream, size_t stream_len, const char* cursor,
                                  size_t cursor_len, conflux_stream** out, conflux_error* error) {
    return fenced(error, [&] {
      auto holder = std::make_unique<Stream>();
      holder->reader = self(instance)->open_stream(std::string_view(stream, stream_len),
                                                   std::string_view(cursor ? cursor : "", cursor_len));
      *out = reinterpret_cast<conflux_stream*>(holder.release());
      return CONFLUX_OK;
    });
  }
  static conflux_code read_batch(conflux_stream* stream, size_t max_records, conflux_emitter* out,
                                 conflux_error* error) {
    return fenced(error, [&] {
      Emitter emitter(out);
      bool more = reinterpret_cast<Stream*>(stream)->reader->read_batch(max_records, emitter);
      return more ? CONFLUX_OK : CONFLUX_END;
    });
  }
  static void close_stream(conflux_stream* stream) {
    try {
      delete reinterpret_cast<Stream*>(stream);
    } catch (...) {
    }
  }
  static conflux_code write_batch(conflux_instance* instance, const conflux_batch* batch, conflux_results* results,
                                  conflux_error* error) {
    return fenced(error, [&] {
      Results r(results);
      self(instance)->write_batch(BatchView(batch), r);
      return CONFLUX_OK;
    });
  }
  static conflux_code flush(conflux_instance* instance, conflux_error* error) {
    return fenced(error, [&] { self(instance)->flush(); return CONFLUX_OK; });
  }
  static conflux_code delete_batch(conflux_instance* instance, const conflux_batch* batch, conflux_results* results,
                                   conflux_error* error) {
    return fenced(error, [&] {
      Results r(results);
      self(instance)->delete_batch(BatchView(batch), r);
      return CONFLUX_OK;
    });
  }
  static conflux_code transform_batch(conflux_instance* instance, const conflux_batch* batch, conflux_emitter* out,
                                      conflux_error* error) {
    return fenced(error, [&] {
      Emitter emitter(out);
      self(instance)->transform_batch(BatchView(batch), emitter);
      return CONFLUX_OK;
    });
  }

  static const conflux_plugin* describe(const conflux_host_api* api, const PluginInfo& info) {
    if (api == nullptr || (api->abi_version >> 16) != CONFLUX_ABI_VERSION_MAJOR) return nullptr;
    host_api() = api;
    static conflux_plugin plugin = [&] {
      conflux_plugin p{};
      p.struct_size = sizeof p;
      p.name = info.name;
      p.version = info.version;
      p.kinds = info.kinds;
      p.description = info.description;
      p.config_schema = info.config_schema;
      p.streams = info.streams;
      p.create = &create;
      p.destroy = &destroy;
      p.check = &check;
      p.discover = &discover;
      if (info.kinds & CONFLUX_KIND_SOURCE) {
        p.open_stream = &open_stream;
        p.read_batch = &read_batch;
        p.close_stream = &close_stream;
      }
      if (info.kinds & CONFLUX_KIND_SINK) {
        p.write_batch = &write_batch;
        p.flush = &flush;
        if (info.deletes) p.delete_batch = &delete_batch;
      }
      if (info.kinds & CONFLUX_KIND_TRANSFORM) p.transform_batch = &transform_batch;
      return p;
    }();
    return &plugin;
  }
};

}  // namespace detail
}  // namespace conflux::sdk

// Exports the plugin class `PluginClass` described by the conflux::sdk::PluginInfo expression `info`.
#define CONFLUX_PLUGIN(PluginClass, ...)                                                                      \
  extern "C" CONFLUX_PLUGIN_EXPORT uint32_t conflux_plugin_abi_version(void) { return CONFLUX_ABI_VERSION; } \
  extern "C" CONFLUX_PLUGIN_EXPORT const conflux_plugin* conflux_plugin_describe(const conflux_host_api* host) { \
    static const ::conflux::sdk::PluginInfo conflux_info_ = __VA_ARGS__;                                     \
    return ::conflux::sdk::detail::Adapter<PluginClass>::describe(host, conflux_info_);                       \
  }

#endif  // CONFLUX_SDK_PLUGIN_HPP
