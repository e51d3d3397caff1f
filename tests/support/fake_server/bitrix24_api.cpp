#include "fake_server/bitrix24_api.hpp"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>

namespace conflux::test::fake {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

const char* const kEntities[] = {"contact", "lead", "deal"};
const char* const kMultiFields[] = {"EMAIL", "PHONE", "WEB", "IM", "LINK"};
const char* const kLeadStatuses[] = {"NEW", "IN_PROCESS", "PROCESSED", "JUNK", "CONVERTED"};
const char* const kDealStages[] = {"NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE",
                                   "WON", "LOSE", "APOLOGY"};
constexpr size_t kPage = 50;
constexpr size_t kMaxCommands = 50;

bool is_multi(const std::string& field) {
  return std::find(std::begin(kMultiFields), std::end(kMultiFields), field) != std::end(kMultiFields);
}
bool known_entity(const std::string& e) { return std::find(std::begin(kEntities), std::end(kEntities), e) != std::end(kEntities); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Objects whose keys are exactly "0".."n-1" in order become arrays, recursively (PHP arrays with list keys).
OJson listify(OJson j) {
  if (!j.is_object()) return j;
  for (auto& [k, v] : j.items()) v = listify(v);
  size_t i = 0;
  for (const auto& [k, v] : j.items()) {
    if (k != std::to_string(i++)) return j;
  }
  if (j.empty()) return j;
  OJson list = OJson::array();
  for (auto& [k, v] : j.items()) list.push_back(v);
  return list;
}

// Any scalar as the text Bitrix24 keeps it as.
std::string text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  if (v.is_boolean()) return v.get<bool>() ? "Y" : "N";
  return v.dump();
}

std::optional<double> number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return d;
}

bool valid_email(const std::string& email) {
  static const std::regex pattern(R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)");
  return std::regex_match(email, pattern);
}

// The outcome of one method: a result, or an error body with its status.
struct Reply {
  int status = 200;
  Json result;
  std::optional<int64_t> total;
  std::optional<int64_t> next;
  std::string error;
  std::string description;
  bool ok() const { return status == 200; }
  static Reply fail(int status, std::string error, std::string description) {
    Reply r;
    r.status = status;
    r.error = std::move(error);
    r.description = std::move(description);
    return r;
  }
};

