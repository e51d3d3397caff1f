// The "jsonl" connector: reads a JSON Lines file (one object per line) as a source and writes one as a sink. SDK glue
// only; line splitting lives in line_reader.hpp, parsing in json_line_parser.hpp and serialization in
// json_writer.hpp, all free of SDK types so that unit tests drive them.
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <conflux/sdk/plugin.hpp>

#include <cerrno>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../common/buffered_file.hpp"
#include "../common/byte_input.hpp"
#include "json_line_parser.hpp"
#include "json_writer.hpp"
#include "line_reader.hpp"
#include "utf8.hpp"

namespace conflux::plugins::jsonl {

using file_io::ByteInput;
using file_io::FileInput;
using file_io::InputError;
using file_io::MemoryInput;
using file_io::BufferedFile;
using file_io::OutputError;
namespace {

namespace sdk = conflux::sdk;
using Json = nlohmann::json;

constexpr const char* kConfigSchema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "jsonl connector",
  "description": "Reads (source) or writes (sink) one JSON Lines file: UTF-8, one JSON object per line. Keys marked 'source' or 'sink' apply to that role only.",
  "type": "object",
  "additionalProperties": false,
  "required": ["path"],
  "properties": {
    "path": {"type": "string", "minLength": 1, "description": "The JSON Lines file to read or write."},
    "stream": {"type": "string", "minLength": 1, "default": "default",
               "description": "source: name of the stream the records belong to."},
    "max_line_bytes": {"type": "integer", "minimum": 1024, "maximum": 1073741824, "default": 16777216,
                       "description": "source: longest line accepted; longer lines are reported as invalid."},
    "mode": {"type": "string", "enum": ["overwrite", "append"], "default": "overwrite",
             "description": "sink: overwrite truncates the file when the run first writes or flushes; append adds lines after the existing ones."},
    "fsync": {"type": "boolean", "default": true,
              "description": "sink: fsync the file on every flush (before the host commits cursors)."}
  }
})json";

struct Config {
  std::string path;
  std::string stream = "default";
  size_t max_line_bytes = size_t{16} << 20;
  bool has_sink_keys = false;  // mode/fsync present: check() treats the step as a sink
  bool append = false;
  bool fsync = true;
};

[[noreturn]] void bad_config(const std::string& message) { throw sdk::config_error("jsonl: " + message); }

Config parse_config(const std::string& text) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const std::exception& e) {
    bad_config(std::string("config is not valid JSON: ") + e.what());
  }
  if (!json.is_object()) bad_config("config must be an object");
  auto string_key = [&](const char* key, const std::string& fallback) {
    auto it = json.find(key);
    if (it == json.end()) return fallback;
    if (!it->is_string()) bad_config(std::string("'") + key + "' must be a string");
    return it->get<std::string>();
  };
  Config config;
  config.path = string_key("path", "");
  if (config.path.empty()) bad_config("'path' is required");
  config.stream = string_key("stream", "default");
  if (config.stream.empty()) bad_config("'stream' must not be empty");
  if (auto it = json.find("max_line_bytes"); it != json.end()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() < 1024) {
      bad_config("'max_line_bytes' must be an integer of at least 1024");
    }
    config.max_line_bytes = it->get<size_t>();
  }
  std::string mode = string_key("mode", "overwrite");
  if (mode != "overwrite" && mode != "append") bad_config("'mode' must be overwrite or append, not '" + mode + "'");
  config.append = mode == "append";
  if (auto it = json.find("fsync"); it != json.end()) {
    if (!it->is_boolean()) bad_config("'fsync' must be true or false");
    config.fsync = it->get<bool>();
  }
  config.has_sink_keys = json.contains("mode") || json.contains("fsync");
  return config;
}

