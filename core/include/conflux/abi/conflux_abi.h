/*
 * Conflux plugin ABI, version 1.
 *
 * This is the only contract between the Conflux host and a connector plugin (a shared library). It is pure C with
 * standard includes only, so a plugin can be written in any language that can export C functions.
 *
 * Rules that keep old plugins loading:
 *   - Versioning: a plugin reports the ABI version it was built against (CONFLUX_ABI_VERSION). The host loads it when
 *     the major matches its own and the plugin's minor is no newer than the host's.
 *   - Every struct starts with `struct_size`, set by whoever fills the struct to the sizeof it was compiled with.
 *     Structs only ever grow at their end. A reader zero-fills the tail it does not receive, so a member a smaller
 *     (older) struct lacks reads as 0 / NULL, meaning "not provided".
 *   - conflux_host_api only grows at its end: new host functions are appended, none is removed or reordered.
 *   - No exception, C++ type or allocator crosses this boundary. Whoever allocates a pointer frees it.
 *
 * Handles (conflux_instance, conflux_stream) are opaque to the host; handles the host passes (conflux_host_context,
 * conflux_emitter, conflux_batch, conflux_results, conflux_text, conflux_error) are opaque to the plugin and are
 * read and written only through conflux_host_api functions.
 *
 * Threading: the host calls into one plugin instance from one thread at a time, but not always the same thread.
 * Distinct instances may be called concurrently. Host functions may be called from the thread of the current call.
 */
#ifndef CONFLUX_ABI_CONFLUX_ABI_H
#define CONFLUX_ABI_CONFLUX_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONFLUX_ABI_VERSION_MAJOR 1
#define CONFLUX_ABI_VERSION_MINOR 2 /* 1.1: http_request, http_response_free, CONFLUX_ERR_QUOTA; 1.2: delete_batch */
/* Packed as (major << 16) | minor. */
#define CONFLUX_ABI_VERSION ((uint32_t)((CONFLUX_ABI_VERSION_MAJOR << 16) | CONFLUX_ABI_VERSION_MINOR))

#if defined(_WIN32)
#define CONFLUX_PLUGIN_EXPORT __declspec(dllexport)
#else
#define CONFLUX_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/*
 * Result of every plugin call. The code tells the host what to do next; the message travels separately through
 * conflux_host_api.error_set.
 */
typedef int32_t conflux_code;
#define CONFLUX_OK 0           /* success */
#define CONFLUX_END 1          /* source: the stream has no more records now (not an error) */
#define CONFLUX_ERR_RETRY 2    /* transient fault (network, 429, 5xx): the host may retry the same call later */
#define CONFLUX_ERR_RECORD 3   /* the input record is at fault: dead-letter it and go on */
#define CONFLUX_ERR_CONFIG 4   /* configuration or credentials are wrong: fix them first, retrying will not help */
#define CONFLUX_ERR_FATAL 5    /* anything else: give up the run */
#define CONFLUX_ERR_TIMEOUT 6  /* an operation ran out of time; retryable like CONFLUX_ERR_RETRY */
/* Since 1.1: a platform quota (e.g. a daily request limit) is used up. Not retried: the run stops with the cursor
 * at the last committed batch, to resume in the quota's next window. A 1.0 host treats it like CONFLUX_ERR_FATAL. */
#define CONFLUX_ERR_QUOTA 7

/* Plugin kinds, combined as a bit mask in conflux_plugin.kinds. */
#define CONFLUX_KIND_SOURCE 1u
#define CONFLUX_KIND_SINK 2u
#define CONFLUX_KIND_TRANSFORM 4u

/* Value types of a record field. */
typedef int32_t conflux_value_type;
#define CONFLUX_VALUE_NULL 0
#define CONFLUX_VALUE_BOOL 1    /* int_value is 0 or 1 */
#define CONFLUX_VALUE_INT 2     /* int_value */
#define CONFLUX_VALUE_DOUBLE 3  /* double_value */
#define CONFLUX_VALUE_STRING 4  /* text/text_len, UTF-8, not NUL-terminated */
#define CONFLUX_VALUE_DECIMAL 5 /* text/text_len: exact decimal in canonical form, e.g. "-12.50" */
#define CONFLUX_VALUE_JSON 6    /* text/text_len: a serialized JSON array or object */

/* Outcomes a sink reports per record. */
typedef int32_t conflux_write_outcome;
#define CONFLUX_WRITE_CREATED 1
#define CONFLUX_WRITE_UPDATED 2
#define CONFLUX_WRITE_UNCHANGED 3
#define CONFLUX_WRITE_REJECTED 4 /* the record's fault; message says why; the host dead-letters it */
#define CONFLUX_WRITE_DELETED 5  /* since 1.2, delete_batch only: the target held the record and deleted it */

