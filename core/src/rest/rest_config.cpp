// Reading a rest source's config: the shapes the pipeline schema already checked (unknown keys and enum values are
// reported by the config loader from that schema), plus what a schema cannot say: keys that do not apply to the
// chosen auth or paginator type, JSON pointers, the record schema file, unique stream names, parameters that would
// collide.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "conflux/common/json_schema.hpp"
#include "conflux/config/diagnostics.hpp"
#include "conflux/rest/rest_source.hpp"

namespace conflux::rest {
namespace {

using Json = nlohmann::json;

std::string append(const std::string& pointer, const std::string& key) {
  std::string escaped;
  for (char c : key) {
    if (c == '~') escaped += "~0";
    else if (c == '/') escaped += "~1";
    else escaped += c;
  }
  return pointer + "/" + escaped;
}

bool valid_pointer(const std::string& pointer) {
  if (pointer.empty()) return true;
  try {
    Json::json_pointer p{pointer};
    (void)p;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// A field name becomes the pointer "/name"; a value already starting with '/' is a pointer as it is.
std::string field_pointer(const std::string& field) { return field.rfind('/', 0) == 0 ? field : append("", field); }

class Reader {
 public:
  Reader(std::vector<ConfigProblem>& problems, std::string base_dir)
      : problems_(problems), base_dir_(std::move(base_dir)) {}

  void problem(const std::string& pointer, const std::string& message, bool at_key = false) {
    problems_.push_back({pointer, message, at_key});
  }
  bool ok_since(size_t before) const { return problems_.size() == before; }
  size_t count() const { return problems_.size(); }

  // Keys of `object` that belong to other types than `type`: each is an error naming the types it is for.
  void keys_for_type(const Json& object, const std::string& pointer, const std::string& type,
                     const std::vector<std::pair<std::string, std::vector<std::string>>>& keys_by_type,
                     const std::string& what) {
    for (auto it = object.begin(); it != object.end(); ++it) {
      for (const auto& [key, types] : keys_by_type) {
        if (key != it.key() || std::find(types.begin(), types.end(), type) != types.end()) continue;
        std::string list;
        for (size_t i = 0; i < types.size(); ++i) list += (i ? ", " : "") + types[i];
        problem(append(pointer, key), "'" + key + "' does not apply to " + what + " type " + type + " (only to " + list + ")",
                true);
      }
    }
  }

  std::string text(const Json& object, const std::string& key, const std::string& pointer, std::string fallback = "",
                   bool required = false) {
    if (!object.is_object() || !object.contains(key)) {
      if (required) problem(pointer, "'" + key + "' is required");
      return fallback;
    }
    const Json& v = object[key];
    if (!v.is_string()) {
      problem(append(pointer, key), "'" + key + "' must be a string");
      return fallback;
    }
    std::string s = v.get<std::string>();
    if (required && s.empty()) problem(append(pointer, key), "'" + key + "' must not be empty");
    return s;
  }

  std::string pointer_value(const Json& object, const std::string& key, const std::string& pointer,
                            std::string fallback = "", bool required = false) {
    std::string value = text(object, key, pointer, std::move(fallback), required);
    if (!valid_pointer(value)) {
      problem(append(pointer, key), "'" + value + "' is not a JSON pointer (write /a/b/0, or \"\" for the whole body)");
    }
    return value;
  }

  long long integer(const Json& object, const std::string& key, const std::string& pointer, long long fallback,
                    long long minimum) {
    if (!object.is_object() || !object.contains(key)) return fallback;
    const Json& v = object[key];
    if (!v.is_number_integer() || v.get<long long>() < minimum) {
      problem(append(pointer, key), "'" + key + "' must be an integer of at least " + std::to_string(minimum));
      return fallback;
    }
    return v.get<long long>();
  }

  double number(const Json& object, const std::string& key, const std::string& pointer, double fallback) {
    if (!object.is_object() || !object.contains(key)) return fallback;
    const Json& v = object[key];
    if (!v.is_number() || !(v.get<double>() > 0) || !std::isfinite(v.get<double>())) {
      problem(append(pointer, key), "'" + key + "' must be a number above 0");
      return fallback;
    }
    return v.get<double>();
  }

  // Query parameter or header values: strings, numbers and booleans, as text.
  std::vector<std::pair<std::string, std::string>> text_map(const Json& object, const std::string& key,
                                                            const std::string& pointer, bool scalars) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!object.contains(key)) return out;
    const Json& map = object[key];
    if (!map.is_object()) {
      problem(append(pointer, key), "'" + key + "' must map names to values");
      return out;
    }
    for (auto it = map.begin(); it != map.end(); ++it) {
      const Json& v = it.value();
      if (v.is_string()) {
        out.emplace_back(it.key(), v.get<std::string>());
      } else if (scalars && (v.is_number() || v.is_boolean())) {
        out.emplace_back(it.key(), v.dump());
      } else {
        problem(append(append(pointer, key), it.key()),
                std::string("the value of '") + it.key() + "' must be a string" + (scalars ? ", number or boolean" : ""));
      }
    }
    return out;
  }

  AuthConfig auth(const Json& a, const std::string& pointer) {
    AuthConfig out;
    if (!a.is_object()) {
      problem(pointer, "auth must be an object with a type");
      return out;
    }
    const std::string type = text(a, "type", pointer, "", true);
    keys_for_type(a, pointer, type,
                  {{"token", {"bearer"}},
                   {"username", {"basic"}},
                   {"password", {"basic"}},
                   {"in", {"api_key"}},
                   {"name", {"api_key"}},
                   {"value", {"api_key"}},
                   {"token_url", {"oauth2"}},
                   {"client_id", {"oauth2"}},
                   {"client_secret", {"oauth2"}},
                   {"refresh_token", {"oauth2"}},
                   {"scope", {"oauth2"}}},
                  "auth");
    if (type == "none") {
      out.type = AuthType::kNone;
    } else if (type == "bearer") {
      out.type = AuthType::kBearer;
      out.token = text(a, "token", pointer, "", true);
    } else if (type == "basic") {
      out.type = AuthType::kBasic;
      out.username = text(a, "username", pointer, "", false);
      out.password = text(a, "password", pointer, "", false);
      if (!a.contains("username") || !a.contains("password")) problem(pointer, "basic auth needs username and password");
    } else if (type == "api_key") {
      out.type = AuthType::kApiKey;
      const std::string in = text(a, "in", pointer, "header");
      if (in != "header" && in != "query") problem(append(pointer, "in"), "'in' must be header or query");
      out.in_query = in == "query";
      out.name = text(a, "name", pointer, "", true);
      out.value = text(a, "value", pointer, "", true);
    } else if (type == "oauth2") {
      out.type = AuthType::kOAuth2;
      out.oauth2.token_url = text(a, "token_url", pointer, "", true);
      out.oauth2.client_id = text(a, "client_id", pointer, "", true);
      out.oauth2.client_secret = text(a, "client_secret", pointer);
      out.oauth2.refresh_token = text(a, "refresh_token", pointer, "", true);
      out.oauth2.scope = text(a, "scope", pointer);
      if (!out.oauth2.token_url.empty() && out.oauth2.token_url.rfind("http://", 0) != 0 &&
          out.oauth2.token_url.rfind("https://", 0) != 0) {
        problem(append(pointer, "token_url"), "token_url must be an http:// or https:// URL");
      }
    } else if (!type.empty()) {
      problem(append(pointer, "type"), "unknown auth type '" + type + "'" +
                                           config::did_you_mean(type, {"none", "bearer", "basic", "api_key", "oauth2"}));
    }
    return out;
  }

  std::optional<RateLimitConfig> rate_limit(const Json& r, const std::string& pointer) {
    if (!r.is_object()) {
      problem(pointer, "rate_limit must be an object with requests and per_seconds");
      return std::nullopt;
    }
    RateLimitConfig out;
    if (!r.contains("requests") || !r.contains("per_seconds")) problem(pointer, "rate_limit needs requests and per_seconds");
    out.requests = static_cast<int>(integer(r, "requests", pointer, 0, 1));
    out.per_seconds = number(r, "per_seconds", pointer, 1);
    out.burst = static_cast<int>(integer(r, "burst", pointer, 0, 1));
    out.key = text(r, "key", pointer);
    out.account = text(r, "account", pointer);
    return out;
  }

  PaginatorConfig paginator(const Json& p, const std::string& pointer) {
    PaginatorConfig out;
    if (!p.is_object()) {
      problem(pointer, "paginator must be an object with a type");
      return out;
    }
    static const std::vector<std::string> kTypes = {"none", "cursor", "offset", "page", "start",
                                                    "page_token", "link_header", "next_url"};
    out.type = text(p, "type", pointer, "none", true);
    if (std::find(kTypes.begin(), kTypes.end(), out.type) == kTypes.end()) {
      problem(append(pointer, "type"), "unknown paginator type '" + out.type + "'" + config::did_you_mean(out.type, kTypes));
      return out;
    }
    keys_for_type(p, pointer, out.type,
                  {{"page_size", {"cursor", "offset", "page", "start", "page_token", "link_header", "next_url"}},
                   {"size_param", {"cursor", "offset", "page", "start", "page_token", "link_header", "next_url"}},
                   {"cursor_pointer", {"cursor"}},
                   {"cursor_param", {"cursor"}},
                   {"offset_param", {"offset"}},
                   {"total_pointer", {"offset"}},
                   {"page_param", {"page"}},
                   {"first_page", {"page"}},
                   {"pages_pointer", {"page"}},
                   {"next_pointer", {"start", "next_url"}},
                   {"start_param", {"start"}},
                   {"token_pointer", {"page_token"}},
                   {"token_param", {"page_token"}},
                   {"rel", {"link_header"}}},
                  "paginator");
    const bool counted = out.type == "offset" || out.type == "page";
    out.page_size = static_cast<size_t>(integer(p, "page_size", pointer, 0, 1));
    if (counted && out.page_size == 0) {
      problem(pointer, "a paginator of type " + out.type + " needs page_size (it ends on a page shorter than that)");
    }
    out.size_param = text(p, "size_param", pointer, counted ? "limit" : "");
    if (!counted && out.page_size > 0 && out.size_param.empty()) {
      problem(append(pointer, "page_size"), "page_size needs size_param: the query parameter that carries it");
    }
    if (out.type == "cursor") {
      out.cursor_pointer = pointer_value(p, "cursor_pointer", pointer, "", true);
      out.cursor_param = text(p, "cursor_param", pointer, "", true);
    } else if (out.type == "offset") {
      out.offset_param = text(p, "offset_param", pointer, out.offset_param);
      out.total_pointer = pointer_value(p, "total_pointer", pointer);
    } else if (out.type == "page") {
      out.page_param = text(p, "page_param", pointer, out.page_param);
      out.first_page = static_cast<long>(integer(p, "first_page", pointer, 1, 0));
      out.pages_pointer = pointer_value(p, "pages_pointer", pointer);
    } else if (out.type == "start") {
      out.next_pointer = pointer_value(p, "next_pointer", pointer, "/next");
      out.start_param = text(p, "start_param", pointer, out.start_param);
    } else if (out.type == "page_token") {
      out.token_pointer = pointer_value(p, "token_pointer", pointer, "", true);
      out.token_param = text(p, "token_param", pointer, "", true);
    } else if (out.type == "next_url") {
      out.next_pointer = pointer_value(p, "next_pointer", pointer, "", true);
    } else if (out.type == "link_header") {
      out.rel = text(p, "rel", pointer, out.rel);
    }
    return out;
  }

  std::optional<IncrementalConfig> incremental(const Json& i, const std::string& pointer) {
    if (!i.is_object()) {
      problem(pointer, "incremental must be an object with cursor_field and request_param");
      return std::nullopt;
    }
    IncrementalConfig out;
    const std::string field = text(i, "cursor_field", pointer, "", true);
    out.cursor_field = field_pointer(field);
    if (!valid_pointer(out.cursor_field)) problem(append(pointer, "cursor_field"), "'" + field + "' is not a JSON pointer");
    out.request_param = text(i, "request_param", pointer, "", true);
    static const std::vector<std::string> kFormats = {"rfc3339", "unix", "unix_ms", "number", "string"};
    const std::string format = text(i, "format", pointer, "rfc3339");
    if (format == "rfc3339") out.format = CursorFormat::kRfc3339;
    else if (format == "unix") out.format = CursorFormat::kUnix;
    else if (format == "unix_ms") out.format = CursorFormat::kUnixMs;
    else if (format == "number") out.format = CursorFormat::kNumber;
    else if (format == "string") out.format = CursorFormat::kString;
    else problem(append(pointer, "format"), "unknown format '" + format + "'" + config::did_you_mean(format, kFormats));
    out.start = text(i, "start", pointer);
    if (!out.start.empty() && !parse_cursor_value(out.start, out.format)) {
      problem(append(pointer, "start"), "start '" + out.start + "' does not read as a " + format + " value");
    }
    return out;
  }

  Json schema(const Json& s, const std::string& pointer, const std::string& stream) {
    Json schema = s;
    if (s.is_string()) {
      std::filesystem::path file = s.get<std::string>();
      if (file.is_relative()) file = std::filesystem::path(base_dir_) / file;
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        problem(pointer, "cannot read the record schema '" + file.string() + "'");
        return nullptr;
      }
      std::stringstream buffer;
      buffer << in.rdbuf();
      schema = Json::parse(buffer.str(), nullptr, false);
      if (schema.is_discarded()) {
        problem(pointer, "the record schema '" + file.string() + "' is not valid JSON");
        return nullptr;
      }
    } else if (!s.is_object()) {
      problem(pointer, "schema must be a JSON Schema object or the name of a file holding one");
      return nullptr;
    }
    auto compiled = JsonSchema::compile(schema, "stream '" + stream + "' record schema");
    if (!compiled) {
      problem(pointer, compiled.status().message());
      return nullptr;
    }
    return schema;
  }