// A missing file or a file that does not fit the config needs the user (CONFIG); an I/O fault gives up the run.
template <typename Body>
auto translate_errors(Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const InputError& e) {
    if (e.missing()) throw sdk::config_error(e.what());
    throw sdk::fatal_error(e.what());
  } catch (const FormatError& e) {
    throw sdk::config_error(e.what());
  } catch (const OutputError& e) {
    throw sdk::fatal_error(e.what());
  }
}

bool simd_valid_utf8(const char* text, size_t size) { return simdjson::validate_utf8(text, size); }

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

std::unique_ptr<LineReader> open_reader(const Config& config, std::optional<Position> resume) {
  LineReaderOptions options;
  options.max_line_bytes = config.max_line_bytes;
  auto reader = std::make_unique<LineReader>(std::make_unique<FileInput>(config.path, "jsonl"), options,
                                             "jsonl: '" + config.path + "'");
  reader->open(resume);
  return reader;
}

// ---- source -----------------------------------------------------------------------------------------------------

class JsonlStream final : public sdk::StreamReader {
 public:
  JsonlStream(std::unique_ptr<LineReader> reader, size_t max_line_bytes)
      : reader_(std::move(reader)), max_line_bytes_(max_line_bytes), parser_(&simd_valid_utf8) {}

  // Emits up to max_records records plus the invalid lines met on the way (also capped at max_records), then the
  // cursor and the progress. Blank lines are skipped.
  bool read_batch(size_t max_records, sdk::Emitter& out) override {
    size_t limit = max_records == 0 ? 1 : max_records;
    size_t records = 0, invalid = 0;
    bool more = true;
    translate_errors([&] {
      Line line;
      while (records < limit && invalid < limit) {
        LineReader::Next next = reader_->next(line);
        if (next == LineReader::Next::kEnd) {
          more = false;
          break;
        }
        if (next == LineReader::Next::kTooLong) {
          raw_.clear();
          append_escaped_raw(raw_, line.text);
          raw_ += "...";
          out.invalid(line.number,
                      "line longer than max_line_bytes (" + std::to_string(max_line_bytes_) +
                          "); dropped, raw text truncated to its first 1024 bytes",
                      raw_);
          ++invalid;
          continue;
        }
        if (is_blank(line.text)) continue;
        if (!parser_.parse(line.text)) {
          raw_.clear();
          append_escaped_raw(raw_, line.text);
          out.invalid(line.number, "invalid JSON: " + parser_.error(), raw_);
          ++invalid;
          continue;
        }
        emit(parser_.fields(), line.number, out);
        ++records;
      }
      return 0;
    });
    Position position = reader_->position();
    out.cursor(format_cursor(position));
    out.progress(position.offset, reader_->size());
    return more;
  }

 private:
  static void emit(const std::vector<JsonField>& fields, uint64_t line, sdk::Emitter& out) {
    out.begin();
    for (const JsonField& f : fields) {
      switch (f.kind) {
        case ValueKind::kNull: out.add_null(f.name); break;
        case ValueKind::kBool: out.add_bool(f.name, f.int_value != 0); break;
        case ValueKind::kInt: out.add_int(f.name, f.int_value); break;
        case ValueKind::kDouble: out.add_double(f.name, f.double_value); break;
        case ValueKind::kDecimal: out.add_decimal(f.name, f.text); break;
        case ValueKind::kString: out.add_string(f.name, f.text); break;
        case ValueKind::kJson: out.add_json(f.name, f.text); break;
      }
    }
    out.end(line);
  }

  std::unique_ptr<LineReader> reader_;
  size_t max_line_bytes_;
  JsonLineParser parser_;
  std::string raw_;
};

// ---- sink -------------------------------------------------------------------------------------------------------

// Writes each record as one compact JSON object, fields in record order.
class JsonlSink {
 public:
  explicit JsonlSink(const Config& config) : config_(config) {}

  void write(const sdk::BatchView& batch, sdk::Results& results) {
    open();
    const size_t count = batch.size();
    for (size_t i = 0; i < count; ++i) {
      std::string reason;
      if (format_record(batch[i], reason)) {
        file_->append(line_);
        results.created(i);
      } else {
        results.rejected(i, reason);
      }
    }
  }

