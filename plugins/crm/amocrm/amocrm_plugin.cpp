// The "amocrm" connector: a source of amoCRM (API v4) contacts and leads, read incrementally by updated_at and
// emitted in the unified contact / lead shape, and a sink that creates and updates contacts or leads by a match key
// (amoCRM has no upsert: the sink looks the keys up first, then POSTs the missing and PATCHes the found). All HTTP
// goes through the host (conflux::sdk::Http): retries of 429/5xx, the process-wide 7 requests/s bucket per
// (amocrm, account), redacted logs. Pure helpers live in amocrm_model.hpp.
#include <conflux/sdk/plugin.hpp>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "amocrm_model.hpp"

namespace conflux::plugins::amocrm {
namespace {

namespace sdk = conflux::sdk;

constexpr const char* kConfigSchema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "amocrm connector",
  "description": "amoCRM API v4: reads contacts and leads incrementally by updated_at as unified records (source), or creates and updates contacts or leads by a match key (sink). Keys marked 'source' or 'sink' apply to that role only. Give base_url or subdomain.",
  "type": "object",
  "additionalProperties": false,
  "required": ["access_token"],
  "properties": {
    "base_url": {"type": "string", "minLength": 1,
                 "description": "The account's own API root, e.g. https://example.amocrm.ru (no trailing slash). Wins over subdomain."},
    "subdomain": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]*$",
                  "description": "The account's subdomain: requests go to https://<subdomain>.<domain>."},
    "domain": {"type": "string", "default": "amocrm.ru", "enum": ["amocrm.ru", "amocrm.com", "kommo.com"],
               "description": "The domain of the account's subdomain."},
    "access_token": {"type": "string", "minLength": 1,
                     "description": "A long-lived token or an OAuth access token, sent as a bearer token. A secret: give it as ${env:AMOCRM_TOKEN} or ${file:...}."},
    "account": {"type": "string", "minLength": 1,
                "description": "Names the account for the host's rate limit, shared by every pipeline of the process using it. Default: the API host."},
    "rate_limit": {"type": "integer", "minimum": 1, "maximum": 7, "default": 7,
                   "description": "Requests per second for this account's bucket when the host has none set for it yet (amoCRM allows 7)."},
    "source_name": {"type": "string", "minLength": 1, "default": "amocrm",
                    "description": "source: the `source` field of every record."},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$",
                 "description": "source: the currency of lead prices (default: the account's, from GET /api/v4/account)."},
    "object": {"type": "string", "enum": ["contacts", "leads"], "default": "contacts",
               "description": "sink: what records are written as."},
    "match_key": {"type": "string", "minLength": 1,
                  "description": "sink: the record field that identifies the entity in amoCRM. Default: email (contacts), source_id (leads)."},
    "key_field": {"type": "string", "minLength": 1,
                  "description": "sink: the amoCRM field holding the match key, by field_code or numeric field_id. Default: EMAIL for match_key email, PHONE for phone; required otherwise (e.g. a text field for leads' source_id)."},
    "lookup": {"type": "string", "enum": ["index", "query"], "default": "index",
               "description": "sink: how existing entities are found. index: read every entity once per run, then the changes since before each batch (one request per batch); query: one ?query= search per new or changed key (no up-front read; for large accounts and small loads)."},
    "batch_size": {"type": "integer", "minimum": 1, "maximum": 250, "default": 250,
                   "description": "sink: entities per POST or PATCH request (amoCRM allows 250)."},
    "mode": {"type": "string", "enum": ["upsert", "update_only", "insert_only"], "default": "upsert",
             "description": "sink: update_only rejects records amoCRM does not hold (dead-lettered, replayable); insert_only leaves the ones it holds unchanged."},
    "fields": {"type": "object", "additionalProperties": {"enum": ["overwrite", "only_if_empty", "never"]},
               "description": "sink: per record field, how an update treats it: only_if_empty writes only over a missing or blank amoCRM value, never writes it only when the entity is created."}
  }
})json";

struct Config {
  std::string base_url;
  std::string token;
  std::string account;
  uint32_t rate_limit = 7;
  std::string source_name = "amocrm";
  std::string currency;
  Entity object = Entity::kContacts;
  std::string match_key;
  FieldRef key_field;
  bool index_lookup = true;
  size_t batch_size = kMaxPage;
  enum class Mode { kUpsert, kUpdateOnly, kInsertOnly } mode = Mode::kUpsert;
  FieldRules rules;
};