  std::optional<StreamConfig> stream(const Json& s, const std::string& pointer) {
    if (!s.is_object()) {
      problem(pointer, "a stream must be an object with name and path");
      return std::nullopt;
    }
    StreamConfig out;
    out.name = text(s, "name", pointer, "", true);
    out.path = text(s, "path", pointer, "", true);
    if (!out.path.empty() && out.path.front() != '/') {
      problem(append(pointer, "path"), "path must start with '/' (it is appended to base_url)");
    }
    out.params = text_map(s, "params", pointer, true);
    out.record_selector = pointer_value(s, "record_selector", pointer);
    if (s.contains("paginator")) out.paginator = paginator(s["paginator"], append(pointer, "paginator"));
    out.max_pages = static_cast<size_t>(integer(s, "max_pages", pointer, 0, 1));
    if (s.contains("incremental")) out.incremental = incremental(s["incremental"], append(pointer, "incremental"));
    if (s.contains("primary_key")) {
      const Json& k = s["primary_key"];
      if (k.is_string()) {
        out.primary_key.push_back(k.get<std::string>());
      } else if (k.is_array()) {
        for (const auto& part : k) {
          if (part.is_string()) out.primary_key.push_back(part.get<std::string>());
        }
      }
      if (out.primary_key.empty() || (k.is_array() && out.primary_key.size() != k.size())) {
        problem(append(pointer, "primary_key"), "primary_key must be a field name or a list of field names");
      }
    }
    if (s.contains("fields")) {
      const Json& f = s["fields"];
      if (!f.is_object() || f.empty()) {
        problem(append(pointer, "fields"), "fields must map output field names to JSON pointers into the record");
      } else {
        for (auto it = f.begin(); it != f.end(); ++it) {
          const std::string field_at = append(append(pointer, "fields"), it.key());
          if (!it.value().is_string() || !valid_pointer(it.value().get<std::string>()) ||
              it.value().get<std::string>().empty()) {
            problem(field_at, "the source of field '" + it.key() + "' must be a JSON pointer such as /email_address");
            continue;
          }
          out.fields.emplace_back(it.key(), it.value().get<std::string>());
        }
        for (const auto& key : out.primary_key) {
          bool mapped = false;
          for (const auto& [name, unused] : out.fields) mapped |= name == key;
          if (!mapped) problem(append(pointer, "primary_key"), "primary_key field '" + key + "' is not one of the stream's fields");
        }
      }
    }
    if (s.contains("schema")) out.schema = schema(s["schema"], append(pointer, "schema"), out.name);
    // A parameter the source sets itself must not also be a fixed one: the fixed value would be replaced silently.
    std::set<std::string> owned;
    const PaginatorConfig& p = out.paginator;
    for (const std::string& name : {p.size_param, p.type == "cursor" ? p.cursor_param : "",
                                    p.type == "offset" ? p.offset_param : "", p.type == "page" ? p.page_param : "",
                                    p.type == "start" ? p.start_param : "", p.type == "page_token" ? p.token_param : ""}) {
      if (!name.empty()) owned.insert(name);
    }
    if (out.incremental) {
      if (owned.count(out.incremental->request_param)) {
        problem(append(append(pointer, "incremental"), "request_param"),
                "request_param '" + out.incremental->request_param + "' is also a paginator parameter");
      }
      owned.insert(out.incremental->request_param);
    }
    for (const auto& [name, value] : out.params) {
      if (owned.count(name)) {
        problem(append(append(pointer, "params"), name),
                "parameter '" + name + "' is set by the paginator or the incremental cursor; remove it from params");
      }
    }
    return out;
  }