  void flush() {
    open();
    if (config_.fsync) {
      file_->sync();
    } else {
      file_->flush();
    }
  }

 private:
  // Opens the file on first use, not in create(): `conflux check` must never truncate anything.
  void open() {
    if (file_) return;
    file_ = std::make_unique<BufferedFile>(config_.path, !config_.append, "jsonl");
    if (file_->initial_size() > 0 && !ends_with_line_break()) file_->append("\n");
  }

  bool ends_with_line_break() const {
    FileInput input(config_.path, "jsonl");
    if (input.size() == 0) return true;
    input.seek(input.size() - 1);
    char last = 0;
    return input.read(&last, 1) == 1 && last == '\n';
  }

  bool format_record(const sdk::RecordView& record, std::string& reason) {
    line_.clear();
    line_ += '{';
    const size_t fields = record.field_count();
    for (size_t j = 0; j < fields; ++j) {
      sdk::FieldView field = record.field_at(j);
      if (j > 0) line_ += ',';
      append_json_string(line_, field.name());
      line_ += ':';
      const conflux_field& raw = field.raw();
      switch (raw.type) {
        case CONFLUX_VALUE_NULL: line_ += "null"; break;
        case CONFLUX_VALUE_BOOL: line_ += raw.int_value ? "true" : "false"; break;
        case CONFLUX_VALUE_INT: append_json_int(line_, raw.int_value); break;
        case CONFLUX_VALUE_DOUBLE:
          if (!append_json_double(line_, raw.double_value)) {
            reason = "field '" + std::string(field.name()) + "' is NaN or infinite, which JSON cannot represent";
            return false;
          }
          break;
        case CONFLUX_VALUE_DECIMAL:
          if (!is_json_number(field.text())) {
            reason = "field '" + std::string(field.name()) + "' is a DECIMAL that is not a number: '" +
                     std::string(field.text().substr(0, 100)) + "'";
            return false;
          }
          line_.append(field.text());
          break;
        case CONFLUX_VALUE_JSON:
          if (!append_json_raw(line_, field.text())) {
            reason = "field '" + std::string(field.name()) + "' is a JSON value that is not an array or object";
            return false;
          }
          break;
        case CONFLUX_VALUE_STRING: append_json_string(line_, field.text()); break;
        default:
          reason = "field '" + std::string(field.name()) + "' has unknown value type " + std::to_string(raw.type);
          return false;
      }
    }
    line_ += "}\n";
    return true;
  }

  const Config& config_;
  std::unique_ptr<BufferedFile> file_;
  std::string line_;
};

// ---- plugin -----------------------------------------------------------------------------------------------------

class JsonlPlugin final : public sdk::Plugin {
 public:
  explicit JsonlPlugin(const sdk::Context& context)
      : sdk::Plugin(context), config_(parse_config(context.config_json())) {}

  // A step is checked as a sink when it has sink-only keys (mode, fsync), else as a source: the ABI does not tell a
  // plugin which role a step plays.
  void check() override {
    translate_errors([&] {
      if (config_.has_sink_keys) {
        check_writable();
      } else {
        open_reader(config_, std::nullopt);
      }
      return 0;
    });
  }

