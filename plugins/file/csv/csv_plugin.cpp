// The "csv" connector: reads a CSV file as a source and writes one as a sink. SDK glue only; the parsing lives in
// csv_reader.hpp and the formatting in csv_writer.hpp, both free of SDK types so that unit tests drive them.
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <conflux/sdk/plugin.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../common/buffered_file.hpp"
#include "../common/byte_input.hpp"
#include "csv_reader.hpp"
#include "csv_writer.hpp"
#include "text_encoding.hpp"

namespace conflux::plugins::csv {

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
  "title": "csv connector",
  "description": "Reads (source) or writes (sink) one CSV file. Keys marked 'source' or 'sink' apply to that role only.",
  "type": "object",
  "additionalProperties": false,
  "required": ["path"],
  "properties": {
    "path": {"type": "string", "minLength": 1, "description": "The CSV file to read or write."},
    "stream": {"type": "string", "minLength": 1, "default": "default",
               "description": "source: name of the stream the records belong to."},
    "delimiter": {"type": "string", "default": ",",
                  "description": "One ASCII character, 'tab', or (source) 'auto' to choose among , ; tab | from the first lines.",
                  "anyOf": [{"minLength": 1, "maxLength": 1}, {"enum": ["auto", "tab"]}]},
    "quote": {"type": "string", "maxLength": 1, "default": "\"",
              "description": "Quote character; an empty string turns quoting off."},
    "encoding": {"type": "string", "default": "auto",
                 "enum": ["auto", "utf-8", "utf8", "utf-16", "utf16", "utf-16le", "utf-16be", "windows-1251", "cp1251"],
                 "description": "source: text encoding. auto: byte-order mark decides (UTF-8, UTF-16LE/BE), else UTF-8. sink: utf-8 only."},
    "header": {"type": "boolean", "default": true,
               "description": "The first row holds the column names (source) / write a header row (sink)."},
    "columns": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "uniqueItems": true,
                "description": "Column names in file order. source: override the header's names (or name a headerless file). sink: fixes the columns and their order."},
    "trim_headers": {"type": "boolean", "default": true,
                     "description": "source: strip blanks around header names."},
    "skip_rows": {"type": "integer", "minimum": 0, "default": 0,
                  "description": "source: physical lines to skip before the header (titles above the table)."},
    "skip_blank_lines": {"type": "boolean", "default": true,
                         "description": "source: ignore empty lines instead of reporting them as ragged rows."},
    "null_values": {"type": "array", "items": {"type": "string"}, "default": [],
                    "description": "source: field texts that become null, e.g. [\"\", \"NULL\"]. By default every field is a string, empty ones included."},
    "max_record_bytes": {"type": "integer", "minimum": 1024, "maximum": 1073741824, "default": 16777216,
                         "description": "source: longest record accepted; longer input is reported as invalid."},
    "mode": {"type": "string", "enum": ["overwrite", "append"], "default": "overwrite",
             "description": "sink: overwrite truncates the file when the run first writes or flushes; append adds rows after the existing ones."},
    "bom": {"type": "boolean", "default": false,
            "description": "sink: start a new file with a UTF-8 byte-order mark (for Excel)."},
    "line_ending": {"type": "string", "enum": ["lf", "crlf"], "default": "lf",
                    "description": "sink: line terminator."}
  }
})json";

// ---- configuration ----------------------------------------------------------------------------------------------

struct Config {
  std::string path;
  std::string stream = "default";
  ReaderOptions reader;
  std::vector<std::string> null_values;
  std::string encoding = "auto";
  bool header = true;
  std::vector<std::string> columns;
  bool has_sink_keys = false;  // mode/bom/line_ending present: check() treats the step as a sink
  bool append = false;
  bool bom = false;
  bool crlf = false;
};

[[noreturn]] void bad_config(const std::string& message) { throw sdk::config_error("csv: " + message); }

std::string string_key(const Json& config, const char* key, std::string fallback) {
  auto it = config.find(key);
  if (it == config.end()) return fallback;
  if (!it->is_string()) bad_config(std::string("'") + key + "' must be a string");
  return it->get<std::string>();
}

