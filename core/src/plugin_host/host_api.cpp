// The conflux_host_api table: what plugins may call. Every function tolerates misuse (NULL handles, calls in the
// wrong order) by recording it for the host to report after the plugin call returns; none throws.
#include <cstring>

#include <nlohmann/json.hpp>

#include "conflux/plugin_host/plugin_host.hpp"
#include "handles.hpp"
#include "host_http.hpp"

#include <spdlog/spdlog.h>

namespace conflux::plugin_host {
namespace {

template <typename T>
T read_struct(const T* in) {
  // A plugin built against an older, smaller struct: copy what it has, zero the rest.
  T out{};
  if (in == nullptr) return out;
  size_t size = in->struct_size < sizeof(T) ? in->struct_size : sizeof(T);
  std::memcpy(&out, in, size);
  return out;
}

std::string_view view(const char* data, size_t len) { return data ? std::string_view(data, len) : std::string_view(); }

void note(std::string& misuse, const char* what) {
  if (misuse.empty()) misuse = what;
}

void error_set(conflux_error* error, const char* message, size_t len) {
  if (error != nullptr) error->message.assign(view(message, len));
}

void log(conflux_host_context* context, int32_t level, const char* message, size_t len) {
  auto logger = context && context->logger ? context->logger : spdlog::default_logger();
  spdlog::level::level_enum lvl = level <= CONFLUX_LOG_DEBUG ? spdlog::level::debug
                                  : level == CONFLUX_LOG_INFO ? spdlog::level::info
                                  : level == CONFLUX_LOG_WARN ? spdlog::level::warn
                                                              : spdlog::level::err;
  logger->log(lvl, "{}", view(message, len));
}

int32_t is_cancelled(conflux_host_context* context) {
  return context && context->cancelled && context->cancelled->load() ? 1 : 0;
}

void record_begin(conflux_emitter* e) {
  if (e == nullptr) return;
  if (e->open) note(e->misuse, "record_begin called twice without record_end");
  e->current = Record();
  e->current.fields().reserve(e->shape.size());
  e->on_shape = true;
  e->open = true;
}

static_assert(static_cast<int>(conflux::ValueType::kNull) == CONFLUX_VALUE_NULL &&
                  static_cast<int>(conflux::ValueType::kBool) == CONFLUX_VALUE_BOOL &&
                  static_cast<int>(conflux::ValueType::kInt) == CONFLUX_VALUE_INT &&
                  static_cast<int>(conflux::ValueType::kDouble) == CONFLUX_VALUE_DOUBLE &&
                  static_cast<int>(conflux::ValueType::kString) == CONFLUX_VALUE_STRING &&
                  static_cast<int>(conflux::ValueType::kDecimal) == CONFLUX_VALUE_DECIMAL &&
                  static_cast<int>(conflux::ValueType::kJson) == CONFLUX_VALUE_JSON,
              "ValueType mirrors the ABI's value type codes");

// Overwrites `out` with the field's value; `f.type` is known to be valid. Text is copied straight into place.
void assign_value(const conflux_field& f, Value& out) {
  out.type = static_cast<conflux::ValueType>(f.type);
  out.int_value = f.type == CONFLUX_VALUE_BOOL ? (f.int_value != 0 ? 1 : 0) : f.type == CONFLUX_VALUE_INT ? f.int_value : 0;
  out.double_value = f.type == CONFLUX_VALUE_DOUBLE ? f.double_value : 0;
  const bool textual = f.type == CONFLUX_VALUE_STRING || f.type == CONFLUX_VALUE_DECIMAL || f.type == CONFLUX_VALUE_JSON;
  if (textual) {
    out.text.assign(f.text == nullptr ? "" : f.text, f.text_len);
  } else {
    out.text.clear();
  }
}

void record_add(conflux_emitter* e, const conflux_field* field) {
  if (e == nullptr) return;
  if (!e->open) {
    note(e->misuse, "record_add called outside record_begin/record_end");
    return;
  }
  conflux_field f = read_struct(field);
  if (f.name == nullptr || f.name_len == 0) {
    note(e->misuse, "record_add called with an empty field name");
    return;
  }
  if (f.type < CONFLUX_VALUE_NULL || f.type > CONFLUX_VALUE_JSON) {
    note(e->misuse, "record_add called with an unknown value type");
    return;
  }
  if (f.text == nullptr && f.text_len > 0) {
    note(e->misuse, "record_add called with NULL text of non-zero length");
    return;
  }
  // JSON text is kept in its canonical (compact) form, which writers copy as it is (Value's contract).
  std::string canonical_json;
  if (f.type == CONFLUX_VALUE_JSON) {
    const auto parsed = nlohmann::ordered_json::parse(view(f.text, f.text_len), nullptr, false);
    if (!parsed.is_object() && !parsed.is_array()) {
      note(e->misuse, "record_add called with CONFLUX_VALUE_JSON text that is not a JSON array or object");
      return;
    }
    canonical_json = parsed.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    f.text = canonical_json.data();
    f.text_len = canonical_json.size();
  }
  const std::string_view name = view(f.name, f.name_len);
  std::vector<Field>& fields = e->current.fields();
  const size_t next = fields.size();
  if (e->on_shape && next < e->shape.size() && e->shape[next] == name) {
    Field& added = fields.emplace_back();
    added.name = e->shape[next];
    assign_value(f, added.value);
    return;
  }
  e->on_shape = false;
  assign_value(f, e->current.get_or_add(name));
}

void record_end(conflux_emitter* e, uint64_t position) {
  if (e == nullptr) return;
  if (!e->open) {
    note(e->misuse, "record_end called without record_begin");
    return;
  }
  e->open = false;
  if (!e->on_shape || e->current.fields().size() != e->shape.size()) {
    e->shape.clear();
    for (const Field& field : e->current.fields()) e->shape.push_back(field.name);
  }
  if (e->mode == conflux_emitter::Mode::kSource) {
    e->current.set_position(position);
    e->source_batch->records.push_back(std::move(e->current));
  } else {
    if (position >= e->input_count) {
      note(e->misuse, "record_end named an input index outside the batch");
      return;
    }
    e->outputs.emplace_back(position, std::move(e->current));
  }
  e->current = Record();
}

void emit_invalid(conflux_emitter* e, uint64_t position, const char* reason, size_t reason_len, const char* raw,
                  size_t raw_len) {
  if (e == nullptr) return;
  std::string why(view(reason, reason_len));
  if (why.empty()) why = "invalid input (the plugin gave no reason)";
  if (e->mode == conflux_emitter::Mode::kSource) {
    e->source_batch->invalid.push_back({position, std::move(why), std::string(view(raw, raw_len))});
  } else {
    if (position >= e->input_count) {
      note(e->misuse, "emit_invalid named an input index outside the batch");
      return;
    }
    e->rejects.push_back({position, std::move(why), std::string(view(raw, raw_len)), true});
  }
}

void emit_drop(conflux_emitter* e, uint64_t position, const char* rule, size_t rule_len) {
  if (e == nullptr) return;
  if (e->mode != conflux_emitter::Mode::kTransform) {
    note(e->misuse, "emit_drop is for transforms; a source simply does not emit the record");
    return;
  }
  if (position >= e->input_count) {
    note(e->misuse, "emit_drop named an input index outside the batch");
    return;
  }
  std::string why(view(rule, rule_len));
  if (why.empty()) why = "dropped by plugin";
  e->rejects.push_back({position, std::move(why), {}, false});
}

void emit_cursor(conflux_emitter* e, const char* cursor, size_t len) {
  if (e == nullptr) return;
  if (e->mode != conflux_emitter::Mode::kSource) {
    note(e->misuse, "emit_cursor is for sources");
    return;
  }
  e->source_batch->cursor = std::string(view(cursor, len));
}

void emit_progress(conflux_emitter* e, uint64_t done, uint64_t total) {
  if (e == nullptr || e->mode != conflux_emitter::Mode::kSource) return;
  e->source_batch->progress_done = done;
  e->source_batch->progress_total = total;
}

size_t batch_size(const conflux_batch* b) { return b && b->records ? b->records->size() : 0; }

const char* batch_stream(const conflux_batch* b, size_t* len) {
  if (b == nullptr || b->stream == nullptr) {
    if (len) *len = 0;
    return "";
  }
  if (len) *len = b->stream->size();
  return b->stream->c_str();
}

size_t record_field_count(const conflux_batch* b, size_t record) {
  if (b == nullptr || record >= batch_size(b)) return 0;
  return (*b->records)[record].size();
}

void fill_field(const Field& field, conflux_field* out) {
  if (out == nullptr) return;
  conflux_field f{};
  f.struct_size = out->struct_size;
  f.type = static_cast<conflux_value_type>(field.value.type);
  f.name = field.name.data();
  f.name_len = field.name.size();
  f.text = field.value.text.data();
  f.text_len = field.value.text.size();
  f.int_value = field.value.int_value;
  f.double_value = field.value.double_value;
  // Fill no more than the caller's struct holds: an older plugin's conflux_field may be smaller.
  size_t size = out->struct_size < sizeof f ? out->struct_size : sizeof f;
  std::memcpy(out, &f, size);
}

int32_t record_field_at(const conflux_batch* b, size_t record, size_t field, conflux_field* out) {
  if (b == nullptr || record >= batch_size(b)) return 0;
  const auto& fields = (*b->records)[record].fields();
  if (field >= fields.size()) return 0;
  fill_field(fields[field], out);
  return 1;
}

int32_t record_field_find(const conflux_batch* b, size_t record, const char* name, size_t len, conflux_field* out) {
  if (b == nullptr || record >= batch_size(b) || name == nullptr) return 0;
  std::string_view wanted(name, len);
  for (const Field& field : (*b->records)[record].fields()) {
    if (field.name == wanted) {
      fill_field(field, out);
      return 1;
    }
  }
  return 0;
}

uint64_t record_position(const conflux_batch* b, size_t record) {
  if (b == nullptr || record >= batch_size(b)) return 0;
  return (*b->records)[record].position();
}

void result_set(conflux_results* r, size_t record, conflux_write_outcome outcome, const char* message, size_t len) {
  if (r == nullptr || r->results == nullptr) return;
  if (record >= r->results->size()) {
    note(r->misuse, "result_set named a record outside the batch");
    return;
  }
  if (r->seen[record]) {
    note(r->misuse, "result_set called twice for the same record");
    return;
  }
  engine::WriteResult& result = (*r->results)[record];
  const bool fits_call = r->deleting ? (outcome == CONFLUX_WRITE_DELETED || outcome == CONFLUX_WRITE_UNCHANGED ||
                                        outcome == CONFLUX_WRITE_REJECTED)
                                     : outcome != CONFLUX_WRITE_DELETED;
  if (!fits_call) {
    note(r->misuse, r->deleting ? "delete_batch reported a write outcome (created/updated)"
                                : "write_batch reported CONFLUX_WRITE_DELETED");
    return;
  }
  switch (outcome) {
    case CONFLUX_WRITE_DELETED: result.outcome = engine::WriteOutcome::kUpdated; break;
    case CONFLUX_WRITE_CREATED: result.outcome = engine::WriteOutcome::kCreated; break;
    case CONFLUX_WRITE_UPDATED: result.outcome = engine::WriteOutcome::kUpdated; break;
    case CONFLUX_WRITE_UNCHANGED: result.outcome = engine::WriteOutcome::kUnchanged; break;
    case CONFLUX_WRITE_REJECTED: result.outcome = engine::WriteOutcome::kRejected; break;
    default:
      note(r->misuse, "result_set called with an unknown outcome");
      return;
  }
  result.message.assign(view(message, len));
  if (result.outcome == engine::WriteOutcome::kRejected && result.message.empty()) {
    result.message = "rejected by the sink (no reason given)";
  }
  r->seen[record] = 1;
}

void text_set(conflux_text* text, const char* value, size_t len) {
  if (text != nullptr) text->value.assign(view(value, len));
}

}  // namespace

const conflux_host_api& host_api() {
  static const conflux_host_api api = [] {
    conflux_host_api a{};
    a.struct_size = sizeof a;
    a.abi_version = CONFLUX_ABI_VERSION;
    a.error_set = &error_set;
    a.log = &log;
    a.is_cancelled = &is_cancelled;
    a.record_begin = &record_begin;
    a.record_add = &record_add;
    a.record_end = &record_end;
    a.emit_invalid = &emit_invalid;
    a.emit_drop = &emit_drop;
    a.emit_cursor = &emit_cursor;
    a.emit_progress = &emit_progress;
    a.batch_size = &batch_size;
    a.batch_stream = &batch_stream;
    a.record_field_count = &record_field_count;
    a.record_field_at = &record_field_at;
    a.record_field_find = &record_field_find;
    a.record_position = &record_position;
    a.result_set = &result_set;
    a.text_set = &text_set;
    a.http_request = &http_request;
    a.http_response_free = &http_response_free;
    return a;
  }();
  return api;
}

}  // namespace conflux::plugin_host