  // Field names and types from the first lines (up to 100 valid ones): a key seen with different types is "json"
  // unless the types are integer and number ("number"); null never overrides a type.
  std::string discover() override {
    return translate_errors([&] {
      std::unique_ptr<LineReader> reader = open_reader(config_, std::nullopt);
      JsonLineParser parser;
      nlohmann::ordered_json fields = nlohmann::ordered_json::object();
      Line line;
      for (int parsed = 0, scanned = 0; parsed < 100 && scanned < 10000; ++scanned) {
        LineReader::Next next = reader->next(line);
        if (next == LineReader::Next::kEnd) break;
        if (next != LineReader::Next::kLine || is_blank(line.text) || !parser.parse(line.text)) continue;
        ++parsed;
        for (const JsonField& f : parser.fields()) {
          std::string name(f.name);
          std::string type = type_name(f.kind);
          auto it = fields.find(name);
          if (it == fields.end() || *it == "null") {
            fields[name] = type;
          } else if (type != "null" && *it != type) {
            bool numeric = (*it == "integer" || *it == "number") && (type == "integer" || type == "number");
            *it = numeric ? "number" : "json";
          }
        }
      }
      nlohmann::ordered_json stream = {{"name", config_.stream}, {"fields", fields}};
      nlohmann::ordered_json catalog = {{"streams", nlohmann::ordered_json::array({stream})}};
      return catalog.dump();
    });
  }

  std::unique_ptr<sdk::StreamReader> open_stream(std::string_view stream, std::string_view cursor) override {
    if (!stream.empty() && stream != config_.stream) {
      throw sdk::config_error("jsonl: no stream '" + std::string(stream) + "'; this source offers '" +
                              config_.stream + "'");
    }
    std::optional<Position> resume;
    if (!cursor.empty()) {
      resume = parse_cursor(cursor);
      if (!resume) {
        throw sdk::config_error("jsonl: cannot parse the saved cursor '" + std::string(cursor) +
                                "' (expected offset=<bytes>;line=<line>); reset the stream's state");
      }
    }
    return translate_errors([&] {
      std::unique_ptr<LineReader> reader = open_reader(config_, resume);
      Position start = reader->position();
      context().info("jsonl: reading '" + config_.path + "' from line " + std::to_string(start.line) + ", byte " +
                     std::to_string(start.offset));
      return std::make_unique<JsonlStream>(std::move(reader), config_.max_line_bytes);
    });
  }

  void write_batch(const sdk::BatchView& batch, sdk::Results& results) override {
    translate_errors([&] {
      sink().write(batch, results);
      return 0;
    });
  }

  void flush() override {
    translate_errors([&] {
      sink().flush();
      return 0;
    });
  }

 private:
  static const char* type_name(ValueKind kind) {
    switch (kind) {
      case ValueKind::kNull: return "null";
      case ValueKind::kBool: return "boolean";
      case ValueKind::kInt: return "integer";
      case ValueKind::kDouble: return "number";
      case ValueKind::kDecimal: return "decimal";
      case ValueKind::kString: return "string";
      case ValueKind::kJson: return "json";
    }
    return "json";
  }

  JsonlSink& sink() {
    if (!sink_) sink_ = std::make_unique<JsonlSink>(config_);
    return *sink_;
  }

  void check_writable() const {
    struct stat st {};
    if (::stat(config_.path.c_str(), &st) == 0) {
      if (!S_ISREG(st.st_mode)) throw sdk::config_error("jsonl: '" + config_.path + "' is not a regular file");
      if (::access(config_.path.c_str(), W_OK) != 0) {
        throw sdk::config_error("jsonl: cannot write '" + config_.path + "': " + std::strerror(errno));
      }
      return;
    }
    size_t slash = config_.path.find_last_of('/');
    std::string directory = slash == std::string::npos ? "." : slash == 0 ? "/" : config_.path.substr(0, slash);
    if (::access(directory.c_str(), W_OK) != 0) {
      throw sdk::config_error("jsonl: cannot create '" + config_.path + "': directory '" + directory +
                              "': " + std::strerror(errno));
    }
  }

  Config config_;
  std::unique_ptr<JsonlSink> sink_;
};

}  // namespace
}  // namespace conflux::plugins::jsonl

CONFLUX_PLUGIN(conflux::plugins::jsonl::JsonlPlugin,
               {"jsonl", "1.0.0", CONFLUX_KIND_SOURCE | CONFLUX_KIND_SINK,
                "JSON Lines files: one object per line, exact decimals, resumable by byte offset; writes JSONL too",
                conflux::plugins::jsonl::kConfigSchema, nullptr})
