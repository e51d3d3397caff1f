// The "salesforce" connector: a source of Salesforce objects (streams Contact, Lead, Account; incremental through
// SOQL on SystemModstamp, paged by nextRecordsUrl) and a sink that upserts one object by an external id field
// through sObject Collections, 200 records per request, with the sync modes and field rules of the local CRM and
// mirror deletes (ABI 1.2 delete_batch). All HTTP goes through the host (conflux::sdk::Http): retries of 429/5xx
// with Retry-After, the process-wide rate-limit bucket per (salesforce, org), redacted logs. Pure helpers live in
// salesforce_model.hpp.
#include <conflux/sdk/plugin.hpp>

#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "salesforce_model.hpp"

namespace conflux::plugins::salesforce {
namespace {

namespace sdk = conflux::sdk;

constexpr const char* kConfigSchema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "salesforce connector",
  "description": "Salesforce REST API: reads Contact, Lead and Account incrementally by SOQL on SystemModstamp (source), or upserts one object by an external id field through sObject Collections (sink). Keys marked 'source' or 'sink' apply to that role only.",
  "type": "object",
  "additionalProperties": false,
  "required": ["instance_url", "access_token"],
  "properties": {
    "instance_url": {"type": "string", "pattern": "^https?://[^/?#]+/?$",
                     "description": "The org's instance, e.g. https://MyDomain.my.salesforce.com (the instance_url of the OAuth token response), without a path."},
    "access_token": {"type": "string", "minLength": 1,
                     "description": "OAuth 2.0 access token (or session id), sent as a bearer token. A secret: give it as ${env:SALESFORCE_TOKEN} or ${file:...}. The connector does not refresh it."},
    "api_version": {"type": "string", "pattern": "^[0-9]{2}\\.0$", "default": "60.0",
                    "description": "REST API version without the v, 46.0 or later (sObject Collections upsert needs 46.0)."},
    "account": {"type": "string", "minLength": 1,
                "description": "Names the org for the host's rate-limit bucket (salesforce, account), shared by every pipeline of the process. Default: a hash of instance_url."},
    "select": {"type": "object", "additionalProperties": false,
               "properties": {"Contact": {"$ref": "#/definitions/field_list"},
                              "Lead": {"$ref": "#/definitions/field_list"},
                              "Account": {"$ref": "#/definitions/field_list"}},
               "description": "source: the fields each stream reads (its SOQL SELECT list); Id and SystemModstamp are always read. Default: a standard list per object (see docs/connectors/salesforce.md)."},
    "page_size": {"type": "integer", "minimum": 200, "maximum": 2000, "default": 2000,
                  "description": "source: records per query page (Sforce-Query-Options batchSize; Salesforce may return fewer)."},
    "object": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$", "default": "Contact",
               "description": "sink: the sObject records are upserted into (Contact, Lead, Account or any other, custom ones included)."},
    "external_id_field": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$",
                          "description": "sink (required there): the text External ID field records are matched by, e.g. External_Id__c; every record must have a field of this name."},
    "send_fields": {"$ref": "#/definitions/field_list",
                    "description": "sink: only these fields are sent (the external id always is). Default: every field but Salesforce's system fields (Id, SystemModstamp, CreatedDate, ...)."},
    "batch_size": {"type": "integer", "minimum": 1, "maximum": 200, "default": 200,
                   "description": "sink: records per sObject Collections request (Salesforce allows 200)."},
    "mode": {"type": "string", "enum": ["upsert", "update_only", "insert_only"], "default": "upsert",
             "description": "sink: upsert; update_only rejects (dead-letters) records Salesforce does not hold; insert_only leaves records it holds unchanged."},
    "fields": {"type": "object", "additionalProperties": {"type": "string", "enum": ["overwrite", "only_if_empty", "never"]},
               "description": "sink: per-field rule on update: overwrite (default), only_if_empty (sent only when Salesforce's value is empty or absent), never (sent only when the record is created)."}
  },
  "definitions": {
    "field_list": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_.]*$"}, "uniqueItems": true}
  }
})json";

