#include "fake_server/record_store.hpp"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Timestamp.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace conflux::test::fake {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string format_time(int64_t ms) {
  Poco::Timestamp ts(static_cast<Poco::Timestamp::TimeVal>(ms) * 1000);
  return Poco::DateTimeFormatter::format(ts, "%Y-%m-%dT%H:%M:%S.%iZ");
}

std::optional<int64_t> parse_time(const std::string& text) {
  if (all_digits(text) && text.size() < 16) return std::stoll(text);
  Poco::DateTime dt;
  int tzd = 0;
  if (!Poco::DateTimeParser::tryParse(text, dt, tzd)) return std::nullopt;
  dt.makeUTC(tzd);
  return dt.timestamp().epochMicroseconds() / 1000;
}

bool RecordStore::IdLess::operator()(const std::string& a, const std::string& b) const {
  bool an = all_digits(a), bn = all_digits(b);
  if (an != bn) return an;  // numeric ids first
  if (an && a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

RecordStore::RecordStore(std::function<int64_t()> now_ms) : now_ms_(std::move(now_ms)) {
  if (!now_ms_) {
    now_ms_ = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

std::string RecordStore::encode_cursor(const std::string& id) {
  // Opaque to clients, trivially reversible here: "c" + hex of the id.
  static const char* kHex = "0123456789abcdef";
  std::string out = "c";
  for (unsigned char c : id) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::optional<std::string> RecordStore::decode_cursor(const std::string& cursor) {
  if (cursor.size() < 1 || cursor[0] != 'c' || cursor.size() % 2 != 1) return std::nullopt;
  std::string id;
  for (size_t i = 1; i < cursor.size(); i += 2) {
    auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
    int hi = hex(cursor[i]), lo = hex(cursor[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id += static_cast<char>(hi * 16 + lo);
  }
  return id;
}

std::optional<RecordStore::Page> RecordStore::list(const std::string& collection, const Query& query) const {
  std::optional<std::string> after;
  if (!query.after.empty()) {
    after = decode_cursor(query.after);
    if (!after) return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  Page page;
  auto c = collections_.find(collection);
  if (c == collections_.end()) return page;
  auto matches = [&](const StoredRecord& r) {
    return !query.modified_since_ms || r.updated_ms >= *query.modified_since_ms;
  };
  for (const auto& [id, r] : c->second) page.total += matches(r) ? 1 : 0;
  auto it = after ? c->second.upper_bound(*after) : c->second.begin();
  for (; it != c->second.end(); ++it) {
    if (!matches(it->second)) continue;
    if (page.records.size() == query.limit) {
      page.next = encode_cursor(page.records.back().id);
      break;
    }
    page.records.push_back(it->second);
  }
  return page;
}

RecordStore::Upserted RecordStore::upsert(const std::string& collection, const std::string& id_property,
                                          const std::string& match, const nlohmann::json& properties) {
  std::lock_guard<std::mutex> lock(mutex_);
  Collection& c = collections_[collection];
  StoredRecord* found = nullptr;
  if (id_property.empty()) {
    auto it = c.find(match);
    if (it != c.end()) found = &it->second;
  } else {
    for (auto& [id, r] : c) {
      auto p = r.properties.find(id_property);
      if (p != r.properties.end() && p->is_string() && p->get<std::string>() == match) {
        found = &r;
        break;
      }
    }
  }
  const int64_t now = now_ms_();
  Upserted result;
  if (found == nullptr) {
    StoredRecord r;
    if (id_property.empty() && !match.empty()) {
      r.id = match;
    } else {
      long long next = 1;
      for (const auto& [id, stored] : c) {
        if (all_digits(id) && id.size() < 18) next = std::max(next, std::stoll(id) + 1);
      }
      r.id = std::to_string(next);
    }
    r.properties = properties.is_object() ? properties : nlohmann::json::object();
    if (!id_property.empty()) r.properties[id_property] = match;
    r.created_ms = r.updated_ms = now;
    result.created = result.changed = true;
    result.record = r;
    c[r.id] = std::move(r);
    return result;
  }
  nlohmann::json merged = found->properties;
  if (properties.is_object()) merged.update(properties);
  result.changed = merged != found->properties;
  if (result.changed) {
    found->properties = std::move(merged);
    found->updated_ms = now;
  }
  result.record = *found;
  return result;
}

std::optional<StoredRecord> RecordStore::get(const std::string& collection, const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto c = collections_.find(collection);
  if (c == collections_.end()) return std::nullopt;
  auto r = c->second.find(id);
  if (r == c->second.end()) return std::nullopt;
  return r->second;
}

size_t RecordStore::size(const std::string& collection) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto c = collections_.find(collection);
  return c == collections_.end() ? 0 : c->second.size();
}

bool RecordStore::has_collection(const std::string& collection) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return collections_.count(collection) > 0;
}

void RecordStore::create_collection(const std::string& collection) {
  std::lock_guard<std::mutex> lock(mutex_);
  collections_[collection];
}

bool RecordStore::erase(const std::string& collection, const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto c = collections_.find(collection);
  return c != collections_.end() && c->second.erase(id) > 0;
}

void RecordStore::put(const std::string& collection, StoredRecord record) {
  std::lock_guard<std::mutex> lock(mutex_);
  collections_[collection][record.id] = std::move(record);
}

bool RecordStore::remove(const std::string& collection, const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto c = collections_.find(collection);
  return c != collections_.end() && c->second.erase(id) > 0;
}

void RecordStore::load(const nlohmann::json& collections) {
  if (!collections.is_object()) throw std::runtime_error("collections must be an object of arrays");
  for (const auto& [name, records] : collections.items()) {
    create_collection(name);
    if (!records.is_array()) throw std::runtime_error("collection '" + name + "' must be an array");
    for (const auto& item : records) {
      if (!item.is_object() || !item.contains("id")) throw std::runtime_error("a record of '" + name + "' has no id");
      StoredRecord r;
      r.id = item["id"].is_string() ? item["id"].get<std::string>() : item["id"].dump();
      if (item.contains("properties")) r.properties = item["properties"];
      int64_t now = now_ms_();
      r.created_ms = r.updated_ms = now;
      for (const char* key : {"updated_at", "updatedAt"}) {
        if (!item.contains(key)) continue;
        const auto& v = item[key];
        auto ms = v.is_number_integer() ? std::optional<int64_t>(v.get<int64_t>())
                                        : v.is_string() ? parse_time(v.get<std::string>()) : std::nullopt;
        if (!ms) throw std::runtime_error("record " + r.id + " of '" + name + "' has an unreadable " + key);
        r.updated_ms = r.created_ms = *ms;
      }
      put(name, std::move(r));
    }
  }
}

}  // namespace conflux::test::fake