[[noreturn]] void bad_config(const std::string& message) { throw sdk::config_error("amocrm: " + message); }

// The host part of an http(s) URL, lower-cased: the default rate-limit account.
std::string url_host(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
  return lower(host);
}

Config parse_config(const std::string& text) {
  Config c;
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) bad_config("config must be an object");
  std::string subdomain, domain = "amocrm.ru", object = "contacts", lookup = "index", mode = "upsert", key_field;
  try {
    c.base_url = j.value("base_url", std::string());
    subdomain = j.value("subdomain", subdomain);
    domain = j.value("domain", domain);
    c.token = j.value("access_token", std::string());
    c.account = j.value("account", std::string());
    c.rate_limit = j.value("rate_limit", c.rate_limit);
    c.source_name = j.value("source_name", c.source_name);
    c.currency = j.value("currency", c.currency);
    object = j.value("object", object);
    c.match_key = j.value("match_key", std::string());
    key_field = j.value("key_field", std::string());
    lookup = j.value("lookup", lookup);
    c.batch_size = j.value("batch_size", c.batch_size);
    mode = j.value("mode", mode);
    const Json fields = j.value("fields", Json::object());
    for (const auto& [name, rule] : fields.items()) {
      const std::string r = rule.get<std::string>();
      c.rules[name] = r == "never" ? FieldRule::kNever : r == "only_if_empty" ? FieldRule::kOnlyIfEmpty
                                                                               : FieldRule::kOverwrite;
    }
  } catch (const std::exception& e) {
    bad_config(std::string("config has a value of the wrong type: ") + e.what());
  }
  if (c.token.empty()) bad_config("access_token is empty (is the ${env:...} variable set?)");
  if (c.base_url.empty()) {
    if (subdomain.empty()) bad_config("give base_url or subdomain: amoCRM serves each account on its own host");
    c.base_url = "https://" + subdomain + "." + domain;
  }
  while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
  if (c.account.empty()) c.account = url_host(c.base_url);
  c.object = entity_of(object).value_or(Entity::kContacts);
  if (c.match_key.empty()) c.match_key = c.object == Entity::kContacts ? "email" : "source_id";
  if (key_field.empty()) {
    if (c.object == Entity::kContacts && c.match_key == "email") key_field = "EMAIL";
    if (c.object == Entity::kContacts && c.match_key == "phone") key_field = "PHONE";
  }
  if (key_field.empty()) {
    bad_config("key_field is required for match_key '" + c.match_key + "' of " + entity_name(c.object) +
               ": name the amoCRM field (field_code or field_id) that holds it, e.g. a text field for source_id");
  }
  c.key_field = FieldRef::parse(key_field);
  if (c.object == Entity::kLeads && key_kind(c.key_field) != KeyKind::kText) {
    bad_config("leads have no " + c.key_field.code + " field: key_field must be a lead field (code or id)");
  }
  c.index_lookup = lookup == "index";
  c.mode = mode == "update_only" ? Config::Mode::kUpdateOnly
           : mode == "insert_only" ? Config::Mode::kInsertOnly : Config::Mode::kUpsert;
  if (c.batch_size < 1 || c.batch_size > kMaxPage) bad_config("batch_size must be 1..250");
  return c;
}

// Throws the error the host classified, with amoCRM's problem text. 401/403 become one CONFIG error naming the fix;
// RETRY/TIMEOUT let the host retry the call.
[[noreturn]] void fail(const sdk::HttpResult& r, const std::string& what) {
  std::string message = "amocrm: " + what + " failed: " + r.error;
  std::string says = problem_text(Json::parse(r.body, nullptr, false));
  if (!says.empty() && r.error.find(says) == std::string::npos) message += "; amoCRM says: " + says;
  if (r.code == CONFLUX_ERR_CONFIG && (r.status == 401 || r.status == 403)) {
    message += "; check access_token (a long-lived token or OAuth access token of this account) and base_url / "
               "subdomain (the account's own host)";
  }
  throw sdk::Error(r.code == CONFLUX_OK ? CONFLUX_ERR_FATAL : r.code, message);
}