struct Config {
  std::string instance_url;
  std::string token;
  std::string version = kDefaultApiVersion;
  std::string account;
  std::map<std::string, std::vector<std::string>> select;
  size_t page_size = 2000;
  std::string object = "Contact";
  std::string external_id;
  std::vector<std::string> send_fields;
  size_t batch_size = kMaxCollection;
  SyncMode mode = SyncMode::kUpsert;
  std::map<std::string, FieldRule> rules;

  // The sink must read the target first: to know which records it holds, or their values for only_if_empty.
  bool needs_lookup() const {
    if (mode != SyncMode::kUpsert) return true;
    return std::any_of(rules.begin(), rules.end(), [](const auto& r) { return r.second != FieldRule::kOverwrite; });
  }
  std::vector<std::string> selected(const std::string& object_name) const {
    auto it = select.find(object_name);
    return it != select.end() ? it->second : default_select(object_name);
  }
};

[[noreturn]] void bad_config(const std::string& message) { throw sdk::config_error("salesforce: " + message); }

Config parse_config(const std::string& text) {
  Config c;
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) bad_config("config must be an object");
  try {
    c.instance_url = j.value("instance_url", "");
    while (!c.instance_url.empty() && c.instance_url.back() == '/') c.instance_url.pop_back();
    c.token = j.value("access_token", "");
    c.version = j.value("api_version", c.version);
    c.account = j.value("account", "");
    const Json select = j.value("select", Json::object());  // kept: a range-for over items() of a temporary dangles
    for (const auto& [object, fields] : select.items()) {
      c.select[object] = fields.get<std::vector<std::string>>();
    }
    c.page_size = j.value("page_size", c.page_size);
    c.object = j.value("object", c.object);
    c.external_id = j.value("external_id_field", "");
    c.send_fields = j.value("send_fields", c.send_fields);
    c.batch_size = j.value("batch_size", c.batch_size);
    auto mode = parse_sync_mode(j.value("mode", "upsert"));
    if (!mode) bad_config("mode must be upsert, update_only or insert_only");
    c.mode = *mode;
    const Json rules = j.value("fields", Json::object());
    for (const auto& [field, rule] : rules.items()) {
      auto parsed = parse_field_rule(rule.get<std::string>());
      if (!parsed) bad_config("fields." + field + " must be overwrite, only_if_empty or never");
      if (!valid_api_name(field)) bad_config("fields: '" + field + "' is not a Salesforce field name");
      c.rules[field] = *parsed;
    }
  } catch (const sdk::Error&) {
    throw;
  } catch (const std::exception& e) {
    bad_config(std::string("config has a value of the wrong type: ") + e.what());
  }
  if (c.token.empty()) bad_config("access_token is empty (is the ${env:...} variable set?)");
  if (c.instance_url.rfind("https://", 0) != 0 && c.instance_url.rfind("http://", 0) != 0) {
    bad_config("instance_url must start with https:// (the org's instance, e.g. https://MyDomain.my.salesforce.com)");
  }
  if (!valid_api_version(c.version)) {
    bad_config("api_version must look like 60.0 and be " + std::to_string(kMinApiVersion) + ".0 or later");
  }
  if (!valid_api_name(c.object)) bad_config("object must be an sObject API name such as Contact");
  if (!c.external_id.empty() && !valid_api_name(c.external_id)) {
    bad_config("external_id_field must be a field API name such as External_Id__c");
  }
  if (c.batch_size < 1 || c.batch_size > kMaxCollection) bad_config("batch_size must be 1..200");
  if (c.page_size < 200 || c.page_size > 2000) bad_config("page_size must be 200..2000");
  for (const auto& [object, fields] : c.select) {
    if (!known_stream(object)) bad_config("select: no stream '" + object + "' (streams: Contact, Lead, Account)");
    if (fields.empty()) bad_config("select." + object + " is empty");
  }
  if (c.account.empty()) c.account = org_account(c.instance_url);
  return c;
}

// The failed request as one line: its status and Salesforce's own error array, never the URL (a lookup's URL holds
// up to 16 KB of record keys) nor a body that is not Salesforce's.
std::string describe_failure(const sdk::HttpResult& r) {
  if (r.status == 0) return r.error.size() > 400 ? r.error.substr(0, 400) + "..." : r.error;
  std::string says = salesforce_says(r.body);
  std::string text = "HTTP " + std::to_string(r.status);
  if (!says.empty()) return text + ": " + says;
  const std::string& error = r.error;
  const size_t http = error.find(": HTTP ");  // the host's "<method> <url>: HTTP <status> <kind>...": drop the URL
  std::string tail = http == std::string::npos ? error : error.substr(http + 2);
  return tail.size() > 400 ? tail.substr(0, 400) + "..." : tail;
}