Json time_block(int64_t start_ms) {
  const double start = static_cast<double>(start_ms) / 1000.0;
  return {{"start", start}, {"finish", start + 0.01}, {"duration", 0.01}, {"processing", 0.005}};
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A parameter by its name in lower or upper case (Bitrix24 takes FILTER as well as filter).
const Json* param(const Json& params, const std::string& name) {
  for (const std::string& n : {name, upper(name)}) {
    auto it = params.find(n);
    if (it != params.end()) return &*it;
  }
  return nullptr;
}

struct Portal {
  Bitrix24ApiOptions options;
  RecordStore& store;
  std::mutex mutex;  // one method at a time: a batch runs as one unit
  int64_t next_entry_id = 1;
  std::map<std::string, int64_t> next_id;
  double bucket = 0;
  Clock::time_point drained = Clock::now();

  Portal(Bitrix24ApiOptions o, RecordStore& s) : options(std::move(o)), store(s) {}

  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  std::string format(int64_t ms) const {
    Poco::Timestamp ts(static_cast<Poco::Timestamp::TimeVal>(ms / 1000) * 1'000'000);
    return Poco::DateTimeFormatter::format(ts, Poco::DateTimeFormat::ISO8601_FORMAT, options.utc_offset_minutes * 60);
  }

  std::vector<StoredRecord> all(const std::string& entity) const {
    RecordStore::Query q;
    q.limit = std::numeric_limits<size_t>::max();
    return store.list(entity, q)->records;
  }

  // Gives multi-field entries of loaded records their IDs and finds the next record ids.
  void adopt_loaded() {
    for (const char* entity : kEntities) {
      store.create_collection(entity);
      int64_t next = 1;
      for (StoredRecord r : all(entity)) {
        next = std::max<int64_t>(next, std::stoll(r.id) + 1);
        bool changed = false;
        for (const char* field : kMultiFields) {
          auto it = r.properties.find(field);
          if (it == r.properties.end() || !it->is_array()) continue;
          for (auto& entry : *it) {
            if (!entry.contains("ID")) {
              entry["ID"] = std::to_string(next_entry_id++);
              changed = true;
            }
            if (!entry.contains("TYPE_ID")) entry["TYPE_ID"] = field;
            if (!entry.contains("VALUE_TYPE")) entry["VALUE_TYPE"] = "WORK";
          }
        }
        if (changed) store.put(entity, r);
      }
      next_id[entity] = next;
    }
  }

  // The leaky bucket: each admitted request adds one, `bucket_drain` leak out per second; over `bucket_burst`, the
  // request is refused (and not counted).
  bool admit() {
    if (options.bucket_burst <= 0) return true;
    const auto now = Clock::now();
    bucket = std::max(0.0, bucket - std::chrono::duration<double>(now - drained).count() * options.bucket_drain);
    drained = now;
    if (bucket + 1 > options.bucket_burst) return false;
    bucket += 1;
    return true;
  }

  Json item(const std::string& entity, const StoredRecord& r) const {
    Json out = r.properties;
    out["ID"] = r.id;
    out["DATE_CREATE"] = format(r.created_ms);
    out["DATE_MODIFY"] = format(r.updated_ms);
    if (entity == "deal") {
      std::string stage = out.value("STAGE_ID", "");
      stage = stage.substr(stage.find(':') == std::string::npos ? 0 : stage.find(':') + 1);
      out["STAGE_SEMANTIC_ID"] = stage == "WON" ? "S" : (stage == "LOSE" || stage == "APOLOGY") ? "F" : "P";
    }
    return out;
  }

  // --- list ---------------------------------------------------------------------------------------------------

  static std::optional<int64_t> time_of(const std::string& s) { return parse_time(s); }
  static bool is_time_field(const std::string& f) {
    return f.rfind("DATE_", 0) == 0 || f == "CLOSEDATE" || f == "BEGINDATE" || f == "BIRTHDATE";
  }

  // -1, 0, 1 comparing a stored value with a wanted one, as the field's type says; nullopt when incomparable.
  static std::optional<int> compare(const std::string& field, const std::string& stored, const std::string& want) {
    if (is_time_field(field)) {
      auto a = time_of(stored), b = time_of(want);
      if (!a || !b) return std::nullopt;
      // Bitrix24 keeps times to the second.
      int64_t sa = *a / 1000, sb = *b / 1000;
      return sa < sb ? -1 : sa > sb ? 1 : 0;
    }
    auto na = number(stored), nb = number(want);
    if (na && nb) return *na < *nb ? -1 : *na > *nb ? 1 : 0;
    return stored < want ? -1 : stored > want ? 1 : 0;
  }

  static bool matches(const Json& item, const std::string& key, const Json& want) {
    static const char* const kOps[] = {">=", "<=", "!=", "!@", ">", "<", "@", "%", "=", "!"};
    std::string op = "=";
    std::string field = key;
    for (const char* candidate : kOps) {
      if (key.rfind(candidate, 0) == 0) {
        op = candidate;
        field = key.substr(std::string(candidate).size());
        break;
      }
    }
    if (op == "!") op = "!=";
    if (op == "!@") return !matches(item, "@" + field, want);
    auto it = item.find(field);
    if (is_multi(field)) {  // exact match on any entry only
      bool any = false;
      const bool email = field == "EMAIL";
      const std::string w = email ? lower(text(want)) : text(want);
      if (it != item.end() && it->is_array()) {
        for (const auto& e : *it) {
          std::string v = text(e.value("VALUE", Json("")));
          if ((email ? lower(v) : v) == w) any = true;
        }
      }
      return op == "!=" ? !any : (op == "=" && any);
    }
    const std::string stored = it == item.end() ? "" : text(*it);
    if (op == "@") {
      if (!want.is_array()) return false;
      for (const auto& w : want) {
        if (compare(field, stored, text(w)) == 0) return true;
      }
      return false;
    }
    if (op == "%") return lower(stored).find(lower(text(want))) != std::string::npos;
    auto c = compare(field, stored, text(want));
    if (!c) return op == "!=";
    if (op == "=") return *c == 0;
    if (op == "!=") return *c != 0;
    if (op == ">") return *c > 0;
    if (op == ">=") return *c >= 0;
    if (op == "<") return *c < 0;
    return *c <= 0;  // "<="
  }

  Json selected(const Json& item, const Json* select) const {
    std::vector<std::string> names;
    if (select != nullptr && select->is_array()) {
      for (const auto& s : *select) names.push_back(text(s));
    } else if (select != nullptr && select->is_string()) {
      names.push_back(select->get<std::string>());
    }
    const bool all = names.empty() || std::find(names.begin(), names.end(), "*") != names.end();
    const bool user_fields = names.empty() || std::find(names.begin(), names.end(), "UF_*") != names.end();
    Json out = Json::object();
    for (const auto& [k, v] : item.items()) {
      const bool named = std::find(names.begin(), names.end(), k) != names.end();
      const bool uf = k.rfind("UF_", 0) == 0;
      if (named || k == "ID" || (all && !is_multi(k) && !uf) || (user_fields && uf && !is_multi(k))) out[k] = v;
    }
    return out;
  }

  Reply list(const std::string& entity, const Json& params) const {
    const Json* filter = param(params, "filter");
    if (filter != nullptr && !filter->is_object() && !(filter->is_array() && filter->empty())) {
      return Reply::fail(400, "", "The filter parameter must be an object");
    }
    const Json* order = param(params, "order");
    if (order != nullptr && !order->is_object() && !(order->is_array() && order->empty())) {
      return Reply::fail(400, "", "The order parameter must be an object");
    }
    int64_t start = 0;
    if (const Json* s = param(params, "start")) {
      auto n = number(text(*s));
      if (!n) return Reply::fail(400, "", "start must be a number");
      start = static_cast<int64_t>(*n);
    }
    std::vector<Json> items;
    for (const auto& r : all(entity)) {
      Json it = item(entity, r);
      bool keep = true;
      if (filter != nullptr && filter->is_object()) {
        for (const auto& [k, v] : filter->items()) keep = keep && matches(it, k, v);
      }
      if (keep) items.push_back(std::move(it));
    }
    // Store order is ID ascending: a stable sort by the order fields leaves ties in ID order.
    if (order != nullptr && order->is_object()) {
      std::vector<std::pair<std::string, bool>> keys;
      for (const auto& [k, v] : order->items()) keys.emplace_back(k, lower(text(v)) == "desc");
      std::stable_sort(items.begin(), items.end(), [&](const Json& a, const Json& b) {
        for (const auto& [field, desc] : keys) {
          auto c = compare(field, a.contains(field) ? text(a[field]) : "", b.contains(field) ? text(b[field]) : "");
          if (c && *c != 0) return desc ? *c > 0 : *c < 0;
        }
        return false;
      });
    }
    Reply reply;
    reply.result = Json::array();
    const size_t offset = start < 0 ? 0 : static_cast<size_t>(start);
    for (size_t i = offset; i < items.size() && i < offset + kPage; ++i) reply.result.push_back(selected(items[i], param(params, "select")));
    if (start < 0) {
      reply.total = 0;  // no count was made
    } else {
      reply.total = static_cast<int64_t>(items.size());
      if (offset + kPage < items.size()) reply.next = static_cast<int64_t>(offset + kPage);
    }
    return reply;
  }

  // --- writes -------------------------------------------------------------------------------------------------

  // Applies `fields` to `props` (an item's stored fields): scalars as text, multi-fields entry by entry.
  std::optional<Reply> apply(const std::string& entity, Json& props, const Json& fields) {
    for (const auto& [name, value] : fields.items()) {
      if (name == "ID" || name == "DATE_CREATE" || name == "DATE_MODIFY") continue;
      if (is_multi(name)) {
        Json entries = props.contains(name) && props[name].is_array() ? props[name] : Json::array();
        Json given = value.is_array() ? value : value.is_object() ? Json::array({value}) : Json::array({{{"VALUE", value}}});
        for (const auto& g : given) {
          if (!g.is_object()) continue;
          const std::string v = text(g.value("VALUE", Json("")));
          if (name == "EMAIL" && !v.empty() && !valid_email(v)) {
            return Reply::fail(400, "ERROR_CORE", "E-mail address '" + v + "' is not valid");
          }
          const std::string id = g.contains("ID") ? text(g["ID"]) : "";
          auto existing = std::find_if(entries.begin(), entries.end(), [&](const Json& e) { return !id.empty() && text(e["ID"]) == id; });
          if (existing != entries.end()) {
            if (v.empty() || text(g.value("DELETE", Json(""))) == "Y") {
              entries.erase(existing);
            } else {
              (*existing)["VALUE"] = v;
              if (g.contains("VALUE_TYPE")) (*existing)["VALUE_TYPE"] = text(g["VALUE_TYPE"]);
            }
          } else if (id.empty() && !v.empty()) {
            entries.push_back({{"ID", std::to_string(next_entry_id++)},
                               {"VALUE_TYPE", g.contains("VALUE_TYPE") ? text(g["VALUE_TYPE"]) : "WORK"},
                               {"VALUE", v},
                               {"TYPE_ID", name}});
          }
        }
        props[name] = entries;
        continue;
      }
      if (value.is_object()) return Reply::fail(400, "ERROR_CORE", "Field " + name + " takes a value, not an object");
      if (value.is_array()) {
        props[name] = value;  // multiple user fields
      } else if (name == "OPPORTUNITY") {
        auto n = number(text(value));
        if (!n && !text(value).empty()) return Reply::fail(400, "ERROR_CORE", "OPPORTUNITY must be a number");
        char money[64];
        std::snprintf(money, sizeof money, "%.2f", n.value_or(0));
        props[name] = money;
      } else {
        props[name] = text(value);
      }
    }
    if (entity == "lead" && props.contains("STATUS_ID")) {
      const std::string s = text(props["STATUS_ID"]);
      if (std::find(std::begin(kLeadStatuses), std::end(kLeadStatuses), s) == std::end(kLeadStatuses)) {
        return Reply::fail(400, "ERROR_CORE", "Unknown lead status '" + s + "'");
      }
    }
    if (entity == "deal" && props.contains("STAGE_ID")) {
      const std::string category = props.value("CATEGORY_ID", "0");
      const std::string prefix = category == "0" || category.empty() ? "" : "C" + category + ":";
      const std::string s = text(props["STAGE_ID"]);
      bool known = false;
      for (const char* stage : kDealStages) known = known || s == prefix + stage;
      if (!known) return Reply::fail(400, "ERROR_CORE", "Unknown stage '" + s + "' for pipeline " + category);
    }
    return std::nullopt;
  }

  Reply add(const std::string& entity, const Json& params) {
    const Json* fields = param(params, "fields");
    if (fields == nullptr || !fields->is_object()) return Reply::fail(400, "", "The fields parameter must be an object");
    Json props = Json::object();
    if (entity == "lead") props = {{"STATUS_ID", "NEW"}, {"OPPORTUNITY", "0.00"}};
    if (entity == "deal") {
      const std::string category = fields->contains("CATEGORY_ID") ? text((*fields)["CATEGORY_ID"]) : "0";
      props = {{"CATEGORY_ID", category}, {"STAGE_ID", category == "0" ? "NEW" : "C" + category + ":NEW"}, {"OPPORTUNITY", "0.00"}};
    }
    if (auto error = apply(entity, props, *fields)) return *error;
    StoredRecord r;
    r.id = std::to_string(next_id[entity]++);
    if ((entity == "lead" || entity == "deal") && text(props.value("TITLE", Json(""))).empty()) {
      props["TITLE"] = std::string(entity == "lead" ? "Lead #" : "Deal #") + r.id;
    }
    r.properties = props;
    r.created_ms = r.updated_ms = now_ms();
    store.put(entity, r);
    Reply reply;
    reply.result = std::stoll(r.id);
    return reply;
  }

  std::optional<StoredRecord> find(const std::string& entity, const Json& params) const {
    const Json* id = param(params, "id");
    if (id == nullptr) return std::nullopt;
    return store.get(entity, text(*id));
  }

  Reply update(const std::string& entity, const Json& params) {
    auto record = find(entity, params);
    if (!record) return Reply::fail(400, "", "Not found");
    const Json* fields = param(params, "fields");
    if (fields == nullptr || !fields->is_object()) return Reply::fail(400, "", "The fields parameter must be an object");
    Json props = record->properties;
    if (auto error = apply(entity, props, *fields)) return *error;
    if (props != record->properties) {
      record->properties = props;
      record->updated_ms = now_ms();
      store.put(entity, *record);
    }
    Reply reply;
    reply.result = true;
    return reply;
  }

  Reply remove(const std::string& entity, const Json& params) {
    auto record = find(entity, params);
    if (!record || !store.erase(entity, record->id)) return Reply::fail(400, "", "Not found");
    Reply reply;
    reply.result = true;
    return reply;
  }

  Reply get(const std::string& entity, const Json& params) const {
    auto record = find(entity, params);
    if (!record) return Reply::fail(400, "", "Not found");
    Reply reply;
    reply.result = item(entity, *record);
    return reply;
  }

  Reply find_by_comm(const Json& params) const {
    const Json* type = param(params, "type");
    const Json* values = param(params, "values");
    if (type == nullptr || (text(*type) != "EMAIL" && text(*type) != "PHONE")) {
      return Reply::fail(400, "", "type must be EMAIL or PHONE");
    }
    if (values == nullptr || !values->is_array() || values->empty()) return Reply::fail(400, "", "values are missing");
    if (values->size() > 20) return Reply::fail(400, "", "At most 20 values are searched at once");
    const Json* only = param(params, "entity_type");
    Reply reply;
    reply.result = Json::array();
    for (const char* entity : kEntities) {
      const std::string entity_type = upper(entity);
      if (only != nullptr && text(*only) != entity_type) continue;
      if (std::string(entity) == "deal") continue;  // deals hold no communications
      Json ids = Json::array();
      for (const auto& r : all(entity)) {
        Json it = item(entity, r);
        for (const auto& v : *values) {
          if (matches(it, text(*type), v)) {
            ids.push_back(std::stoll(r.id));
            break;
          }
        }
      }
      if (!ids.empty()) {
        if (reply.result.is_array()) reply.result = Json::object();
        reply.result[entity_type] = ids;
      }
    }
    return reply;
  }

  // --- dispatch -----------------------------------------------------------------------------------------------

  Reply run(const std::string& method, const Json& params, int fail_every) {
    if (method == "batch") return batch(params, fail_every);
    if (method == "crm.duplicate.findbycomm") return find_by_comm(params);
    // crm.<entity>.<verb>
    if (method.rfind("crm.", 0) == 0) {
      size_t dot = method.find('.', 4);
      if (dot != std::string::npos) {
        const std::string entity = method.substr(4, dot - 4);
        const std::string verb = method.substr(dot + 1);
        if (known_entity(entity)) {
          if (verb == "list") return list(entity, params);
          if (verb == "get") return get(entity, params);
          if (verb == "add") return add(entity, params);
          if (verb == "update") return update(entity, params);
          if (verb == "delete") return remove(entity, params);
        }
      }
    }
    return Reply::fail(404, "ERROR_METHOD_NOT_FOUND", "Method '" + method + "' does not exist");
  }

  Reply batch(const Json& params, int fail_every) {
    const Json* cmd = param(params, "cmd");
    if (cmd == nullptr || !(cmd->is_object() || cmd->is_array())) return Reply::fail(400, "", "cmd is missing");
    const Json* halt_param = param(params, "halt");
    const bool halt = halt_param != nullptr && (text(*halt_param) == "1" || text(*halt_param) == "true" || text(*halt_param) == "Y");
    Json results = Json::object(), errors = Json::object(), totals = Json::object(), nexts = Json::object(),
         times = Json::object();
    // The command list keeps the request's order (see handle()).
    const auto& order = params.contains("__cmd_order") ? params["__cmd_order"] : Json::array();
    size_t n = 0;
    for (const auto& key_json : order) {
      const std::string key = key_json.get<std::string>();
      const std::string line = text(cmd->is_object() ? (*cmd)[key] : (*cmd)[std::stoul(key)]);
      ++n;
      Reply r;
      if (n > kMaxCommands) {
        r = Reply::fail(400, "ERROR_BATCH_LENGTH_EXCEEDED", "A batch runs at most 50 commands");
      } else if (fail_every > 0 && n % static_cast<size_t>(fail_every) == 0) {
        r = Reply::fail(400, "ERROR_CORE", "injected failure of this command");
      } else {
        const size_t q = line.find('?');
        const std::string sub = line.substr(0, q);
        Json sub_params = Json::parse(parse_php_query(q == std::string::npos ? "" : line.substr(q + 1)).dump());
        r = sub == "batch" ? Reply::fail(400, "ERROR_BATCH_METHOD_NOT_ALLOWED", "batch cannot run inside batch")
                           : run(sub, sub_params, 0);
      }
      if (r.ok()) {
        results[key] = r.result;
        if (r.total) totals[key] = *r.total;
        if (r.next) nexts[key] = *r.next;
        times[key] = time_block(now_ms());
      } else {
        errors[key] = {{"error", r.error}, {"error_description", r.description}};
        if (halt) break;
      }
    }
    auto php = [](const Json& map) { return map.empty() ? Json::array() : map; };  // PHP's empty array
    Reply reply;
    reply.result = {{"result", php(results)}, {"result_error", php(errors)}, {"result_total", php(totals)},
                    {"result_next", php(nexts)}, {"result_time", php(times)}};
    return reply;
  }
};

Response error_response(int status, const std::string& error, const std::string& description) {
  return Response::json(status, {{"error", error}, {"error_description", description}});
}

}  // namespace