/* Log levels for conflux_host_api.log. */
#define CONFLUX_LOG_DEBUG 0
#define CONFLUX_LOG_INFO 1
#define CONFLUX_LOG_WARN 2
#define CONFLUX_LOG_ERROR 3

/* Opaque host-owned handles. OWNERSHIP: host; valid only during the plugin call they are passed to, except
 * conflux_host_context, which is valid from create() until destroy() returns. */
typedef struct conflux_host_context conflux_host_context;
typedef struct conflux_emitter conflux_emitter;
typedef struct conflux_batch conflux_batch;
typedef struct conflux_results conflux_results;
typedef struct conflux_text conflux_text;
typedef struct conflux_error conflux_error;

/* Opaque plugin-owned handles. OWNERSHIP: plugin; created by create()/open_stream(), freed by the plugin in
 * destroy()/close_stream(), which the host calls exactly once for every handle it received. */
typedef struct conflux_instance conflux_instance;
typedef struct conflux_stream conflux_stream;

/*
 * One field of a record.
 * OWNERSHIP: when the plugin passes it to record_add, the plugin owns every pointer and the host copies the data
 * before returning. When the host fills it (record_field_at / record_field_find), the pointers are borrowed from the
 * host and stay valid until the plugin call that received the batch returns.
 */
typedef struct conflux_field {
  uint32_t struct_size;
  conflux_value_type type;
  const char *name;
  size_t name_len;
  const char *text; /* STRING, DECIMAL, JSON */
  size_t text_len;
  int64_t int_value;   /* BOOL, INT */
  double double_value; /* DOUBLE */
} conflux_field;

/*
 * HTTP through the host (since 1.1): the host's client reuses connections, paces requests by shared rate limits,
 * retries transient failures and redacts secrets from its logs, so a plugin needs no HTTP library of its own.
 */

/* One header. OWNERSHIP: in a request, the plugin's (read during the call only); in a response, the host's (see
 * conflux_http_response). In an array, every element has the same struct_size: step through it by that size. */
typedef struct conflux_http_header {
  uint32_t struct_size;
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} conflux_http_header;

/* A request. OWNERSHIP: plugin; the host reads it, and everything it points to, during http_request only.
 * 0 / NULL members mean "not provided" and take the host's default. */
typedef struct conflux_http_request {
  uint32_t struct_size;
  const char *method; /* "GET" (NULL), "POST", "PATCH", "PUT", "DELETE", "HEAD" */
  size_t method_len;
  const char *url; /* absolute http:// or https:// URL; required */
  size_t url_len;
  const conflux_http_header *headers; /* header_count elements, or NULL */
  size_t header_count;
  const char *body; /* sent as is; set Content-Type in headers */
  size_t body_len;
  uint32_t timeout_ms;         /* one attempt, connect included; 0 = host default (60 s) */
  uint32_t connect_timeout_ms; /* 0 = host default (10 s) */
  /* Rate-limit key: requests with the same (platform, account) share one token bucket across the whole process
   * (every pipeline and plugin instance). NULL platform = not rate limited. */
  const char *rate_platform;
  size_t rate_platform_len;
  const char *rate_account;
  size_t rate_account_len;
  /* The limit of that key, used when the host has none configured or documented for it yet: rate_requests per
   * rate_period_ms, bursts of up to rate_burst (0 = rate_requests). 0 = leave the limit to the host. */
  uint32_t rate_requests;
  uint32_t rate_period_ms;
  uint32_t rate_burst;
  /* Attempts in total, the first included (1 = never retry); 0 = host default (5). */
  uint32_t max_attempts;
} conflux_http_request;

/* A response, filled by the host. OWNERSHIP: host; every pointer stays valid until the next http_request with the
 * same context or http_response_free, whichever comes first. The host fills no more than the caller's struct_size. */
typedef struct conflux_http_response {
  uint32_t struct_size;
  int32_t status; /* HTTP status of the last attempt; 0 when no response arrived */
  const conflux_http_header *headers;
  size_t header_count;
  const char *body; /* decoded (gzip is undone); not NUL-terminated */
  size_t body_len;
  const char *error; /* why the request failed, secrets redacted; "" on success; NUL-terminated */
  size_t error_len;
  uint32_t attempts;   /* attempts made, retries included */
  uint32_t elapsed_ms; /* of the last attempt */
} conflux_http_response;

/*
 * Functions the host offers to plugins. OWNERSHIP: host; valid from conflux_plugin_describe() until the library is
 * unloaded. Grows only at its end: check struct_size (or use the SDK) before calling a member added after 1.0.
 * All functions are safe to call with the handles of the current call; none of them throws or fails loudly: a
 * misuse is recorded and reported by the host after the call returns.
 */