 private:
  std::vector<ConfigProblem>& problems_;
  std::string base_dir_;
};

}  // namespace

std::optional<RestConfig> parse_rest_config(const Json& config, const std::string& base_dir,
                                            std::vector<ConfigProblem>& problems) {
  const size_t before = problems.size();
  Reader reader(problems, base_dir);
  if (!config.is_object()) {
    reader.problem("", "the rest source's config must be an object with base_url and streams");
    return std::nullopt;
  }
  RestConfig out;
  out.base_url = reader.text(config, "base_url", "", "", true);
  if (!out.base_url.empty() && out.base_url.rfind("http://", 0) != 0 && out.base_url.rfind("https://", 0) != 0) {
    reader.problem("/base_url", "base_url must be an http:// or https:// URL");
  }
  while (!out.base_url.empty() && out.base_url.back() == '/') out.base_url.pop_back();
  if (config.contains("auth")) out.auth = reader.auth(config["auth"], "/auth");
  out.headers = reader.text_map(config, "headers", "", false);
  for (const auto& [name, value] : out.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "authorization") {
      reader.problem("/headers/" + name, "put credentials under auth (type bearer, basic, api_key or oauth2), not headers");
    }
  }
  if (config.contains("rate_limit")) out.rate_limit = reader.rate_limit(config["rate_limit"], "/rate_limit");
  out.timeout_seconds = reader.number(config, "timeout_seconds", "", out.timeout_seconds);
  if (!config.contains("streams") || !config["streams"].is_array() || config["streams"].empty()) {
    reader.problem(config.contains("streams") ? "/streams" : "", "streams must list at least one stream");
  } else {
    std::set<std::string> names;
    for (size_t i = 0; i < config["streams"].size(); ++i) {
      const std::string pointer = "/streams/" + std::to_string(i);
      auto stream = reader.stream(config["streams"][i], pointer);
      if (!stream) continue;
      if (!stream->name.empty() && !names.insert(stream->name).second) {
        reader.problem(pointer + "/name", "duplicate stream name '" + stream->name + "'");
      }
      if (out.auth.type == AuthType::kApiKey && out.auth.in_query) {
        for (const auto& [name, value] : stream->params) {
          if (name == out.auth.name) reader.problem(pointer + "/params/" + name, "parameter '" + name + "' is the API key's; it comes from auth");
        }
      }
      out.streams.push_back(std::move(*stream));
    }
  }
  if (!reader.ok_since(before)) return std::nullopt;
  return out;
}

}  // namespace conflux::rest