bool bool_key(const Json& config, const char* key, bool fallback) {
  auto it = config.find(key);
  if (it == config.end()) return fallback;
  if (!it->is_boolean()) bad_config(std::string("'") + key + "' must be true or false");
  return it->get<bool>();
}

uint64_t uint_key(const Json& config, const char* key, uint64_t fallback) {
  auto it = config.find(key);
  if (it == config.end()) return fallback;
  if (!it->is_number_unsigned()) bad_config(std::string("'") + key + "' must be a non-negative integer");
  return it->get<uint64_t>();
}

std::vector<std::string> strings_key(const Json& config, const char* key) {
  std::vector<std::string> out;
  auto it = config.find(key);
  if (it == config.end()) return out;
  if (!it->is_array()) bad_config(std::string("'") + key + "' must be a list of strings");
  for (const Json& item : *it) {
    if (!item.is_string()) bad_config(std::string("'") + key + "' must be a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

bool simd_valid_utf8(const char* text, size_t size) { return simdjson::validate_utf8(text, size); }

Config parse_config(const std::string& text) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const std::exception& e) {
    bad_config(std::string("config is not valid JSON: ") + e.what());
  }
  if (!json.is_object()) bad_config("config must be an object");
  Config config;
  config.path = string_key(json, "path", "");
  if (config.path.empty()) bad_config("'path' is required");
  config.stream = string_key(json, "stream", "default");
  if (config.stream.empty()) bad_config("'stream' must not be empty");

  ReaderOptions& reader = config.reader;
  std::string delimiter = string_key(json, "delimiter", ",");
  if (delimiter == "auto") {
    reader.sniff_delimiter = true;
  } else if (delimiter == "tab" || delimiter == "\\t") {
    reader.delimiter = '\t';
  } else if (delimiter.size() == 1 && static_cast<unsigned char>(delimiter[0]) < 0x80 && delimiter[0] != '\n' &&
             delimiter[0] != '\r') {
    reader.delimiter = delimiter[0];
  } else {
    bad_config("'delimiter' must be one ASCII character other than a line break, 'tab' or 'auto', not '" +
               delimiter + "'");
  }
  std::string quote = string_key(json, "quote", "\"");
  if (quote.size() > 1 || (quote.size() == 1 && static_cast<unsigned char>(quote[0]) >= 0x80)) {
    bad_config("'quote' must be one ASCII character or empty");
  }
  reader.quote = quote.empty() ? -1 : quote[0];
  if (reader.quote == reader.delimiter && !reader.sniff_delimiter) bad_config("'quote' and 'delimiter' must differ");

  config.encoding = string_key(json, "encoding", "auto");
  std::optional<EncodingSetting> encoding = parse_encoding_setting(config.encoding);
  if (!encoding) {
    bad_config("'encoding' must be auto, utf-8, utf-16, utf-16le, utf-16be or windows-1251, not '" + config.encoding +
               "'");
  }
  reader.encoding = *encoding;
  config.header = reader.header = bool_key(json, "header", true);
  config.columns = reader.columns = strings_key(json, "columns");
  reader.trim_headers = bool_key(json, "trim_headers", true);
  reader.skip_rows = uint_key(json, "skip_rows", 0);
  reader.skip_blank_lines = bool_key(json, "skip_blank_lines", true);
  reader.max_record_bytes = uint_key(json, "max_record_bytes", reader.max_record_bytes);
  if (reader.max_record_bytes < 1024) bad_config("'max_record_bytes' must be at least 1024");
  reader.utf8_fast_check = &simd_valid_utf8;
  config.null_values = strings_key(json, "null_values");

  config.has_sink_keys = json.contains("mode") || json.contains("bom") || json.contains("line_ending");
  std::string mode = string_key(json, "mode", "overwrite");
  if (mode != "overwrite" && mode != "append") bad_config("'mode' must be overwrite or append, not '" + mode + "'");
  config.append = mode == "append";
  config.bom = bool_key(json, "bom", false);
  std::string line_ending = string_key(json, "line_ending", "lf");
  if (line_ending != "lf" && line_ending != "crlf") bad_config("'line_ending' must be lf or crlf");
  config.crlf = line_ending == "crlf";
  return config;
}

// Maps the reader's and writer's exceptions to the codes the host acts on: a missing file or a file that does not
// fit the config needs the user (CONFIG); an I/O fault mid-file gives up the run (FATAL).
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

// ---- source -----------------------------------------------------------------------------------------------------

std::unique_ptr<CsvReader> open_reader(const Config& config, std::optional<Position> resume) {
  auto input = std::make_unique<FileInput>(config.path, "csv");
  auto reader = std::make_unique<CsvReader>(std::move(input), config.reader, "csv: '" + config.path + "'");
  reader->open(resume);
  return reader;
}

class CsvStream final : public sdk::StreamReader {
 public:
  CsvStream(std::unique_ptr<CsvReader> reader, std::vector<std::string> null_values)
      : reader_(std::move(reader)), null_values_(std::move(null_values)) {}

  // Emits up to max_records records plus the invalid input met on the way (also capped at max_records, so a file
  // of garbage still returns control to the host regularly), then the cursor and the progress.
  bool read_batch(size_t max_records, sdk::Emitter& out) override {
    const std::vector<std::string>& columns = reader_->columns();
    size_t limit = max_records == 0 ? 1 : max_records;
    size_t records = 0, invalid = 0;
    bool more = true;
    translate_errors([&] {
      while (records < limit && invalid < limit) {
        CsvReader::Next next = reader_->next(row_);
        if (next == CsvReader::Next::kEnd) {
          more = false;
          break;
        }
        if (next == CsvReader::Next::kInvalid) {
          out.invalid(row_.line, row_.reason, row_.raw);
          ++invalid;
          continue;
        }
        out.begin();
        for (size_t i = 0; i < columns.size(); ++i) {
          if (is_null(row_.fields[i])) {
            out.add_null(columns[i]);
          } else {
            out.add_string(columns[i], row_.fields[i]);
          }
        }
        out.end(row_.line);
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
  bool is_null(std::string_view value) const {
    for (const std::string& null_value : null_values_) {
      if (value == null_value) return true;
    }
    return false;
  }

  std::unique_ptr<CsvReader> reader_;
  std::vector<std::string> null_values_;
  Row row_;
};

// ---- sink -------------------------------------------------------------------------------------------------------

// Appends records as rows. The columns are fixed before the first row: by `columns`, else by the header of the file
// being appended to, else by the first record's fields in their order. A later record with a field outside them is
// rejected; a missing field is written empty.
class CsvSink {
 public:
  explicit CsvSink(const Config& config) : config_(config) {
    if (config.encoding != "auto" && config.encoding != "utf-8" && config.encoding != "utf8") {
      bad_config("the sink writes UTF-8 only; remove 'encoding' or set it to utf-8");
    }
    if (config.reader.sniff_delimiter) bad_config("the sink needs a fixed 'delimiter', not 'auto'");
    format_.delimiter = config.reader.delimiter;
    format_.quote = config.reader.quote;
    format_.crlf = config.crlf;
    set_columns(config.columns);
  }

  void write(const sdk::BatchView& batch, sdk::Results& results) {
    open();
    const size_t count = batch.size();
    for (size_t i = 0; i < count; ++i) {
      sdk::RecordView record = batch[i];
      if (record.field_count() == 0) {
        results.rejected(i, "the record has no fields");
        continue;
      }
      if (columns_.empty()) {
        std::vector<std::string> names;
        for (size_t j = 0; j < record.field_count(); ++j) {
          std::string name(record.field_at(j).name());
          if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
        }
        set_columns(names);
        write_header();
      }
      std::string reason;
      if (format_record(record, reason)) {
        file_->append(row_);
        results.created(i);
      } else {
        results.rejected(i, reason);
      }
    }
  }

  void flush() {
    open();
    file_->sync();
  }

 private:
  void set_columns(const std::vector<std::string>& columns) {
    columns_ = columns;
    index_.clear();
    for (size_t i = 0; i < columns_.size(); ++i) index_.emplace(columns_[i], i);
    slots_.assign(columns_.size(), std::nullopt);
  }

  // Opens the file on first use, not in create(): `conflux check` must never truncate anything.
  void open() {
    if (file_) return;
    file_ = std::make_unique<BufferedFile>(config_.path, !config_.append, "csv");
    if (file_->initial_size() > 0) {
      // Appending to a file with rows: its header decides the columns, and must match them if the config names them.
      if (config_.header) {
        std::vector<std::string> existing = existing_header();
        if (columns_.empty()) {
          set_columns(existing);
        } else if (existing != columns_) {
          bad_config("'" + config_.path + "' has the columns (" + join(existing) + ") but 'columns' lists (" +
                     join(columns_) + "); appending would misalign them");
        }
      }
      if (!ends_with_line_break()) file_->append(format_.crlf ? "\r\n" : "\n");
      return;
    }
    if (config_.bom) file_->append("\xEF\xBB\xBF");
    if (!columns_.empty()) write_header();
  }

  std::vector<std::string> existing_header() const {
    ReaderOptions options = config_.reader;
    options.encoding = EncodingSetting::kAuto;
    options.columns.clear();
    options.header = true;
    return open_reader_with(options)->columns();
  }

  // A file edited by hand may lack its final line break; the first appended row must not join its last line.
  bool ends_with_line_break() const {
    FileInput input(config_.path, "csv");
    if (input.size() == 0) return true;
    input.seek(input.size() - 1);
    char last = 0;
    return input.read(&last, 1) == 1 && last == '\n';
  }

  std::unique_ptr<CsvReader> open_reader_with(const ReaderOptions& options) const {
    auto reader = std::make_unique<CsvReader>(std::make_unique<FileInput>(config_.path, "csv"), options,
                                              "csv: '" + config_.path + "'");
    reader->open();
    return reader;
  }

  void write_header() {
    if (!config_.header) return;
    std::string line;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) line += format_.delimiter;
      if (!append_field(line, columns_[i], format_, columns_.size() == 1 && columns_[i].empty())) {
        bad_config("column name '" + columns_[i] + "' needs quoting but 'quote' is empty");
      }
    }
    append_line_end(line, format_);
    file_->append(line);
  }

  // Renders `record` into row_ in column order; false with `reason` when the record does not fit the columns.
  bool format_record(const sdk::RecordView& record, std::string& reason) {
    std::fill(slots_.begin(), slots_.end(), std::nullopt);
    const size_t fields = record.field_count();
    for (size_t j = 0; j < fields; ++j) {
      sdk::FieldView field = record.field_at(j);
      std::string_view name = field.name();
      size_t column;
      if (j < columns_.size() && columns_[j] == name) {
        column = j;  // the usual case: fields arrive in column order
      } else {
        auto it = index_.find(std::string(name));
        if (it == index_.end()) {
          reason = "field '" + std::string(name) + "' is not a column of '" + config_.path + "' (columns: " +
                   join(columns_) + ")";
          return false;
        }
        column = it->second;
      }
      if (slots_[column]) {
        reason = "field '" + std::string(name) + "' appears twice in the record";
        return false;
      }
      slots_[column] = field.raw();
    }
    row_.clear();
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (c > 0) row_ += format_.delimiter;
      if (!slots_[c]) continue;
      if (!append_value(*slots_[c], columns_.size() == 1)) {
        reason = "the value of '" + columns_[c] + "' holds the delimiter, a quote or a line break but 'quote' is empty";
        return false;
      }
    }
    if (columns_.size() == 1 && row_.empty() && format_.quote < 0) {
      reason = "an empty value in a one-column file needs quoting but 'quote' is empty";
      return false;
    }
    append_line_end(row_, format_);
    return true;
  }

  bool append_value(const conflux_field& field, bool only_column) {
    switch (field.type) {
      case CONFLUX_VALUE_NULL:
        // An empty row would read back as a blank line: quote the one column's empty value.
        return !only_column || append_field(row_, {}, format_, true);
      case CONFLUX_VALUE_BOOL: row_ += field.int_value ? "true" : "false"; return true;
      case CONFLUX_VALUE_INT: append_int(row_, field.int_value); return true;
      case CONFLUX_VALUE_DOUBLE: append_double(row_, field.double_value); return true;
      default: {
        std::string_view text = field.text ? std::string_view(field.text, field.text_len) : std::string_view();
        return append_field(row_, text, format_, only_column && text.empty());
      }
    }
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
    return out;
  }

  const Config& config_;
  WriterFormat format_;
  std::vector<std::string> columns_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::optional<conflux_field>> slots_;
  std::unique_ptr<BufferedFile> file_;
  std::string row_;
};

// ---- plugin -----------------------------------------------------------------------------------------------------

class CsvPlugin final : public sdk::Plugin {
 public:
  explicit CsvPlugin(const sdk::Context& context) : sdk::Plugin(context), config_(parse_config(context.config_json())) {}

  // A step is checked as a sink when it has sink-only keys (mode, bom, line_ending), else as a source: the ABI does
  // not tell a plugin which role a step plays.
  void check() override {
    translate_errors([&] {
      if (config_.has_sink_keys) {
        check_writable();
      } else {
        open_reader(config_, std::nullopt);  // opens the file and reads the header: encoding and quoting problems show now
      }
      return 0;
    });
  }

  std::string discover() override {
    return translate_errors([&] {
      std::unique_ptr<CsvReader> reader = open_reader(config_, std::nullopt);
      nlohmann::ordered_json fields = nlohmann::ordered_json::object();
      for (const std::string& column : reader->columns()) fields[column] = "string";
      nlohmann::ordered_json stream = {{"name", config_.stream}, {"fields", fields}};
      nlohmann::ordered_json catalog = {{"streams", nlohmann::ordered_json::array({stream})}};
      return catalog.dump();
    });
  }

  std::unique_ptr<sdk::StreamReader> open_stream(std::string_view stream, std::string_view cursor) override {
    if (!stream.empty() && stream != config_.stream) {
      throw sdk::config_error("csv: no stream '" + std::string(stream) + "'; this source offers '" + config_.stream +
                              "'");
    }
    std::optional<Position> resume;
    if (!cursor.empty()) {
      resume = parse_cursor(cursor);
      if (!resume) {
        throw sdk::config_error("csv: cannot parse the saved cursor '" + std::string(cursor) +
                                "' (expected offset=<bytes>;line=<line>); reset the stream's state");
      }
    }
    return translate_errors([&] {
      std::unique_ptr<CsvReader> reader = open_reader(config_, resume);
      Position start = reader->position();
      context().info("csv: reading '" + config_.path + "' (" + encoding_name(reader->encoding()) + ", delimiter " +
                     delimiter_name(reader->delimiter()) + ", " + std::to_string(reader->columns().size()) +
                     " columns) from line " + std::to_string(start.line) + ", byte " + std::to_string(start.offset));
      return std::make_unique<CsvStream>(std::move(reader), config_.null_values);
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
  CsvSink& sink() {
    if (!sink_) sink_ = std::make_unique<CsvSink>(config_);
    return *sink_;
  }

  void check_writable() const {
    struct stat st {};
    if (::stat(config_.path.c_str(), &st) == 0) {
      if (!S_ISREG(st.st_mode)) throw sdk::config_error("csv: '" + config_.path + "' is not a regular file");
      if (::access(config_.path.c_str(), W_OK) != 0) {
        throw sdk::config_error("csv: cannot write '" + config_.path + "': " + std::strerror(errno));
      }
      return;
    }
    size_t slash = config_.path.find_last_of('/');
    std::string directory = slash == std::string::npos ? "." : slash == 0 ? "/" : config_.path.substr(0, slash);
    if (::access(directory.c_str(), W_OK) != 0) {
      throw sdk::config_error("csv: cannot create '" + config_.path + "': directory '" + directory +
                              "': " + std::strerror(errno));
    }
  }

  static std::string delimiter_name(char delimiter) {
    if (delimiter == '\t') return "tab";
    return std::string("'") + delimiter + "'";
  }

  Config config_;
  std::unique_ptr<CsvSink> sink_;
};

}  // namespace
}  // namespace conflux::plugins::csv

CONFLUX_PLUGIN(conflux::plugins::csv::CsvPlugin,
               {"csv", "1.0.0", CONFLUX_KIND_SOURCE | CONFLUX_KIND_SINK,
                "CSV files: RFC 4180, UTF-8/UTF-16/windows-1251, resumable by byte offset; writes CSV too",
                conflux::plugins::csv::kConfigSchema, nullptr})