// Throws the error the host classified, with Salesforce's message. 401/403 become one CONFIG error that names the
// fix, and so does 404 (an unknown object, field or API version); QUOTA stops the run with committed batches kept;
// RETRY/TIMEOUT let the host retry the call.
[[noreturn]] void fail(const sdk::HttpResult& r, const std::string& what) {
  conflux_code code = r.code == CONFLUX_OK ? CONFLUX_ERR_FATAL : r.code;
  std::string message = "salesforce: " + what + " failed: " + describe_failure(r);
  if (code == CONFLUX_ERR_CONFIG && (r.status == 401 || r.status == 403)) {
    message += "; check access_token (an OAuth access token or session id for instance_url, with API access; "
               "tokens expire, so give a fresh one)";
  } else if (r.status == 404) {
    code = CONFLUX_ERR_CONFIG;
    message += "; check instance_url, api_version, object and external_id_field";
  }
  throw sdk::Error(code, message);
}

// A 2xx body that must be JSON of `type`: a cut body arrives as a clean 2xx, so retry the call rather than take half
// a page for a whole one.
Json parse_body(const sdk::HttpResult& r, const std::string& what, Json::value_t type) {
  Json j = Json::parse(r.body, nullptr, false);
  if (j.type() != type) {
    throw sdk::retry_error("salesforce: " + what + ": the response is not a JSON " +
                           (type == Json::value_t::array ? "array" : "object") + " (truncated?)");
  }
  return j;
}

class Api {
 public:
  Api(const sdk::Context& context, const Config& config) : context_(context), config_(config), http_(context) {
    http_.rate_limit("salesforce", config.account);
  }

  // "/services/data/v60.0": the prefix of every resource path.
  std::string data_path() const { return "/services/data/v" + config_.version; }
  // The bytes of instance_url + data_path() + "/query?q=", for sizing query URLs.
  size_t query_prefix_bytes() const { return config_.instance_url.size() + data_path().size() + 9; }

  // `path` is relative to instance_url (nextRecordsUrl is such a path).
  sdk::HttpResult send(const char* method, const std::string& path, const Json* body = nullptr,
                       sdk::HttpHeaders extra = {}) {
    sdk::HttpRequest request;
    request.method = method;
    request.url = config_.instance_url + path;
    request.headers = {{"Authorization", "Bearer " + config_.token}, {"Accept", "application/json"}};
    if (body != nullptr) {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = body->dump();
    }
    for (auto& h : extra) request.headers.push_back(std::move(h));
    sdk::HttpResult r = http_.send(request);
    watch_usage(r);
    return r;
  }
  sdk::HttpResult query(const std::string& soql, sdk::HttpHeaders extra = {}) {
    return send("GET", data_path() + "/query?q=" + url_encode(soql), nullptr, std::move(extra));
  }

 private:
  // Salesforce reports the org's rolling 24-hour usage on every response; say so once when 90 % is used, before
  // REQUEST_LIMIT_EXCEEDED stops the run.
  void watch_usage(const sdk::HttpResult& r) {
    if (warned_) return;
    auto header = r.header("Sforce-Limit-Info");
    auto usage = header ? parse_api_usage(*header) : std::nullopt;
    if (usage && usage->second > 0 && usage->first * 10 >= usage->second * 9) {
      warned_ = true;
      context_.warn("salesforce: the org has used " + std::to_string(usage->first) + " of its " +
                    std::to_string(usage->second) +
                    " API requests of the last 24 hours (Sforce-Limit-Info); runs stop when none are left");
    }
  }

  const sdk::Context& context_;
  const Config& config_;
  sdk::Http http_;
  bool warned_ = false;
};