typedef struct conflux_host_api {
  uint32_t struct_size;
  uint32_t abi_version; /* the host's CONFLUX_ABI_VERSION */

  /* Sets the message that explains a non-OK return code. The host copies it. */
  void (*error_set)(conflux_error *error, const char *message, size_t message_len);
  /* Logs through the instance's logger, whose prefix names the pipeline, stage and plugin. Never pass secrets. */
  void (*log)(conflux_host_context *context, int32_t level, const char *message, size_t message_len);
  /* Non-zero once the user asked the run to stop; long calls should return soon after. */
  int32_t (*is_cancelled)(conflux_host_context *context);

  /* Emitting records (sources and transforms). A record is record_begin, any number of record_add, record_end.
   * Sources: `position` is where the record came from (e.g. 1-based line number; 0 if unknown).
   * Transforms: `position` is the index of the input record this output record came from. */
  void (*record_begin)(conflux_emitter *emitter);
  void (*record_add)(conflux_emitter *emitter, const conflux_field *field);
  void (*record_end)(conflux_emitter *emitter, uint64_t position);
  /* Sources: input that cannot become a record (ragged row, invalid UTF-8...). Transforms: `position` is the input
   * index and the stage's on_invalid rule decides between dead letter, drop and failing the run. */
  void (*emit_invalid)(conflux_emitter *emitter, uint64_t position, const char *reason, size_t reason_len,
                       const char *raw, size_t raw_len);
  /* Transforms: the input record at `position` is dropped on purpose by `rule` (e.g. a filter). */
  void (*emit_drop)(conflux_emitter *emitter, uint64_t position, const char *rule, size_t rule_len);
  /* Sources: the cursor to resume after everything emitted so far. Opaque text for the host; the host commits it
   * once the sink has accepted the batch and hands it back to open_stream on the next run. */
  void (*emit_cursor)(conflux_emitter *emitter, const char *cursor, size_t cursor_len);
  /* Sources: progress for the user's display; total 0 when unknown. Units are the plugin's (bytes, records). */
  void (*emit_progress)(conflux_emitter *emitter, uint64_t done, uint64_t total);

  /* Reading a batch (sinks and transforms). Indexes are 0-based. out->struct_size must be set by the caller; the
   * host fills no more than that. Return 1 when the field exists, 0 otherwise. */
  size_t (*batch_size)(const conflux_batch *batch);
  const char *(*batch_stream)(const conflux_batch *batch, size_t *name_len);
  size_t (*record_field_count)(const conflux_batch *batch, size_t record);
  int32_t (*record_field_at)(const conflux_batch *batch, size_t record, size_t field, conflux_field *out);
  int32_t (*record_field_find)(const conflux_batch *batch, size_t record, const char *name, size_t name_len,
                               conflux_field *out);
  uint64_t (*record_position)(const conflux_batch *batch, size_t record);

  /* Sinks: the outcome of record `record` of the batch being written. Every record needs exactly one outcome;
   * a record left without one is dead-lettered by the host as "sink reported no outcome". */
  void (*result_set)(conflux_results *results, size_t record, conflux_write_outcome outcome, const char *message,
                     size_t message_len);

  /* Returns text to the host (discover). The host copies it. */
  void (*text_set)(conflux_text *text, const char *value, size_t value_len);

  /* ---- Since 1.1: check struct_size > offsetof(conflux_host_api, member) before calling. ---- */

  /* Sends `request` with the host's retries and rate limits and fills `response` (response->struct_size must be
   * set). Call it from the thread of the current call, with that call's context. The code says what to do:
   *   CONFLUX_OK           a 1xx-3xx response arrived.
   *   CONFLUX_ERR_RETRY    transient and the host's retries are used up (network error, truncated body, 429, 5xx),
   *                        or the run was cancelled.
   *   CONFLUX_ERR_TIMEOUT  the last attempt ran out of time.
   *   CONFLUX_ERR_CONFIG   401/403 (credentials), a TLS verification failure or an unusable URL.
   *   CONFLUX_ERR_QUOTA    the platform's daily (long-window) quota is used up.
   *   CONFLUX_ERR_FATAL    any other 4xx (read status and body: the request was at fault), or a misuse.
   * response->status, headers and body describe the last response whenever one arrived, whatever the code. */
  conflux_code (*http_request)(conflux_host_context *context, const conflux_http_request *request,
                               conflux_http_response *response);
  /* Releases the memory behind `response` early and zeroes its pointers. Optional: the next http_request with the
   * same context releases it anyway, and so does destroy(). */
  void (*http_response_free)(conflux_host_context *context, conflux_http_response *response);
} conflux_host_api;

