// The "bitrix24" connector: a source of Bitrix24 CRM contacts, leads and deals (incremental by DATE_MODIFY with a
// tie-safe cursor) and a sink that writes unified records (schemas/records/) into one entity, idempotently: one
// batched lookup by the match key, then one `batch` of crm.*.add / crm.*.update commands per 50 records. All HTTP
// goes through the host (conflux::sdk::Http): retries with back-off, the process-wide rate limit per
// (bitrix24, portal), redacted logs. Pure helpers live in bitrix24_model.hpp.
#include <conflux/sdk/plugin.hpp>

#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bitrix24_model.hpp"

namespace conflux::plugins::bitrix24 {
namespace {

namespace sdk = conflux::sdk;

constexpr const char* kConfigSchema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "bitrix24 connector",
  "description": "Bitrix24 CRM: reads contacts, leads and deals incrementally (source) or writes unified contact, lead or deal records into one entity, matched by a key (sink). Give webhook_url, or portal_url with access_token. Keys marked 'source' or 'sink' apply to that role only.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "webhook_url": {"type": "string", "minLength": 1,
                    "description": "Inbound webhook: https://<portal>/rest/<user_id>/<secret>. A secret: give it as ${env:BITRIX24_WEBHOOK_URL} or ${file:...}."},
    "portal_url": {"type": "string", "minLength": 1,
                   "description": "OAuth: the portal's address, https://<portal>; methods are called at <portal_url>/rest/<method>.json."},
    "access_token": {"type": "string", "minLength": 1,
                     "description": "OAuth: the application's access token, sent as the auth parameter. A secret."},
    "account": {"type": "string", "minLength": 1,
                "description": "Names the portal for the host's rate limit, shared by every pipeline of the process using it. Default: the portal's host name."},
    "rate_limit": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000, "default": 2,
                   "description": "Requests per second for this portal's bucket when the host knows no limit for it yet (Bitrix24: 2; Enterprise: 5)."},
    "rate_burst": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 50,
                   "description": "Requests the bucket lets through at once (Bitrix24: 50; Enterprise: 250)."},
    "entity": {"type": "string", "enum": ["contact", "lead", "deal", "contacts", "leads", "deals"], "default": "contact",
               "description": "sink: what records are written as."},
    "match_key": {"type": "string", "enum": ["email", "phone", "source_id"],
                  "description": "sink: how an existing record is found: by an e-mail or phone of the EMAIL / PHONE multi-field, or by source_id (ORIGINATOR_ID = the record's source, ORIGIN_ID = its source_id). Default: email for contacts, source_id for leads and deals."},
    "originator": {"type": "string", "minLength": 1, "default": "conflux",
                   "description": "sink: ORIGINATOR_ID for records without a source field."},
    "mode": {"type": "string", "enum": ["upsert", "update_only", "insert_only"], "default": "upsert",
             "description": "sink: update_only rejects records Bitrix24 does not hold (dead-lettered, replayable); insert_only leaves the ones it holds unchanged."},
    "fields": {"type": "object", "additionalProperties": {"type": "string", "enum": ["overwrite", "only_if_empty", "never"]},
               "description": "sink: per-field rule when an existing record is updated, by unified name (phone) or Bitrix24 name (PHONE): only_if_empty writes only over an empty value, never only on create. ORIGINATOR_ID and ORIGIN_ID default to never."},
    "batch_size": {"type": "integer", "minimum": 1, "maximum": 50, "default": 50,
                   "description": "sink: records per lookup and per write batch call (Bitrix24 takes at most 50 commands per batch)."},
    "select": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"}, "uniqueItems": true,
               "description": "source: further Bitrix24 fields to read, emitted under their own names (e.g. ASSIGNED_BY_ID, UF_CRM_1720697698689)."}
  }
})json";

struct Config {
  std::string endpoint;  // <webhook_url> or <portal_url>/rest: methods are <endpoint>/<method>.json
  std::string token;     // OAuth access token; empty for a webhook
  std::string account;
  double rate_limit = 2;
  uint32_t rate_burst = 50;
  Entity entity = Entity::kContact;
  MatchKey match_key = MatchKey::kEmail;
  std::string originator = "conflux";
  std::string mode = "upsert";
  std::map<std::string, Rule> rules;  // Bitrix24 field name -> rule
  size_t batch_size = kMaxCommands;
  std::vector<std::string> select;
};