// A query page's "nextRecordsUrl" when "done" is false: a path under /services/data/. Anything else is a broken
// page, retried.
std::string next_records_path(const Json& page, const std::string& what) {
  if (page.value("done", true)) return {};
  const Json next = page.value("nextRecordsUrl", Json());
  if (!next.is_string() || next.get<std::string>().rfind("/services/data/", 0) != 0) {
    throw sdk::retry_error("salesforce: " + what + ": done is false but nextRecordsUrl is not a /services/data/ path");
  }
  return next.get<std::string>();
}

void check_query_page(const Json& page, const std::string& what) {
  if (!page.contains("records") || !page["records"].is_array() || !page.contains("done") || !page["done"].is_boolean()) {
    throw sdk::retry_error("salesforce: " + what + ": the response has no records array or done flag");
  }
}

// One stream: a SOQL query for everything after the cursor in (SystemModstamp, Id) order, then its nextRecordsUrl
// pages. Records are fetched into a buffer and emitted from it; the buffer, the next page and the cursor only move
// when a call succeeds, so a retried call returns what the failed one would have.
class Reader : public sdk::StreamReader {
 public:
  Reader(const sdk::Context& context, Api& api, const Config& config, std::string object, Cursor cursor)
      : context_(context), api_(api), config_(config), object_(std::move(object)), cursor_(std::move(cursor)) {}

  bool read_batch(size_t max_records, sdk::Emitter& out) override {
    const size_t want = std::max<size_t>(max_records, 1);
    bool restarted = false;
    while (buffer_.size() < want && (!started_ || !next_path_.empty())) fetch(restarted);
    size_t emitted = 0;
    while (emitted < want && !buffer_.empty()) {
      Json item = std::move(buffer_.front());
      buffer_.pop_front();
      const Json* id = find_field(item, "Id");
      const Json* stamp = find_field(item, "SystemModstamp");
      const int64_t ms = stamp && stamp->is_string() ? parse_time_ms(stamp->get<std::string>()).value_or(-1) : -1;
      if (!id || !id->is_string() || !valid_record_id(id->get<std::string>()) || ms < 0) {
        out.invalid(0, "salesforce: a " + object_ + " record without a valid Id or SystemModstamp", item.dump());
        continue;
      }
      if (!cursor_.before(ms, id->get<std::string>())) continue;  // emitted by an earlier batch or run
      emit(out, item);
      cursor_ = Cursor{ms, id->get<std::string>()};
      ++emitted;
    }
    read_ += emitted;
    out.cursor(encode_cursor(cursor_));
    out.progress(read_, std::max(read_, total_));
    return !buffer_.empty() || !next_path_.empty();
  }

 private:
  // Appends the next page to the buffer. An expired query locator (INVALID_QUERY_LOCATOR: Salesforce drops idle
  // ones) restarts the query from the cursor once per call, dropping the buffered records it will return again.
  void fetch(bool& restarted) {
    const bool first = !started_;
    const std::string what = first ? "query " + object_ : "next page of " + object_;
    sdk::HttpResult r =
        first ? api_.query(incremental_query(object_, config_.selected(object_), cursor_), page_options())
              : api_.send("GET", next_path_, nullptr, page_options());
    if (!r.ok()) {
      if (!first && !restarted && (r.status == 400 || r.status == 404) &&
          has_error_code(r.body, "INVALID_QUERY_LOCATOR")) {
        context_.warn("salesforce: the query locator of " + object_ + " expired; querying again from the cursor");
        restarted = true;
        buffer_.clear();
        next_path_.clear();
        started_ = false;
        return;
      }
      if (first && r.status == 400 && r.code == CONFLUX_ERR_FATAL) {
        // A query the connector built was refused: a field of `select` Salesforce does not know, most likely.
        throw sdk::config_error("salesforce: " + what + " failed: " + describe_failure(r) +
                                "; check select." + object_ + " (field API names of " + object_ + ")");
      }
      fail(r, what);
    }
    Json page = parse_body(r, what, Json::value_t::object);
    check_query_page(page, what);
    std::string next = next_records_path(page, what);
    if (first && page.contains("totalSize") && page["totalSize"].is_number_unsigned()) {
      total_ = read_ + page["totalSize"].get<uint64_t>();
    }
    for (Json& record : page["records"]) buffer_.push_back(std::move(record));
    next_path_ = std::move(next);
    started_ = true;
  }