OJson parse_php_query(const std::string& query) {
  OJson root = OJson::object();
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string item = query.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string name = url_decode(item.substr(0, eq));
    const std::string value = eq == std::string::npos ? "" : url_decode(item.substr(eq + 1));
    // name = base[seg1][seg2]...
    const size_t bracket = name.find('[');
    std::vector<std::string> path = {name.substr(0, bracket)};
    if (path[0].empty()) continue;
    for (size_t pos = bracket; pos != std::string::npos && pos < name.size();) {
      const size_t close = name.find(']', pos);
      if (name[pos] != '[' || close == std::string::npos) break;
      path.push_back(name.substr(pos + 1, close - pos - 1));
      pos = close + 1;
    }
    OJson* node = &root;
    for (size_t i = 0; i < path.size(); ++i) {
      std::string key = path[i];
      if (!node->is_object()) *node = OJson::object();
      if (key.empty()) key = std::to_string(node->size());  // "[]" appends
      if (i + 1 == path.size()) {
        (*node)[key] = value;
      } else {
        node = &(*node)[key];
      }
    }
  }
  return listify(root);
}

Bitrix24ApiOptions Bitrix24ApiOptions::from_json(const nlohmann::json& j) {
  Bitrix24ApiOptions o;
  if (!j.is_object()) return o;
  o.webhook_user = j.value("webhook_user", o.webhook_user);
  o.webhook_secret = j.value("webhook_secret", o.webhook_secret);
  o.tokens = j.value("tokens", o.tokens);
  o.expired_tokens = j.value("expired_tokens", o.expired_tokens);
  o.bucket_burst = j.value("bucket_burst", o.bucket_burst);
  o.bucket_drain = j.value("bucket_drain", o.bucket_drain);
  o.utc_offset_minutes = j.value("utc_offset_minutes", o.utc_offset_minutes);
  return o;
}