/*
 * What a plugin is and what it can do. Filled by the plugin; OWNERSHIP: plugin, static storage that stays valid until
 * the library is unloaded. Callbacks a kind does not need are NULL. Every callback returns a conflux_code and, when it
 * is not CONFLUX_OK/CONFLUX_END, sets a message with error_set.
 */
typedef struct conflux_plugin {
  uint32_t struct_size;
  const char *name;          /* unique plugin name used in pipeline files, e.g. "csv" */
  const char *version;       /* the plugin's own version, e.g. "1.2.0" */
  uint32_t kinds;            /* CONFLUX_KIND_* bit mask */
  const char *description;   /* one line */
  const char *config_schema; /* JSON Schema (draft-07) of the config object; the host validates before create() */
  const char *streams;       /* JSON array of the stream names a source offers, or NULL when only discover knows */

  /* Creates an instance from its validated config (a JSON object, UTF-8). The plugin keeps `context` for log and
   * is_cancelled calls. On success *instance is set and owned by the plugin until destroy(). */
  conflux_code (*create)(conflux_host_context *context, const char *config_json, size_t config_len,
                         conflux_instance **instance, conflux_error *error);
  void (*destroy)(conflux_instance *instance);
  /* Optional: verifies the config reaches what it names (files exist, credentials work), without reading data. */
  conflux_code (*check)(conflux_instance *instance, conflux_error *error);
  /* Optional: describes the streams and their fields as JSON: {"streams":[{"name":..,"fields":{...}}]}. */
  conflux_code (*discover)(conflux_instance *instance, conflux_text *catalog, conflux_error *error);

  /* Source: open `stream` to resume after `cursor` (empty on the first run). */
  conflux_code (*open_stream)(conflux_instance *instance, const char *stream, size_t stream_len, const char *cursor,
                              size_t cursor_len, conflux_stream **out, conflux_error *error);
  /* Source: emit at most `max_records` records (plus any invalid input met on the way) and a cursor. Returns
   * CONFLUX_OK while more may follow, CONFLUX_END when the stream is exhausted (it may still have emitted). */
  conflux_code (*read_batch)(conflux_stream *stream, size_t max_records, conflux_emitter *out, conflux_error *error);
  void (*close_stream)(conflux_stream *stream);

  /* Sink: write the batch and give every record an outcome with result_set. Returning CONFLUX_OK means the plugin
   * accepts responsibility for every record marked CREATED/UPDATED/UNCHANGED (durable after flush()). */
  conflux_code (*write_batch)(conflux_instance *instance, const conflux_batch *batch, conflux_results *results,
                              conflux_error *error);
  /* Optional, sink: make everything written so far durable. The host calls it before committing cursors. */
  conflux_code (*flush)(conflux_instance *instance, conflux_error *error);

  /* Transform: for each input record emit one output record (record_end with its index), or emit_drop, or
   * emit_invalid. An input record given none of these is dead-lettered by the host. */
  conflux_code (*transform_batch)(conflux_instance *instance, const conflux_batch *batch, conflux_emitter *out,
                                  conflux_error *error);

  /* ---- Since 1.2: the host reads these only when struct_size covers them. ---- */

  /* Optional, sink: delete from the target the records of `batch` (mirror sync: they left every source). Each record
   * holds only the pipeline's sink.sync.key fields, as strings; batch_stream is empty, so the sink deletes from the
   * object type its config names. Give every record one outcome: CONFLUX_WRITE_DELETED, CONFLUX_WRITE_UNCHANGED when
   * the target no longer holds it, or CONFLUX_WRITE_REJECTED with the target's reason (the host then fails the run
   * and retries the delete on the next mirror run). A sink without it cannot mirror; the host refuses such a pipeline. */
  conflux_code (*delete_batch)(conflux_instance *instance, const conflux_batch *batch, conflux_results *results,
                               conflux_error *error);
} conflux_plugin;

/*
 * The two symbols every plugin exports.
 *
 * conflux_plugin_abi_version: the CONFLUX_ABI_VERSION the plugin was built against. The host calls it first and
 * calls nothing else when the version is not compatible.
 *
 * conflux_plugin_describe: returns the plugin's description, or NULL when the plugin cannot work with this host (it
 * may log why first). `host` stays valid until the library is unloaded.
 */
typedef uint32_t (*conflux_plugin_abi_version_fn)(void);
typedef const conflux_plugin *(*conflux_plugin_describe_fn)(const conflux_host_api *host);
#define CONFLUX_PLUGIN_ABI_VERSION_SYMBOL "conflux_plugin_abi_version"
#define CONFLUX_PLUGIN_DESCRIBE_SYMBOL "conflux_plugin_describe"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CONFLUX_ABI_CONFLUX_ABI_H */