  sdk::HttpHeaders page_options() const { return {{"Sforce-Query-Options", "batchSize=" + std::to_string(config_.page_size)}}; }

  // Flat record: every returned field under its API name, typed as Salesforce typed it (text, number, boolean,
  // null); relationship values as JSON. The "attributes" envelope is dropped.
  static void emit(sdk::Emitter& out, const Json& item) {
    out.begin();
    for (const auto& [name, value] : item.items()) {
      if (name == "attributes") continue;
      if (value.is_null()) {
        out.add_null(name);
      } else if (value.is_string()) {
        out.add_string(name, value.get<std::string>());
      } else if (value.is_boolean()) {
        out.add_bool(name, value.get<bool>());
      } else if (value.is_number_integer()) {
        out.add_int(name, value.get<int64_t>());
      } else if (value.is_number()) {
        out.add_double(name, value.get<double>());
      } else {
        Json nested = value;
        if (nested.is_object()) nested.erase("attributes");
        out.add_json(name, nested.dump());
      }
    }
    out.end(0);
  }

  const sdk::Context& context_;
  Api& api_;
  const Config& config_;
  std::string object_;
  Cursor cursor_;                // the last record emitted
  std::deque<Json> buffer_;      // fetched, not emitted yet; all after the cursor
  bool started_ = false;         // the query was sent (next_path_ then says whether pages remain)
  std::string next_path_;        // nextRecordsUrl of the last page; "" when it was the last
  uint64_t read_ = 0;
  uint64_t total_ = 0;
};

// A record field as the JSON value Salesforce takes: numbers and booleans as themselves, decimals as numbers, JSON
// values (e.g. a relationship by external id, {"External_Id__c":"..."}) as JSON.
Json field_value(const sdk::FieldView& field) {
  switch (field.type()) {
    case CONFLUX_VALUE_BOOL: return field.as_bool();
    case CONFLUX_VALUE_INT: return field.as_int();
    case CONFLUX_VALUE_DOUBLE: return field.as_double();
    case CONFLUX_VALUE_DECIMAL:
    case CONFLUX_VALUE_JSON: {
      Json parsed = Json::parse(field.text(), nullptr, false);
      return parsed.is_discarded() ? Json(std::string(field.text())) : parsed;
    }
    default: return std::string(field.text());
  }
}

class Salesforce : public sdk::Plugin {
 public:
  explicit Salesforce(const sdk::Context& context)
      : Plugin(context), config_(parse_config(context.config_json())), api_(this->context(), config_) {}

  // With external_id_field (a sink): the object, the external id and every field the sink's rules name exist.
  // Otherwise (a source): every stream object and its select list.
  void check() override {
    if (!config_.external_id.empty()) {
      Json described = describe(config_.object);
      const Json* ext = described_field(described, config_.external_id);
      if (ext == nullptr || !ext->value("externalId", false)) {
        bad_config(config_.object + "." + config_.external_id + " is not an External ID field of the org");
      }
      for (const auto& [field, rule] : config_.rules) require_field(described, config_.object, field, "fields");
      for (const auto& field : config_.send_fields) require_field(described, config_.object, field, "send_fields");
      return;
    }
    for (const auto& object : stream_objects()) {
      Json described = describe(object);
      for (const auto& field : config_.selected(object)) require_field(described, object, field, "select");
    }
  }

  // Each stream's selected fields with the types Salesforce's describe gives them.
  std::string discover() override {
    Json streams = Json::array();
    for (const auto& object : stream_objects()) {
      Json described = describe(object);
      Json fields = Json::object();
      for (const auto& name : with_fields(config_.selected(object), {"Id", "SystemModstamp"})) {
        const Json* f = described_field(described, name);
        const std::string type = f ? f->value("type", "string") : "string";
        fields[name] = type == "boolean" ? "bool"
                       : type == "int" ? "int"
                       : (type == "double" || type == "currency" || type == "percent") ? "double"
                                                                                        : "string";
      }
      streams.push_back({{"name", object}, {"fields", fields}});
    }
    return Json{{"streams", streams}}.dump();
  }