// A success body as JSON. 204 (amoCRM's answer to an empty list) is an empty object. A body that does not parse
// arrived cut short: retry the call rather than take half a page for a whole one.
Json parse_body(const sdk::HttpResult& r, const std::string& what) {
  if (r.status == 204) return Json::object();
  Json j = Json::parse(r.body, nullptr, false);
  if (!j.is_object()) throw sdk::retry_error("amocrm: " + what + ": the response is not a JSON object (truncated?)");
  return j;
}

// The entities of a list or write response: _embedded.<kind>.
Json embedded(const Json& body, Entity entity) {
  if (!body.contains("_embedded") || !body["_embedded"].is_object()) return Json::array();
  Json list = body["_embedded"].value(entity_name(entity), Json::array());
  return list.is_array() ? list : Json::array();
}

bool has_next(const Json& body) {
  return body.contains("_links") && body["_links"].is_object() && body["_links"].contains("next");
}

constexpr uint32_t kPacingPeriodMs = 1050;
// Ids per filter[id][] lookup: 100 keep the URL near 3 KB, well inside the 8 KB request lines servers accept.
constexpr size_t kIdsPerLookup = 100;
constexpr int kCreateAttempts = 5;

class Api {
 public:
  Api(const sdk::Context& context, const Config& config) : config_(config), http_(context) {
    // Paced smoothly (bursts of one) at rate_limit per 1.05 s: the 5 % headroom keeps network jitter from putting
    // more than rate_limit requests into one second as amoCRM counts them.
    http_.rate_limit("amocrm", config.account, config.rate_limit, kPacingPeriodMs, 1);
  }
  sdk::HttpResult get(const std::string& path_and_query) const {
    return http_.get(config_.base_url + path_and_query, headers());
  }
  sdk::HttpResult patch(const std::string& path, const Json& body) const {
    return http_.patch(config_.base_url + path, body.dump(), headers());
  }
  // A create is not resent after a failure in transit or a 5xx: it may have happened. Only a 429, which amoCRM
  // answers before doing anything, is sent again (the host's bucket paces the attempts).
  sdk::HttpResult create(const std::string& path, const Json& body) const {
    sdk::HttpRequest r;
    r.method = "POST";
    r.url = config_.base_url + path;
    r.headers = headers();
    r.body = body.dump();
    r.max_attempts = 1;
    sdk::HttpResult result;
    for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
      result = http_.send(r);
      if (result.status != 429) break;
    }
    return result;
  }

 private:
  sdk::HttpHeaders headers() const {
    return {{"Authorization", "Bearer " + config_.token},
            {"Accept", "application/hal+json"},
            {"Content-Type", "application/json"}};
  }
  const Config& config_;
  sdk::Http http_;
};

// ---------------------------------------------------------------------------------------------------------------
// Source

// One stream. Every request asks for updated_at >= the cursor's second, sorted by updated_at (ties by id), and skips
// what the cursor already covers, so an entity changed while we read moves behind the cursor and is read later, never
// lost. `offset_` counts the entities of that list known to come before the first one not yet emitted, so a long run
// of ties (one POST stamps 250 entities with one second) costs one request per page, not a walk from page 1.
class Reader : public sdk::StreamReader {
 public:
  Reader(const sdk::Context& context, const Config& config, Entity entity, Cursor cursor, ReadOptions options)
      : config_(config), api_(context, config_), entity_(entity), cursor_(cursor), options_(std::move(options)) {}