[[noreturn]] void bad_config(const std::string& message) { throw sdk::config_error("bitrix24: " + message); }

std::string strip_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// "https://portal.bitrix24.ru/rest/1/x" -> "portal.bitrix24.ru": the host names the portal, whose leaky bucket all
// its webhooks and applications share.
std::string host_of(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

Config parse_config(const std::string& text) {
  Config c;
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) bad_config("config must be an object");
  try {
    const std::string webhook = strip_slashes(j.value("webhook_url", ""));
    const std::string portal = strip_slashes(j.value("portal_url", ""));
    c.token = j.value("access_token", "");
    if (!webhook.empty() && (!portal.empty() || !c.token.empty())) {
      bad_config("give either webhook_url, or portal_url with access_token, not both");
    }
    if (!webhook.empty()) {
      c.endpoint = webhook;
    } else if (!portal.empty() && !c.token.empty()) {
      c.endpoint = portal + "/rest";
    } else {
      bad_config("webhook_url (https://<portal>/rest/<user_id>/<secret>) or portal_url with access_token is "
                 "required (is the ${env:...} variable set?)");
    }
    if (c.endpoint.rfind("http://", 0) != 0 && c.endpoint.rfind("https://", 0) != 0) {
      bad_config(std::string(webhook.empty() ? "portal_url" : "webhook_url") + " must start with https://");
    }
    c.account = j.value("account", host_of(c.endpoint));
    c.rate_limit = j.value("rate_limit", c.rate_limit);
    c.rate_burst = j.value("rate_burst", c.rate_burst);
    c.entity = *entity_from_name(j.value("entity", "contact"));
    c.match_key = default_match_key(c.entity);
    if (j.contains("match_key")) c.match_key = *match_key_from_name(j["match_key"].get<std::string>());
    if (c.match_key != MatchKey::kSourceId && !has_multi_fields(c.entity)) {
      bad_config("deals have no EMAIL or PHONE; match them by source_id");
    }
    c.originator = j.value("originator", c.originator);
    c.mode = j.value("mode", c.mode);
    c.batch_size = j.value("batch_size", c.batch_size);
    c.select = j.value("select", c.select);
    // Provenance is written when a record is created; a later source must not rewrite it.
    c.rules = {{"ORIGINATOR_ID", Rule::kNever}, {"ORIGIN_ID", Rule::kNever}};
    const Json field_rules = j.value("fields", Json::object());  // kept: items() of a temporary would dangle
    for (const auto& [name, rule] : field_rules.items()) {
      std::vector<std::string> targets = is_bitrix_name(name) ? std::vector<std::string>{name}
                                                              : bitrix_names(c.entity, name);
      if (targets.empty()) {
        bad_config("fields: '" + name + "' is not a unified " + entity_name(c.entity) +
                   " field the sink writes, nor a Bitrix24 field name (upper case, e.g. NAME or UF_CRM_...)");
      }
      for (const auto& t : targets) c.rules[t] = *rule_from_name(rule.get<std::string>());
    }
  } catch (const sdk::Error&) {
    throw;
  } catch (const std::exception& e) {
    bad_config(std::string("config has a value of the wrong type: ") + e.what());
  }
  return c;
}

// Bitrix24's error body {"error":..,"error_description":..} as a CommandError; nullopt when the body is not one.
std::optional<CommandError> error_body(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error")) return std::nullopt;
  return CommandError{scalar_text(j["error"]), j.contains("error_description") ? scalar_text(j["error_description"]) : ""};
}

// The hint that goes with an authentication failure: what to check.
std::string auth_hint(const Config& config) {
  return config.token.empty()
             ? "check webhook_url (the user id and secret of an active inbound webhook with the crm scope)"
             : "check access_token (OAuth access tokens expire after an hour; renew it) and the application's crm scope";
}