  std::unique_ptr<sdk::StreamReader> open_stream(std::string_view stream, std::string_view cursor) override {
    if (!known_stream(stream)) bad_config("no stream '" + std::string(stream) + "' (streams: Contact, Lead, Account)");
    auto decoded = decode_cursor(cursor);
    if (!decoded) {
      bad_config("unreadable cursor '" + std::string(cursor) + "' for stream " + std::string(stream) +
                 "; run `conflux state reset`");
    }
    return std::make_unique<Reader>(context(), api_, config_, std::string(stream), *decoded);
  }

  void write_batch(const sdk::BatchView& batch, sdk::Results& results) override {
    require_sink();
    std::vector<Input> inputs;
    for (size_t i = 0; i < batch.size(); ++i) {
      sdk::RecordView record = batch[i];
      auto key = record.find(config_.external_id);
      std::string value = key && !key->is_null() ? key->to_string() : std::string();
      if (value.find_first_not_of(" \t") == std::string::npos) {
        results.rejected(i, "salesforce: the record has no '" + config_.external_id +
                                "' (external_id_field), which Salesforce upserts by");
        continue;
      }
      Input in{i, value, lower(value), Json::object()};
      for (size_t f = 0; f < record.field_count(); ++f) {
        sdk::FieldView field = record.field_at(f);
        std::string name(field.name());
        if (field.is_null() || is_system_field(name) || name == config_.external_id) continue;
        if (!config_.send_fields.empty() &&
            std::find(config_.send_fields.begin(), config_.send_fields.end(), name) == config_.send_fields.end()) {
          continue;
        }
        in.fields[name] = field_value(field);
      }
      in.fields[config_.external_id] = value;
      inputs.push_back(std::move(in));
    }
    std::vector<Input*> sends = plan(inputs, results);
    std::vector<std::string> keys;
    for (const Input* in : sends) keys.push_back(in->normalised);
    for (const auto& chunk : chunk_inputs(keys, config_.batch_size)) {
      std::vector<const Input*> part;
      for (size_t k : chunk) part.push_back(sends[k]);
      upsert(part, results);
    }
  }