  bool read_batch(size_t max_records, sdk::Emitter& out) override {
    const size_t limit = std::clamp<size_t>(max_records, 1, kMaxPage);
    const std::string what = "reading " + std::string(entity_name(entity_));
    // Each pass reads one page; only a page holding nothing new (ties emitted before) or a shifted list (below)
    // leads to another pass, so at most `limit` records are emitted per call.
    for (size_t pass = 0;; ++pass) {
      const size_t page = offset_ / limit + 1;
      std::vector<std::pair<std::string, std::string>> params{{"limit", std::to_string(limit)},
                                                              {"page", std::to_string(page)},
                                                              {"order[updated_at]", "asc"}};
      if (!cursor_.empty()) params.emplace_back("filter[updated_at][from]", std::to_string(cursor_.updated_s));
      if (entity_ == Entity::kLeads) params.emplace_back("with", "contacts");
      sdk::HttpResult r = api_.get("/api/v4/" + std::string(entity_name(entity_)) + query_string(params));
      if (!r.ok()) fail(r, what);
      Json body = parse_body(r, what);
      if (r.status != 204 && !(body.contains("_embedded") && body["_embedded"].is_object())) {
        throw sdk::retry_error("amocrm: " + what + ": the response has no _embedded list");
      }
      const Json items = embedded(body, entity_);
      // A page whose start lies before offset_ should begin with something already emitted. When it begins with
      // something new, entities before it left the cursor's second (they changed since) and the list moved up:
      // read the page before it instead. (A page starting exactly at offset_ cannot tell; that window is the time
      // between two requests, as for any paging over a live list.)
      if (page > 1 && offset_ % limit != 0 && !items.empty() && pass < kMaxPasses) {
        auto id = int_member(items[0], "id");
        auto updated = int_member(items[0], "updated_at");
        if (id && updated && cursor_.before(*updated, *id)) {
          offset_ = (page - 2) * limit;
          continue;
        }
      }
      // Entities of the server's current second are left for the next read: amoCRM may still stamp more changes
      // with that second, and one with a lower id would fall behind a cursor that had passed it.
      const std::optional<int64_t> now = parse_http_date(r.header("Date").value_or(""));
      const int64_t second_before = cursor_.updated_s;
      bool held_back = false;
      size_t emitted = 0, last = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        const Json& item = items[i];
        auto id = int_member(item, "id");
        auto updated = int_member(item, "updated_at");
        if (updated && now && *updated >= *now) {
          held_back = true;
          break;
        }
        std::optional<OrderedJson> record = entity_ == Entity::kContacts ? contact_record(item, options_)
                                                                          : lead_record(item, options_);
        if (!id || !updated || !record) {
          if (invalid_seen_.insert(item.dump()).second) {
            out.invalid(0, "amocrm: a " + std::string(entity_singular(entity_)) +
                               " without an integer id or updated_at", item.dump());
          }
          continue;
        }
        if (!cursor_.before(*updated, *id)) continue;  // emitted by an earlier batch or run
        emit(out, *record);
        cursor_ = Cursor{*updated, *id};
        ++emitted;
        last = i;
      }
      const bool more = !held_back && has_next(body) && items.size() >= limit;
      if (emitted == 0 && more && pass < kMaxPasses) {
        offset_ = page * limit;  // all of this page was emitted before
        continue;
      }
      if (emitted > 0) {
        if (cursor_.updated_s == second_before) {
          offset_ = (page - 1) * limit + last + 1;
        } else {  // the list of the next request starts at the new second: count its entities emitted so far
          offset_ = 0;
          for (size_t i = 0; i <= last; ++i) {
            offset_ += int_member(items[i], "updated_at") == cursor_.updated_s ? 1 : 0;
          }
        }
      }
      out.cursor(encode_cursor(cursor_));
      read_ += emitted;
      out.progress(read_, 0);
      return more;
    }
  }

 private:
  static constexpr size_t kMaxPasses = 10'000;

  static void emit(sdk::Emitter& out, const OrderedJson& record) {
    out.begin();
    for (const auto& [name, value] : record.items()) {
      if (value.is_string()) {
        out.add_string(name, value.get<std::string>());
      } else if (value.is_number_integer()) {
        out.add_int(name, value.get<int64_t>());
      } else if (value.is_number_float()) {
        out.add_double(name, value.get<double>());
      } else if (value.is_boolean()) {
        out.add_bool(name, value.get<bool>());
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
  ReadOptions options_;
  size_t offset_ = 0;                    // see the class comment
  std::set<std::string> invalid_seen_;  // invalid entities reported in this run, so a re-read page repeats none
  uint64_t read_ = 0;
};

// ---------------------------------------------------------------------------------------------------------------
// Sink

// One record of a write batch on its way to amoCRM.
struct Item {
  size_t index = 0;  // in the batch
  std::string key;   // normalised match key
  Json record;       // the record's fields
  std::vector<Attr> attrs;
  int64_t id = 0;    // the entity it updates; 0 = create
  Json body;
};

// Finds entities by match key. `index`: every entity of the account read once, then the changes since before each
// batch. `query`: a search per key. Entities the sink itself wrote are known without asking.
class Finder {
 public:
  explicit Finder(const Config& config) : config_(config) {}

  // Before a batch: the index catches up with amoCRM (built on first use).
  void refresh(const Api& api) {
    if (!config_.index_lookup) return;
    const std::string path = "/api/v4/" + std::string(entity_name(config_.object));
    if (!built_) {
      for (size_t page = 1;; ++page) {
        Json body = list(api, path + query_string({{"limit", "250"}, {"page", std::to_string(page)},
                                                   {"order[id]", "asc"}}));
        const Json items = embedded(body, config_.object);
        for (const Json& e : items) add(e);
        if (!has_next(body) || items.size() < kMaxPage) break;
      }
      built_ = true;
      return;
    }
    for (size_t page = 1;; ++page) {
      Json body = list(api, path + query_string({{"limit", "250"}, {"page", std::to_string(page)},
                                                 {"order[updated_at]", "asc"},
                                                 {"filter[updated_at][from]", std::to_string(since_)}}));
      const Json items = embedded(body, config_.object);
      for (const Json& e : items) add(e);
      if (!has_next(body) || items.size() < kMaxPage) break;
    }
  }

  // The id of the entity holding `key`, or 0. A query lookup keeps the entities it saw in `seen`.
  int64_t find(const Api& api, const std::string& key, std::map<int64_t, Json>& seen) {
    if (auto it = known_.find(key); it != known_.end()) return it->second;
    if (config_.index_lookup) {
      auto it = id_by_key_.find(key);
      return it == id_by_key_.end() ? 0 : it->second;
    }
    Json body = list(api, "/api/v4/" + std::string(entity_name(config_.object)) +
                              query_string({{"query", key}, {"limit", "250"}}));
    int64_t best = 0;
    for (const Json& e : embedded(body, config_.object)) {
      auto id = int_member(e, "id");
      if (!id) continue;
      seen[*id] = e;
      // The search matches any field containing the text: keep only exact holders of the key, the oldest first.
      for (const std::string& k : entity_keys(e, config_.key_field)) {
        if (k == key && (best == 0 || *id < best)) best = *id;
      }
    }
    return best;
  }

  // An entity the sink created or updated under `key`.
  void learn(const std::string& key, int64_t id) {
    known_[key] = id;
    if (config_.index_lookup && (id_by_key_.count(key) == 0 || id < id_by_key_[key])) id_by_key_[key] = id;
  }

 private:
  Json list(const Api& api, const std::string& path_and_query) {
    const std::string what = "looking up " + std::string(entity_name(config_.object));
    sdk::HttpResult r = api.get(path_and_query);
    if (!r.ok()) fail(r, what);
    return parse_body(r, what);
  }

  void add(const Json& entity) {
    auto id = int_member(entity, "id");
    if (!id) return;
    since_ = std::max(since_, int_member(entity, "updated_at").value_or(0));
    // Forget the keys this entity held before: they may have changed.
    for (const std::string& old : keys_by_id_[*id]) {
      auto it = id_by_key_.find(old);
      if (it != id_by_key_.end() && it->second == *id) id_by_key_.erase(it);
    }
    keys_by_id_[*id] = entity_keys(entity, config_.key_field);
    for (const std::string& k : keys_by_id_[*id]) {
      auto it = id_by_key_.find(k);
      if (it == id_by_key_.end() || *id < it->second) id_by_key_[k] = *id;  // duplicates: the oldest wins
    }
  }

  const Config& config_;
  bool built_ = false;
  int64_t since_ = 0;  // the newest updated_at the index has seen
  std::map<std::string, int64_t> id_by_key_;
  std::map<int64_t, std::vector<std::string>> keys_by_id_;
  std::map<std::string, int64_t> known_;
};

class AmoCrm : public sdk::Plugin {
 public:
  explicit AmoCrm(const sdk::Context& context)
      : Plugin(context), config_(parse_config(context.config_json())), finder_(config_) {}

  void check() override {
    Api api(context(), config_);
    sdk::HttpResult r = api.get("/api/v4/account");
    if (!r.ok()) fail(r, "reading the account");
    parse_body(r, "reading the account");
  }

  std::string discover() override {
    Json contact = {{"source", "string"}, {"source_id", "string"}, {"updated_at", "string"},
                    {"created_at", "string"}, {"full_name", "string"}, {"first_name", "string"},
                    {"last_name", "string"}, {"email", "string"}, {"email_secondary", "string"},
                    {"emails", "json"}, {"phone", "string"}, {"phone_secondary", "string"},
                    {"phones", "json"}, {"job_title", "string"}, {"owner", "string"},
                    {"company_source_id", "string"}, {"tags", "json"}, {"custom_fields", "json"}};
    Json lead = {{"source", "string"}, {"source_id", "string"}, {"updated_at", "string"},
                 {"created_at", "string"}, {"closed_at", "string"}, {"title", "string"}, {"value", "int"},
                 {"currency", "string"}, {"status", "string"}, {"source_status", "string"},
                 {"status_id", "string"}, {"pipeline_id", "string"}, {"owner", "string"},
                 {"contact_source_id", "string"}, {"company_source_id", "string"}, {"tags", "json"},
                 {"custom_fields", "json"}};
    for (const auto& [code, name] : touch_fields()) lead[name] = "string";
    return Json{{"streams", Json::array({{{"name", "contacts"}, {"fields", contact}},
                                          {{"name", "leads"}, {"fields", lead}}})}}.dump();
  }

  std::unique_ptr<sdk::StreamReader> open_stream(std::string_view stream, std::string_view cursor) override {
    auto entity = entity_of(stream);
    if (!entity) bad_config("no stream '" + std::string(stream) + "' (streams: contacts, leads)");
    auto decoded = decode_cursor(cursor);
    if (!decoded) {
      bad_config("unreadable cursor '" + std::string(cursor) + "' for stream " + std::string(stream) +
                 "; run `conflux state reset`");
    }
    ReadOptions options;
    options.source_name = config_.source_name;
    if (*entity == Entity::kLeads) {
      Api api(context(), config_);
      options.currency = config_.currency;
      if (options.currency.empty()) {
        sdk::HttpResult r = api.get("/api/v4/account");
        if (!r.ok()) fail(r, "reading the account's currency");
        options.currency = parse_body(r, "reading the account").value("currency", std::string());
      }
      sdk::HttpResult r = api.get("/api/v4/leads/pipelines");
      if (!r.ok()) fail(r, "reading the lead pipelines");
      options.stages = parse_stages(parse_body(r, "reading the lead pipelines"));
    }
    return std::make_unique<Reader>(context(), config_, *entity, *decoded, std::move(options));
  }

  // Per batch: find every key (the index catches up first, or one search per key), read the found entities, then
  // create the missing (POST, up to batch_size per request) and update the found that differ (PATCH). Records
  // repeating a key of the batch go in a later round, so they update what the earlier one wrote.
  void write_batch(const sdk::BatchView& batch, sdk::Results& results) override {
    Api api(context(), config_);
    std::vector<Item> items;
    const KeyKind kind = key_kind(config_.key_field);
    for (size_t i = 0; i < batch.size(); ++i) {
      Item item;
      item.index = i;
      item.record = record_json(batch[i]);
      item.key = normalise_key(kind, detail::record_text(item.record, config_.match_key));
      if (item.key.empty()) {
        results.rejected(i, "amocrm: the record has no '" + config_.match_key + "' (match_key), which the sink " +
                                "matches " + entity_name(config_.object) + " by");
        continue;
      }
      item.attrs = desired_attrs(config_.object, item.record, config_.key_field, config_.match_key);
      items.push_back(std::move(item));
    }
    std::vector<std::vector<Item>> rounds;
    std::map<std::string, size_t> seen;
    for (Item& item : items) {
      size_t round = seen[item.key]++;
      if (rounds.size() <= round) rounds.resize(round + 1);
      rounds[round].push_back(std::move(item));
    }
    for (auto& round : rounds) write_round(api, round, results);
  }

 private:
  static Json record_json(const sdk::RecordView& record) {
    Json out = Json::object();
    for (size_t f = 0; f < record.field_count(); ++f) {
      sdk::FieldView field = record.field_at(f);
      std::string name(field.name());
      switch (field.type()) {
        case CONFLUX_VALUE_NULL: break;
        case CONFLUX_VALUE_BOOL: out[name] = field.as_bool(); break;
        case CONFLUX_VALUE_INT: out[name] = field.as_int(); break;
        case CONFLUX_VALUE_DOUBLE: out[name] = field.as_double(); break;
        case CONFLUX_VALUE_JSON: {
          Json parsed = Json::parse(field.text(), nullptr, false);
          out[name] = parsed.is_discarded() ? Json(std::string(field.text())) : parsed;
          break;
        }
        default: out[name] = std::string(field.text()); break;
      }
    }
    return out;
  }

  void write_round(const Api& api, std::vector<Item>& items, sdk::Results& results) {
    finder_.refresh(api);
    std::map<int64_t, Json> stored;
    for (Item& item : items) item.id = finder_.find(api, item.key, stored);
    fetch_missing(api, items, stored);
    std::vector<Item*> creates, updates;
    const std::string what = entity_singular(config_.object);
    for (Item& item : items) {
      auto found = item.id != 0 ? stored.find(item.id) : stored.end();
      if (item.id != 0 && found == stored.end()) item.id = 0;  // gone since it was indexed
      if (item.id == 0) {
        if (config_.mode == Config::Mode::kUpdateOnly) {
          results.rejected(item.index, "amocrm: no amoCRM " + what + " has this " + config_.match_key +
                                           " and the sink's mode is update_only");
          continue;
        }
        item.body = write_body(item.attrs, nullptr, config_.rules, nullptr);
        creates.push_back(&item);
        continue;
      }
      if (config_.mode == Config::Mode::kInsertOnly) {
        results.unchanged(item.index);
        continue;
      }
      bool changed = false;
      item.body = write_body(item.attrs, &found->second, config_.rules, &changed);
      if (!changed) {
        results.unchanged(item.index);
        continue;
      }
      item.body["id"] = item.id;
      updates.push_back(&item);
    }
    for (size_t start = 0; start < creates.size(); start += config_.batch_size) {
      send(api, "POST", slice(creates, start), results);
    }
    for (size_t start = 0; start < updates.size(); start += config_.batch_size) {
      send(api, "PATCH", slice(updates, start), results);
    }
  }

  std::vector<Item*> slice(const std::vector<Item*>& all, size_t start) const {
    return {all.begin() + static_cast<std::ptrdiff_t>(start),
            all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), start + config_.batch_size))};
  }

  // Reads the found entities the lookup did not return whole (index hits, entities learned from writes).
  void fetch_missing(const Api& api, const std::vector<Item>& items, std::map<int64_t, Json>& stored) {
    std::vector<int64_t> ids;
    for (const Item& item : items) {
      if (item.id != 0 && stored.count(item.id) == 0 &&
          std::find(ids.begin(), ids.end(), item.id) == ids.end()) {
        ids.push_back(item.id);
      }
    }
    for (size_t start = 0; start < ids.size(); start += kIdsPerLookup) {
      std::vector<std::pair<std::string, std::string>> params{{"limit", "250"}};
      for (size_t i = start; i < ids.size() && i < start + kIdsPerLookup; ++i) {
        params.emplace_back("filter[id][]", std::to_string(ids[i]));
      }
      const std::string what = "reading " + std::string(entity_name(config_.object)) + " by id";
      sdk::HttpResult r = api.get("/api/v4/" + std::string(entity_name(config_.object)) + query_string(params));
      if (!r.ok()) fail(r, what);
      for (const Json& e : embedded(parse_body(r, what), config_.object)) {
        if (auto id = int_member(e, "id")) stored[*id] = e;
      }
    }
  }

  // One POST (create) or PATCH (update) of up to batch_size entities, each with request_id = its position. A 400
  // with validation-errors rejects the items it names (amoCRM writes none of the request then) and sends the rest
  // again; a 400 without them is split in halves until the item at fault stands alone.
  void send(const Api& api, const char* method, std::vector<Item*> part, sdk::Results& results) {
    const bool create = method[0] == 'P' && method[1] == 'O';
    const std::string path = "/api/v4/" + std::string(entity_name(config_.object));
    while (!part.empty()) {
      Json body = Json::array();
      for (size_t k = 0; k < part.size(); ++k) {
        Json entity = part[k]->body;
        entity["request_id"] = std::to_string(k);
        body.push_back(std::move(entity));
      }
      const std::string what = std::string(create ? "creating " : "updating ") + std::to_string(part.size()) +
                               " " + entity_name(config_.object);
      sdk::HttpResult r = create ? api.create(path, body) : api.patch(path, body);
      if (!r.ok() && r.status == 400) {
        Json problem = Json::parse(r.body, nullptr, false);
        std::map<std::string, std::string> errors = validation_errors(problem);
        std::vector<Item*> rest;
        for (size_t k = 0; k < part.size(); ++k) {
          auto e = errors.find(std::to_string(k));
          if (e == errors.end()) {
            rest.push_back(part[k]);
          } else {
            results.rejected(part[k]->index, "amocrm: amoCRM refused the " + std::string(entity_singular(config_.object)) +
                                                 ": " + e->second);
          }
        }
        if (rest.size() == part.size()) {  // no item named: find the one at fault by halves
          if (part.size() == 1) {
            std::string says = problem_text(problem);
            results.rejected(part[0]->index, "amocrm: amoCRM refused the " +
                                                 std::string(entity_singular(config_.object)) + ": " +
                                                 (says.empty() ? r.error : says));
            return;
          }
          const auto middle = part.begin() + static_cast<std::ptrdiff_t>(part.size() / 2);
          send(api, method, std::vector<Item*>(part.begin(), middle), results);
          send(api, method, std::vector<Item*>(middle, part.end()), results);
          return;
        }
        part = std::move(rest);
        continue;
      }
      if (!r.ok()) {
        if (create && (r.code == CONFLUX_ERR_RETRY || r.code == CONFLUX_ERR_TIMEOUT)) {
          // The host retries the whole call; its lookup then finds whatever this request did create.
          throw sdk::retry_error("amocrm: " + what + " failed: " + r.error + " (not resent: the lookup of the " +
                                 "retried call finds what it created)");
        }
        fail(r, what);
      }
      Json answer = Json::parse(r.body, nullptr, false);
      if (!answer.is_object()) {
        if (create) throw sdk::retry_error("amocrm: " + what + ": the response is not a JSON object (truncated?)");
        answer = parse_body(r, what);
      }
      // Results are matched by the request_id amoCRM echoes; updates also by id, creates by position when no
      // request_id came back at all.
      const Json answered = embedded(answer, config_.object);
      std::map<std::string, int64_t> by_request;
      std::set<int64_t> ids;
      for (const Json& e : answered) {
        auto id = int_member(e, "id");
        if (!id) continue;
        ids.insert(*id);
        if (e.contains("request_id")) by_request[value_text(e["request_id"])] = *id;
      }
      const bool positional = create && by_request.empty() && answered.size() == part.size();
      for (size_t k = 0; k < part.size(); ++k) {
        auto it = by_request.find(std::to_string(k));
        int64_t id = it != by_request.end() ? it->second : 0;
        if (id == 0 && !create && ids.count(part[k]->id) != 0) id = part[k]->id;
        if (id == 0 && positional) id = int_member(answered[k], "id").value_or(0);
        if (id == 0) {
          results.rejected(part[k]->index, "amocrm: amoCRM returned no result for this " +
                                               std::string(entity_singular(config_.object)));
          continue;
        }
        finder_.learn(part[k]->key, id);
        if (create) {
          results.created(part[k]->index);
        } else {
          results.updated(part[k]->index);
        }
      }
      return;
    }
  }

  Config config_;
  Finder finder_;
};

}  // namespace
}  // namespace conflux::plugins::amocrm

CONFLUX_PLUGIN(conflux::plugins::amocrm::AmoCrm,
               {"amocrm", "1.0.0", CONFLUX_KIND_SOURCE | CONFLUX_KIND_SINK,
                "amoCRM API v4: reads contacts and leads incrementally as unified records; creates and updates them by a match key",
                conflux::plugins::amocrm::kConfigSchema, R"(["contacts","leads"])"})
