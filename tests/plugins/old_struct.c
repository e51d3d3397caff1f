/*
 * An "old" plugin written in plain C against the raw ABI: its conflux_plugin ends before `flush` and
 * `transform_batch` (as if those were added in a later minor), and its conflux_field is filled with a smaller
 * struct_size. The host must load it, treat the missing members as absent, and run it.
 * Emits `count` records {n: <int>, label: "row <n>"} from the stream "numbers"; the cursor is the next n.
 */
#include <conflux/abi/conflux_abi.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const conflux_host_api *g_host;

typedef struct {
  long long count;
} instance_t;
typedef struct {
  instance_t *instance;
  long long next;
} stream_t;

static conflux_code create(conflux_host_context *ctx, const char *config, size_t len, conflux_instance **out,
                           conflux_error *err) {
  (void)ctx;
  (void)err;
  instance_t *inst = calloc(1, sizeof *inst);
  char buffer[256] = {0};
  memcpy(buffer, config, len < 255 ? len : 255);
  const char *at = strstr(buffer, "\"count\":");
  inst->count = at ? atoll(at + 8) : 10;
  *out = (conflux_instance *)inst;
  return CONFLUX_OK;
}
static void destroy(conflux_instance *inst) { free(inst); }
static conflux_code open_stream(conflux_instance *inst, const char *stream, size_t stream_len, const char *cursor,
                                size_t cursor_len, conflux_stream **out, conflux_error *err) {
  (void)stream;
  (void)stream_len;
  (void)err;
  stream_t *s = calloc(1, sizeof *s);
  s->instance = (instance_t *)inst;
  char buffer[32] = {0};
  memcpy(buffer, cursor, cursor_len < 31 ? cursor_len : 31);
  s->next = cursor_len ? atoll(buffer) : 0;
  *out = (conflux_stream *)s;
  return CONFLUX_OK;
}
static conflux_code read_batch(conflux_stream *handle, size_t max, conflux_emitter *out, conflux_error *err) {
  (void)err;
  stream_t *s = (stream_t *)handle;
  for (size_t i = 0; i < max && s->next < s->instance->count; ++i, ++s->next) {
    char label[64];
    int n = snprintf(label, sizeof label, "row %lld", s->next);
    /* Old field layout: everything up to and including int_value, but not double_value. */
    conflux_field f;
    memset(&f, 0, sizeof f);
    f.struct_size = (uint32_t)offsetof(conflux_field, double_value);
    g_host->record_begin(out);
    f.type = CONFLUX_VALUE_INT;
    f.name = "n";
    f.name_len = 1;
    f.int_value = s->next;
    g_host->record_add(out, &f);
    f.type = CONFLUX_VALUE_STRING;
    f.name = "label";
    f.name_len = 5;
    f.text = label;
    f.text_len = (size_t)n;
    g_host->record_add(out, &f);
    g_host->record_end(out, (uint64_t)s->next + 1);
  }
  char cursor[32];
  int n = snprintf(cursor, sizeof cursor, "%lld", s->next);
  g_host->emit_cursor(out, cursor, (size_t)n);
  g_host->emit_progress(out, (uint64_t)s->next, (uint64_t)s->instance->count);
  return s->next < s->instance->count ? CONFLUX_OK : CONFLUX_END;
}
static void close_stream(conflux_stream *s) { free(s); }

static conflux_plugin g_plugin;

CONFLUX_PLUGIN_EXPORT uint32_t conflux_plugin_abi_version(void) { return (1u << 16) | 0u; }
CONFLUX_PLUGIN_EXPORT const conflux_plugin *conflux_plugin_describe(const conflux_host_api *host) {
  g_host = host;
  memset(&g_plugin, 0, sizeof g_plugin);
  g_plugin.struct_size = (uint32_t)offsetof(conflux_plugin, flush); /* older, smaller struct */
  g_plugin.name = "old_struct";
  g_plugin.version = "0.9.0";
  g_plugin.kinds = CONFLUX_KIND_SOURCE;
  g_plugin.description = "test: a plugin built against an older, smaller conflux_plugin";
  g_plugin.config_schema =
      "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{\"count\":{\"type\":\"integer\",\"minimum\":0}}}";
  g_plugin.streams = "[\"numbers\"]";
  g_plugin.create = create;
  g_plugin.destroy = destroy;
  g_plugin.open_stream = open_stream;
  g_plugin.read_batch = read_batch;
  g_plugin.close_stream = close_stream;
  return &g_plugin;
}