  // Mirror sync (ABI 1.2): deletes the records whose external ids the batch holds (sink.sync.key must be
  // external_id_field). One batched lookup finds their Ids; sObject Collections delete removes up to 200 per request,
  // allOrNone false. A key Salesforce no longer holds is unchanged, and so is a record deleted meanwhile
  // (ENTITY_IS_DELETED); any other refusal is rejected with Salesforce's reason.
  void delete_batch(const sdk::BatchView& batch, sdk::Results& results) override {
    require_sink();
    std::vector<std::string> keys(batch.size());
    std::vector<std::string> distinct;
    for (size_t i = 0; i < batch.size(); ++i) {
      auto key = batch[i].find(config_.external_id);
      keys[i] = key && !key->is_null() ? key->to_string() : std::string();
      if (keys[i].find_first_not_of(" \t") == std::string::npos) {
        results.rejected(i, "salesforce: mirror deletes by external_id_field '" + config_.external_id +
                                "', which the record does not hold: make it the sink's sync.key");
        keys[i].clear();
        continue;
      }
      if (std::find(distinct.begin(), distinct.end(), keys[i]) == distinct.end()) distinct.push_back(keys[i]);
    }
    std::map<std::string, Json> held = lookup(distinct);
    std::vector<std::string> ids;                        // to delete, each once, in batch order
    std::map<std::string, std::vector<size_t>> records;  // id -> the batch records it answers for
    for (size_t i = 0; i < batch.size(); ++i) {
      if (keys[i].empty()) continue;
      auto stored = held.find(lower(keys[i]));
      const Json* id = stored == held.end() ? nullptr : find_field(stored->second, "Id");
      if (id == nullptr || !id->is_string()) {
        results.unchanged(i);  // Salesforce no longer holds it
        continue;
      }
      if (records[id->get<std::string>()].empty()) ids.push_back(id->get<std::string>());
      records[id->get<std::string>()].push_back(i);
    }
    for (size_t from = 0; from < ids.size(); from += kMaxCollection) {
      const std::vector<std::string> part(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                          ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), from + kMaxCollection)));
      const std::string what = "delete of " + std::to_string(part.size()) + " " + config_.object;
      sdk::HttpResult r =
          api_.send("DELETE", api_.data_path() + "/composite/sobjects?ids=" + join(part, ",") + "&allOrNone=false");
      if (!r.ok()) fail(r, what);
      Json items = parse_body(r, what, Json::value_t::array);
      for (size_t k = 0; k < part.size(); ++k) {
        const Json item = k < items.size() ? items[k] : Json();
        conflux_write_outcome outcome = CONFLUX_WRITE_REJECTED;
        std::string reason = "salesforce: Salesforce returned no result for this delete";
        if (item.is_object() && item.value("success", false)) {
          outcome = CONFLUX_WRITE_DELETED;
        } else if (item.is_object()) {
          reason.clear();
          bool gone = false;
          for (const Json& error : item.value("errors", Json::array())) {
            gone = gone || (error.is_object() && error.value("statusCode", "") == "ENTITY_IS_DELETED");
            reason += (reason.empty() ? "" : "; ") + item_error_text(error);
          }
          if (gone) outcome = CONFLUX_WRITE_UNCHANGED;
          reason = "salesforce: Salesforce refused to delete " + part[k] + ": " + (reason.empty() ? "refused" : reason);
        }
        for (size_t i : records[part[k]]) {
          results.set(i, outcome, outcome == CONFLUX_WRITE_REJECTED ? reason : std::string());
        }
      }
    }
  }

 private:
  struct Input {
    size_t index;            // in the batch
    std::string key;         // the external id as the record has it
    std::string normalised;  // lower-case: Salesforce matches text external ids case-insensitively
    Json fields;             // what would be sent, the external id included
  };

  void require_sink() const {
    if (config_.external_id.empty()) {
      bad_config("external_id_field is required for the sink: the External ID field records are upserted by");
    }
  }

  Json describe(const std::string& object) {
    const std::string what = "describe " + object;
    sdk::HttpResult r = api_.send("GET", api_.data_path() + "/sobjects/" + object + "/describe");
    if (!r.ok()) fail(r, what);
    return parse_body(r, what, Json::value_t::object);
  }
  static const Json* described_field(const Json& described, const std::string& name) {
    if (!described.contains("fields") || !described["fields"].is_array()) return nullptr;
    for (const Json& f : described["fields"]) {
      if (f.is_object() && f.contains("name") && f["name"].is_string() && lower(f["name"].get<std::string>()) == lower(name)) {
        return &f;
      }
    }
    return nullptr;
  }
  static void require_field(const Json& described, const std::string& object, const std::string& field,
                            const std::string& key) {
    if (field.find('.') != std::string::npos) return;  // a relationship path: checked by the query itself
    if (described_field(described, field) == nullptr) bad_config(key + ": " + object + " has no field " + field);
  }

  // Applies the mode and field rules. Without them every record is sent. With them, one batched lookup reads the
  // records Salesforce holds under the batch's keys; a record sent earlier in the batch counts as held after it, so
  // duplicates within a batch behave as they would across batches.
  std::vector<Input*> plan(std::vector<Input>& inputs, sdk::Results& results) {
    std::vector<Input*> sends;
    if (!config_.needs_lookup()) {
      for (Input& in : inputs) sends.push_back(&in);
      return sends;
    }
    std::vector<std::string> keys;
    for (const Input& in : inputs) {
      if (std::find(keys.begin(), keys.end(), in.key) == keys.end()) keys.push_back(in.key);
    }
    std::map<std::string, Json> held = lookup(keys);
    for (Input& in : inputs) {
      auto stored = held.find(in.normalised);
      Plan p = plan_write(config_.mode, config_.rules, config_.external_id, in.fields,
                          stored == held.end() ? nullptr : &stored->second, config_.object);
      switch (p.action) {
        case Plan::Action::kUnchanged: results.unchanged(in.index); break;
        case Plan::Action::kReject: results.rejected(in.index, "salesforce: " + p.reason); break;
        case Plan::Action::kSend:
          in.fields = std::move(p.fields);
          Json& now_held = held[in.normalised];
          if (!now_held.is_object()) now_held = Json::object();
          now_held.update(in.fields);
          sends.push_back(&in);
          break;
      }
    }
    return sends;
  }

  // The records Salesforce holds under `keys` (normalised key -> record with Id, the key and the rule fields), by
  // SELECT ... WHERE <external id> IN (...), as few queries as the URL limit allows.
  std::map<std::string, Json> lookup(const std::vector<std::string>& keys) {
    std::vector<std::string> rule_fields;
    for (const auto& [field, rule] : config_.rules) {
      if (rule == FieldRule::kOnlyIfEmpty) rule_fields.push_back(field);
    }
    std::map<std::string, Json> held;
    const std::string what = "lookup of " + config_.object + " by " + config_.external_id;
    for (const auto& soql : lookup_queries(config_.object, config_.external_id, rule_fields, keys,
                                           api_.query_prefix_bytes())) {
      sdk::HttpResult r = api_.query(soql);
      while (true) {
        if (!r.ok()) {
          if (r.status == 400 && r.code == CONFLUX_ERR_FATAL) {
            throw sdk::config_error("salesforce: " + what + " failed: " + describe_failure(r) +
                                    "; check object, external_id_field and the field names under fields");
          }
          fail(r, what);
        }
        Json page = parse_body(r, what, Json::value_t::object);
        check_query_page(page, what);
        for (const Json& record : page["records"]) {
          const Json* key = find_field(record, config_.external_id);
          if (key == nullptr || key->is_null()) continue;
          held[lower(key->is_string() ? key->get<std::string>() : key->dump())] = record;
        }
        std::string next = next_records_path(page, what);
        if (next.empty()) break;
        r = api_.send("GET", next);
      }
    }
    return held;
  }

  // One sObject Collections upsert, allOrNone false: 200 with one UpsertResult per record, in request order. A 400
  // refuses the whole request (a malformed value in one record, a field Salesforce does not know): the request is
  // split in halves until the record at fault stands alone and is rejected by itself, so nothing is lost.
  void upsert(const std::vector<const Input*>& part, sdk::Results& results) {
    Json records = Json::array();
    for (const Input* in : part) {
      Json record = in->fields;
      record["attributes"] = {{"type", config_.object}};
      records.push_back(std::move(record));
    }
    const Json body = {{"allOrNone", false}, {"records", records}};
    const std::string what = "upsert of " + std::to_string(part.size()) + " " + config_.object;
    sdk::HttpResult r = api_.send(
        "PATCH", api_.data_path() + "/composite/sobjects/" + config_.object + "/" + config_.external_id, &body);
    if (!r.ok() && r.code == CONFLUX_ERR_FATAL && r.status == 400) {
      if (part.size() == 1) {
        std::string says = salesforce_says(r.body);
        results.rejected(part[0]->index,
                         "salesforce: Salesforce refused the record: " + (says.empty() ? describe_failure(r) : says));
        return;
      }
      const auto middle = part.begin() + static_cast<std::ptrdiff_t>(part.size() / 2);
      upsert(std::vector<const Input*>(part.begin(), middle), results);
      upsert(std::vector<const Input*>(middle, part.end()), results);
      return;
    }
    if (!r.ok()) fail(r, what);
    Json items = parse_body(r, what, Json::value_t::array);
    for (size_t i = 0; i < part.size(); ++i) {
      const Json item = i < items.size() ? items[i] : Json();
      if (!item.is_object()) {
        results.rejected(part[i]->index, "salesforce: Salesforce returned no result for this record");
      } else if (item.value("success", false)) {
        results.set(part[i]->index, item.value("created", false) ? CONFLUX_WRITE_CREATED : CONFLUX_WRITE_UPDATED);
      } else {
        std::string reason;
        for (const Json& error : item.value("errors", Json::array())) {
          reason += (reason.empty() ? "" : "; ") + item_error_text(error);
        }
        results.rejected(part[i]->index, "salesforce: " + (reason.empty() ? std::string("refused") : reason));
      }
    }
  }

  Config config_;
  Api api_;
};

}  // namespace
}  // namespace conflux::plugins::salesforce

CONFLUX_PLUGIN(conflux::plugins::salesforce::Salesforce,
               {"salesforce", "1.0.0", CONFLUX_KIND_SOURCE | CONFLUX_KIND_SINK,
                "Salesforce REST API: reads Contact, Lead and Account incrementally by SOQL; upserts by an external id "
                "through sObject Collections",
                conflux::plugins::salesforce::kConfigSchema, R"(["Contact","Lead","Account"])", true})