// Throws the error a failed request deserves, with Bitrix24's own code and description. 401/403 and the auth codes
// become one CONFIG error naming the fix; 503 QUERY_LIMIT_EXCEEDED, 5xx and network faults are RETRY.
[[noreturn]] void fail(const Config& config, const sdk::HttpResult& r, const std::string& what) {
  std::string message = "bitrix24: " + what + " failed: " + r.error;
  auto says = error_body(r.body);
  if (says && r.error.find(says->code) == std::string::npos) message += "; Bitrix24 says " + says->text();
  conflux_code code = r.code == CONFLUX_OK ? CONFLUX_ERR_FATAL : r.code;
  if (says && classify_error(*says) == Fault::kAuth) code = CONFLUX_ERR_CONFIG;
  if (code == CONFLUX_ERR_CONFIG) message += "; " + auth_hint(config);
  throw sdk::Error(code, message);
}

// A command's error that is not the record's fault: stop the call the way the error says.
[[noreturn]] void fail_command(const Config& config, const CommandError& error, const std::string& what) {
  const std::string message = "bitrix24: " + what + " failed: " + error.text();
  if (classify_error(error) == Fault::kAuth) throw sdk::config_error(message + "; " + auth_hint(config));
  throw sdk::retry_error(message);
}

class Api {
 public:
  Api(const sdk::Context& context, const Config& config) : config_(config), context_(context), http_(context) {
    // The host takes a rate per period in whole requests: express fractional rates per 10 s.
    const bool whole = config.rate_limit == static_cast<double>(static_cast<uint32_t>(config.rate_limit));
    http_.rate_limit("bitrix24", config.account,
                     static_cast<uint32_t>(whole ? config.rate_limit : config.rate_limit * 10 + 0.5),
                     whole ? 1000 : 10'000, config.rate_burst);
  }

  // One REST call: POST <endpoint>/<method>.json with a JSON body. `writes`: the call changes data, so the host must
  // not re-send it blindly (a cut response may follow a call that ran, and re-sent adds would be duplicates): it is
  // sent with max_attempts 1 and re-sent here only when Bitrix24 refused it unrun (a rate limit); any other failure
  // fails the plugin call, whose retry looks the records up again first.
  Json call(const std::string& method_name, Json params, bool writes = false) const {
    if (!config_.token.empty()) params["auth"] = config_.token;
    sdk::HttpRequest request;
    request.method = "POST";
    request.url = config_.endpoint + "/" + method_name + ".json";
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    request.body = params.dump();
    request.max_attempts = writes ? 1 : 0;
    sdk::HttpResult r = http_.send(request);
    for (int attempt = 1; writes && refused_unrun(r) && attempt < kWriteAttempts; ++attempt) {
      if (!pause(std::chrono::milliseconds(500) * (1 << (attempt - 1)))) break;
      r = http_.send(request);
    }
    if (!r.ok()) {
      if (writes && (r.code == CONFLUX_ERR_RETRY || r.code == CONFLUX_ERR_TIMEOUT)) {
        r.error += " (writes are not re-sent as they are; the records are looked up again first)";
      }
      fail(config_, r, method_name);
    }
    Json body = Json::parse(r.body, nullptr, false);
    // A cut body can arrive as a clean 200: retry the call rather than take half an answer for a whole one.
    if (!body.is_object()) throw sdk::retry_error("bitrix24: " + method_name + ": the response is not a JSON object (truncated?)");
    if (body.contains("error")) {
      CommandError e{scalar_text(body["error"]), body.contains("error_description") ? scalar_text(body["error_description"]) : ""};
      if (classify_error(e) == Fault::kRecord) throw sdk::fatal_error("bitrix24: " + method_name + " failed: " + e.text());
      fail_command(config_, e, method_name);
    }
    return body;
  }

  // Runs commands (key -> "method?query") through `batch` with halt=0, at most 50 per call, and merges the replies.
  // `server_second`, when given, receives the second Bitrix24 started the (last) call at: its `time.start`.
  BatchReply batch(const std::vector<std::pair<std::string, std::string>>& commands, bool writes,
                   std::optional<int64_t>* server_second = nullptr) const {
    BatchReply all;
    for (size_t start = 0; start < commands.size(); start += kMaxCommands) {
      Json cmd = Json::object();
      for (size_t i = start; i < commands.size() && i < start + kMaxCommands; ++i) cmd[commands[i].first] = commands[i].second;
      Json body = call("batch", Json{{"halt", 0}, {"cmd", cmd}}, writes);
      auto reply = read_batch_reply(body);
      if (!reply) throw sdk::retry_error("bitrix24: batch: the response has no result.result / result.result_error");
      if (server_second != nullptr) {
        const Json time = body.value("time", Json::object());
        *server_second = time.is_object() && time.contains("start") && time["start"].is_number()
                             ? std::optional<int64_t>(static_cast<int64_t>(time["start"].get<double>()))
                             : std::nullopt;
      }
      all.results.merge(reply->results);
      all.errors.merge(reply->errors);
    }
    return all;
  }

 private:
  static constexpr int kWriteAttempts = 5;

  // A refusal that says the request did not run: Bitrix24's 503 QUERY_LIMIT_EXCEEDED, or a 429 (a method blocked by
  // its time budget).
  static bool refused_unrun(const sdk::HttpResult& r) {
    if (r.status == 429) return true;
    auto says = r.status == 503 ? error_body(r.body) : std::nullopt;
    return says && says->code == "QUERY_LIMIT_EXCEEDED";
  }

  // Waits `wait` unless the run is cancelled first; false when it was.
  bool pause(std::chrono::milliseconds wait) const {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      if (context_.cancelled()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  const Config& config_;
  const sdk::Context& context_;
  sdk::Http http_;
};

// The rows a list command returned, or an empty list when the command has no result.
std::vector<Json> rows_of(const BatchReply& reply, const std::string& key) {
  auto it = reply.results.find(key);
  if (it == reply.results.end() || !it->second.is_array()) return {};
  return std::vector<Json>(it->second.begin(), it->second.end());
}

// One stream, read in (DATE_MODIFY, ID) order by keyset, not by offset: each call is one `batch` of two list
// commands, the rest of the cursor's own second ("ties": DATE_MODIFY = t, ID > id) and what follows it
// (DATE_MODIFY > t), both with start=-1 (no row count, as Bitrix24 advises for large reads). Every call starts from
// the cursor, so a record modified while the run reads moves behind it and is read later, never lost; and a second
// is consumed only once it is over by the server's clock (`time.start`), so no later write lands behind the cursor.
class Reader : public sdk::StreamReader {
 public:
  Reader(const sdk::Context& context, const Config& config, Entity entity, Cursor cursor)
      : config_(config), api_(context, config_), entity_(entity), cursor_(std::move(cursor)) {
    select_ = select_fields(entity);
    for (const auto& s : config_.select) {
      if (std::find(select_.begin(), select_.end(), s) == select_.end()) select_.push_back(s);
    }
  }

  bool read_batch(size_t max_records, sdk::Emitter& out) override {
    const std::string list = method(entity_, "list");
    std::vector<std::pair<std::string, std::string>> commands;
    if (!cursor_.empty()) {
      const std::string t = filter_time(cursor_.modified_s);
      commands.emplace_back("ties", command(list, {{"filter", {{">=DATE_MODIFY", t}, {"<=DATE_MODIFY", t}, {">ID", cursor_.id}}},
                                                   {"order", {{"ID", "ASC"}}}, {"select", select_}, {"start", -1}}));
    }
    Json after = Json::object();
    if (!cursor_.empty()) after[">DATE_MODIFY"] = filter_time(cursor_.modified_s);
    // Json objects keep keys sorted; DATE_MODIFY sorts before ID, the order Bitrix24 applies them in.
    commands.emplace_back("next", command(list, {{"filter", after}, {"order", {{"DATE_MODIFY", "ASC"}, {"ID", "ASC"}}},
                                                 {"select", select_}, {"start", -1}}));
    std::optional<int64_t> now;
    BatchReply reply = api_.batch(commands, false, &now);
    for (const auto& [key, error] : reply.errors) {
      if (classify_error(error) == Fault::kRecord) throw sdk::fatal_error("bitrix24: " + list + " failed: " + error.text());
      fail_command(config_, error, list);
    }
    std::vector<Json> rows = rows_of(reply, "ties");
    bool more = rows.size() >= kPage;
    if (!more) {  // the next second's rows follow only once the ties are done
      std::vector<Json> next = rows_of(reply, "next");
      more = next.size() >= kPage;
      rows.insert(rows.end(), next.begin(), next.end());
    }
    size_t emitted = 0;
    for (const Json& row : rows) {
      if (emitted == max_records) {
        more = true;
        break;
      }
      constexpr int64_t kUnreadable = std::numeric_limits<int64_t>::min();
      const std::string id = row.is_object() ? text_of(row, "ID") : "";
      const int64_t modified = row.is_object() ? parse_time(text_of(row, "DATE_MODIFY")).value_or(kUnreadable) : kUnreadable;
      if (!all_digits(id) || modified == kUnreadable) {
        out.invalid(0, "bitrix24: a " + entity_name(entity_) + " without a numeric ID or a readable DATE_MODIFY",
                    row.dump());
        continue;
      }
      if (!cursor_.before(modified, id)) continue;  // emitted by an earlier batch or run
      if (now && modified >= *now) {
        // Bitrix24's current second may still get records with lower IDs; it is read once it has passed.
        more = false;
        break;
      }
      emit(out, to_unified(entity_, row, config_.select));
      cursor_ = Cursor{modified, id};
      ++emitted;
    }
    out.cursor(encode_cursor(cursor_));
    return more;
  }

 private:
  static void emit(sdk::Emitter& out, const Json& record) {
    out.begin();
    for (const auto& [name, value] : record.items()) {
      if (value.is_string()) {
        out.add_string(name, value.get<std::string>());
      } else if (value.is_number_integer()) {
        out.add_int(name, value.get<int64_t>());
      } else if (value.is_number()) {
        out.add_double(name, value.get<double>());
      } else if (value.is_boolean()) {
        out.add_bool(name, value.get<bool>());
      } else if (value.is_null()) {
        out.add_null(name);
      } else {
        out.add_json(name, value.dump());
      }
    }
    out.end(0);
  }

  const Config config_;
  Api api_;
  Entity entity_;
  Cursor cursor_;
  std::vector<std::string> select_;
};

// A record of a batch as JSON: text stays text (decimals too, for their precision), JSON values are parsed.
Json record_json(const sdk::RecordView& record) {
  Json out = Json::object();
  for (size_t f = 0; f < record.field_count(); ++f) {
    sdk::FieldView field = record.field_at(f);
    const std::string name(field.name());
    switch (field.type()) {
      case CONFLUX_VALUE_NULL: out[name] = nullptr; break;
      case CONFLUX_VALUE_BOOL: out[name] = field.as_bool(); break;
      case CONFLUX_VALUE_INT: out[name] = field.as_int(); break;
      case CONFLUX_VALUE_DOUBLE: out[name] = field.as_double(); break;
      case CONFLUX_VALUE_JSON: {
        Json v = Json::parse(field.text(), nullptr, false);
        out[name] = v.is_discarded() ? Json(std::string(field.text())) : v;
        break;
      }
      default: out[name] = std::string(field.text()); break;
    }
  }
  return out;
}

class Bitrix24 : public sdk::Plugin {
 public:
  explicit Bitrix24(const sdk::Context& context) : Plugin(context), config_(parse_config(context.config_json())) {}

  void check() override {
    Api api(context(), config_);
    api.call(method(config_.entity, "list"), {{"select", {"ID"}}, {"start", -1}});
  }

  std::string discover() override {
    Json streams = Json::array();
    for (Entity e : {Entity::kContact, Entity::kLead, Entity::kDeal}) {
      Json fields = {{"source", "string"}, {"source_id", "string"}, {"updated_at", "string"}, {"created_at", "string"}};
      for (const auto& f : kTextFields) {
        if (f.entities & bit(e)) fields[f.unified] = "string";
      }
      if (has_multi_fields(e)) {
        for (const auto& f : kMultiFields) fields[f.unified] = "string";
      }
      if (e == Entity::kLead) {
        for (const char* n : {"status", "source_status", "contact_source_id"}) fields[n] = "string";
        fields["value"] = "double";
      }
      if (e == Entity::kDeal) {
        for (const char* n : {"status", "stage", "pipeline", "expected_close_date", "contact_source_id",
                              "company_source_id", "lead_source_id"}) {
          fields[n] = "string";
        }
        fields["amount"] = "double";
      }
      for (const auto& s : config_.select) fields[s] = "string";
      streams.push_back({{"name", stream_name(e)}, {"fields", fields}});
    }
    return Json{{"streams", streams}}.dump();
  }

  std::unique_ptr<sdk::StreamReader> open_stream(std::string_view stream, std::string_view cursor) override {
    auto entity = entity_from_name(stream);
    if (!entity || stream != stream_name(*entity)) {
      bad_config("no stream '" + std::string(stream) + "' (streams: contacts, leads, deals)");
    }
    auto decoded = decode_cursor(cursor);
    if (!decoded) {
      bad_config("unreadable cursor '" + std::string(cursor) + "' for stream " + std::string(stream) +
                 "; run `conflux state reset`");
    }
    return std::make_unique<Reader>(context(), config_, *entity, *decoded);
  }

  void write_batch(const sdk::BatchView& batch, sdk::Results& results) override {
    Api api(context(), config_);
    std::vector<Input> inputs;
    std::vector<std::string> keys;
    for (size_t i = 0; i < batch.size(); ++i) {
      Json record = record_json(batch[i]);
      std::vector<std::string> unmapped;
      Input in{i, to_bitrix(config_.entity, record, config_.originator, &unmapped), Json(), {}};
      warn_unmapped(unmapped);
      auto filter = key_filter(config_.match_key, in.fields);
      if (!filter) {
        results.rejected(i, "bitrix24: the record has no '" + match_key_text() + "' (match_key) to find the " +
                                entity_name(config_.entity) + " by");
        continue;
      }
      in.filter = *filter;
      if (config_.entity != Entity::kContact) {
        std::string contact = text_of(record, "contact_source_id");
        if (!contact.empty()) in.contact_filter = Json{{"ORIGINATOR_ID", in.fields["ORIGINATOR_ID"]}, {"ORIGIN_ID", contact}};
      }
      keys.push_back(key_text(config_.match_key, in.filter));
      inputs.push_back(std::move(in));
    }
    for (const auto& chunk : chunk_by_key(keys, config_.batch_size)) {
      std::vector<Input*> part;
      for (size_t k : chunk) part.push_back(&inputs[k]);
      write_chunk(api, part, results);
    }
  }

  // Mirror sync: the batch's records hold the sink.sync.key fields only, which must give the match key (email, phone,
  // or source and source_id). One `batch` of lookups, then one of crm.<entity>.delete for what Bitrix24 still holds
  // (the oldest record of a key, the one the sink writes to); what it no longer holds is unchanged.
  void delete_batch(const sdk::BatchView& batch, sdk::Results& results) override {
    Api api(context(), config_);
    const std::string entity = entity_name(config_.entity);
    std::vector<std::pair<size_t, Json>> keyed;  // record index, filter
    std::vector<std::string> keys;
    for (size_t i = 0; i < batch.size(); ++i) {
      auto filter = key_filter(config_.match_key, to_bitrix(config_.entity, record_json(batch[i]), config_.originator));
      if (!filter) {
        results.rejected(i, "bitrix24: the mirror key gives no '" + match_key_text() + "' (match_key) to find the " +
                                entity + " by; make sink.sync.key hold it");
        continue;
      }
      keys.push_back(key_text(config_.match_key, *filter));
      keyed.emplace_back(i, *filter);
    }
    for (const auto& chunk : chunk_by_key(keys, config_.batch_size)) {
      std::vector<std::pair<std::string, std::string>> lookups;
      for (size_t j = 0; j < chunk.size(); ++j) {
        lookups.emplace_back(slot('k', j), command(method(config_.entity, "list"), {{"filter", keyed[chunk[j]].second},
                                                                                    {"order", {{"ID", "ASC"}}},
                                                                                    {"select", {"ID"}},
                                                                                    {"start", -1}}));
      }
      BatchReply found = api.batch(lookups, false);
      std::vector<std::pair<std::string, std::string>> deletes;
      std::map<std::string, size_t> pending;  // delete key -> record
      for (size_t j = 0; j < chunk.size(); ++j) {
        const size_t index = keyed[chunk[j]].first;
        if (auto e = found.errors.find(slot('k', j)); e != found.errors.end()) {
          if (classify_error(e->second) != Fault::kRecord) fail_command(config_, e->second, "looking up a " + entity);
          results.rejected(index, "bitrix24: looking the " + entity + " up failed: " + e->second.text());
          continue;
        }
        std::vector<Json> held = rows_of(found, slot('k', j));
        if (held.empty()) {
          results.unchanged(index);  // already gone
          continue;
        }
        deletes.emplace_back(slot('d', j), command(method(config_.entity, "delete"), {{"id", text_of(held.front(), "ID")}}));
        pending[slot('d', j)] = index;
      }
      if (deletes.empty()) continue;
      BatchReply deleted = api.batch(deletes, true);
      for (const auto& [key, index] : pending) {
        if (auto e = deleted.errors.find(key); e != deleted.errors.end()) {
          if (classify_error(e->second) != Fault::kRecord) fail_command(config_, e->second, "deleting a " + entity);
          // Deleted in between (or by a first attempt whose answer was lost): gone is what mirror wants.
          if (lower(e->second.description).find("not found") != std::string::npos) {
            results.unchanged(index);
          } else {
            results.rejected(index, "bitrix24: Bitrix24 refused to delete the " + entity + ": " + e->second.text());
          }
        } else if (deleted.results.count(key)) {
          results.deleted(index);
        } else {
          throw sdk::retry_error("bitrix24: the delete batch returned neither a result nor an error for a record");
        }
      }
    }
  }

 private:
  struct Input {
    size_t index;        // in the batch
    Json fields;         // what the record says, as Bitrix24 fields
    Json filter;         // finds it by the match key
    Json contact_filter; // leads and deals: finds the contact that contact_source_id names
  };

  std::string match_key_text() const {
    return config_.match_key == MatchKey::kEmail ? "email" : config_.match_key == MatchKey::kPhone ? "phone" : "source_id";
  }

  void warn_unmapped(const std::vector<std::string>& names) {
    for (const auto& name : names) {
      if (!warned_.insert(name).second) continue;
      context().warn("bitrix24: field '" + name + "' has no Bitrix24 " + entity_name(config_.entity) +
                     " mapping and is not sent; rename it to a Bitrix24 field (e.g. UF_CRM_...) to send it");
    }
  }

  // Up to batch_size records with distinct keys: one `batch` of lookups (and contact links), then one `batch` of
  // adds and updates. Records Bitrix24 already holds as they are cost no write.
  void write_chunk(const Api& api, const std::vector<Input*>& part, sdk::Results& results) const {
    const std::string entity = entity_name(config_.entity);
    std::vector<std::pair<std::string, std::string>> lookups;
    for (size_t j = 0; j < part.size(); ++j) {
      std::vector<std::string> select = {"ID"};
      for (const auto& [name, value] : part[j]->fields.items()) select.push_back(name);
      if (!part[j]->contact_filter.is_null()) select.push_back("CONTACT_ID");  // filled in once the contact is found
      lookups.emplace_back(slot('k', j), command(method(config_.entity, "list"), {{"filter", part[j]->filter},
                                                                                   {"order", {{"ID", "ASC"}}},
                                                                                   {"select", select},
                                                                                   {"start", -1}}));
      if (!part[j]->contact_filter.is_null()) {
        lookups.emplace_back(slot('c', j), command("crm.contact.list", {{"filter", part[j]->contact_filter},
                                                                        {"order", {{"ID", "ASC"}}},
                                                                        {"select", {"ID"}},
                                                                        {"start", -1}}));
      }
    }
    BatchReply found = api.batch(lookups, false);

    std::vector<std::pair<std::string, std::string>> writes;
    std::map<std::string, std::pair<size_t, conflux_write_outcome>> pending;  // write key -> record, outcome
    for (size_t j = 0; j < part.size(); ++j) {
      Input& in = *part[j];
      if (auto e = found.errors.find(slot('k', j)); e != found.errors.end()) {
        if (classify_error(e->second) != Fault::kRecord) fail_command(config_, e->second, "looking up a " + entity);
        results.rejected(in.index, "bitrix24: looking the " + entity + " up failed: " + e->second.text());
        continue;
      }
      if (auto e = found.errors.find(slot('c', j)); e != found.errors.end()) {
        if (classify_error(e->second) != Fault::kRecord) fail_command(config_, e->second, "looking up a contact");
        results.rejected(in.index, "bitrix24: looking up the contact of contact_source_id failed: " + e->second.text());
        continue;
      }
      if (found.results.find(slot('k', j)) == found.results.end()) {
        throw sdk::retry_error("bitrix24: the lookup batch returned neither a result nor an error for a record");
      }
      std::vector<Json> contact = rows_of(found, slot('c', j));
      if (!contact.empty()) in.fields["CONTACT_ID"] = text_of(contact.front(), "ID");
      std::vector<Json> held = rows_of(found, slot('k', j));
      const std::string key = slot('w', j);
      if (held.empty()) {
        if (config_.mode == "update_only") {
          results.rejected(in.index, "bitrix24: no stored " + entity + " has this " + match_key_text() +
                                         " and the sink's mode is update_only");
          continue;
        }
        writes.emplace_back(key, command(method(config_.entity, "add"),
                                         {{"fields", in.fields}, {"params", {{"REGISTER_SONET_EVENT", "N"}}}}));
        pending[key] = {in.index, CONFLUX_WRITE_CREATED};
        continue;
      }
      // Several records with the key (duplicates in the CRM): the oldest one is updated.
      const Json& stored = held.front();
      Json changes = config_.mode == "insert_only" ? Json::object() : plan_update(in.fields, stored, config_.rules);
      if (changes.empty()) {
        results.unchanged(in.index);
        continue;
      }
      writes.emplace_back(key, command(method(config_.entity, "update"), {{"id", text_of(stored, "ID")},
                                                                         {"fields", changes},
                                                                         {"params", {{"REGISTER_SONET_EVENT", "N"}}}}));
      pending[key] = {in.index, CONFLUX_WRITE_UPDATED};
    }
    if (writes.empty()) return;

    BatchReply written = api.batch(writes, true);
    for (const auto& [key, target] : pending) {
      if (auto e = written.errors.find(key); e != written.errors.end()) {
        if (classify_error(e->second) != Fault::kRecord) fail_command(config_, e->second, "writing a " + entity);
        results.rejected(target.first, "bitrix24: Bitrix24 refused the " + entity + ": " + e->second.text());
      } else if (written.results.count(key)) {
        results.set(target.first, target.second);
      } else {
        // Whether it ran is unknown: retrying the call looks the record up again, so it is written once.
        throw sdk::retry_error("bitrix24: the write batch returned neither a result nor an error for a record");
      }
    }
  }

  // "k07": command keys sort in the order the commands were made (Bitrix24 runs a batch in key order).
  static std::string slot(char kind, size_t j) {
    char text[32];
    std::snprintf(text, sizeof text, "%c%02zu", kind, j);
    return text;
  }

  Config config_;
  std::set<std::string> warned_;
};

}  // namespace
}  // namespace conflux::plugins::bitrix24

CONFLUX_PLUGIN(conflux::plugins::bitrix24::Bitrix24,
               {"bitrix24", "1.0.0", CONFLUX_KIND_SOURCE | CONFLUX_KIND_SINK,
                "Bitrix24 CRM: reads contacts, leads and deals incrementally; writes unified records idempotently "
                "through batch lookups and batch adds / updates; deletes for mirror sync",
                conflux::plugins::bitrix24::kConfigSchema, R"(["contacts","leads","deals"])", true})