void install_bitrix24_api(FakeServer& server, Bitrix24ApiOptions options) {
  auto portal = std::make_shared<Portal>(std::move(options), server.store());
  portal->adopt_loaded();

  auto handle = [portal](const Request& request, bool webhook) -> Response {
    std::string method = request.path_params.at("method");
    if (method.size() > 5 && method.compare(method.size() - 5, 5, ".json") == 0) method.resize(method.size() - 5);
    const Bitrix24ApiOptions& o = portal->options;
    if (webhook && (o.webhook_secret.empty() || request.path_params.at("user") != o.webhook_user ||
                    request.path_params.at("secret") != o.webhook_secret)) {
      return error_response(401, "INVALID_CREDENTIALS", "No active webhook has this user id and secret");
    }
    // Parameters: the query string, then a JSON or form body. The batch's command order is kept aside, because
    // Json objects sort their keys.
    OJson params = parse_php_query(request.query);
    if (!request.body.empty()) {
      OJson body = OJson::parse(request.body, nullptr, false);
      if (body.is_discarded()) body = parse_php_query(request.body);
      if (body.is_object()) {
        for (auto& [k, v] : body.items()) params[k] = v;
      }
    }
    Json order = Json::array();
    for (const char* name : {"cmd", "CMD"}) {
      if (!params.contains(name)) continue;
      const OJson& cmd = params[name];
      if (cmd.is_object()) {
        for (const auto& [k, v] : cmd.items()) order.push_back(k);
      } else if (cmd.is_array()) {
        for (size_t i = 0; i < cmd.size(); ++i) order.push_back(std::to_string(i));
      }
    }
    Json plain = Json::parse(params.dump());
    plain["__cmd_order"] = order;
    if (!webhook) {
      const std::string token = plain.contains("auth") ? text(plain["auth"]) : "";
      if (token.empty()) return error_response(401, "NO_AUTH_FOUND", "The request carries no access token or webhook");
      if (std::find(o.expired_tokens.begin(), o.expired_tokens.end(), token) != o.expired_tokens.end()) {
        return error_response(401, "expired_token", "The access token has expired");
      }
      if (std::find(o.tokens.begin(), o.tokens.end(), token) == o.tokens.end()) {
        return error_response(401, "invalid_token", "The access token is not valid");
      }
    }
    std::lock_guard<std::mutex> lock(portal->mutex);
    if (!portal->admit()) return error_response(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
    const int64_t started = Portal::now_ms();
    Reply reply = portal->run(method, plain, request.fail_every);
    if (!reply.ok()) return error_response(reply.status, reply.error, reply.description);
    Json body = {{"result", reply.result}};
    if (reply.total) body["total"] = *reply.total;
    if (reply.next) body["next"] = *reply.next;
    body["time"] = time_block(started);
    return Response::json(200, body);
  };
  for (const char* verb : {"GET", "POST"}) {
    server.route(verb, "/rest/{user}/{secret}/{method}", [handle](const Request& r) { return handle(r, true); });
    server.route(verb, "/rest/{method}", [handle](const Request& r) { return handle(r, false); });
  }
}

}  // namespace conflux::test::fake
