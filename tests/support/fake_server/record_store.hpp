// The fake server's data: named collections of records with an id, JSON properties and created/updated times.
// Thread-safe. Listing pages by a real cursor (ids in order, resume after the last one returned), so records
// inserted while a client pages through are neither skipped nor repeated before the cursor.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace conflux::test::fake {

struct StoredRecord {
  std::string id;
  nlohmann::json properties = nlohmann::json::object();
  int64_t created_ms = 0;  // milliseconds since the epoch, UTC
  int64_t updated_ms = 0;
};

// "2024-03-05T11:22:10.123Z" <-> milliseconds since the epoch. parse_time also takes an integer text (ms).
std::string format_time(int64_t ms);
std::optional<int64_t> parse_time(const std::string& text);

class RecordStore {
 public:
  // `now_ms` stamps created/updated times of upserts; defaults to the system clock.
  explicit RecordStore(std::function<int64_t()> now_ms = {});

  struct Query {
    std::optional<int64_t> modified_since_ms;  // only records updated at or after this
    std::string after;                         // a cursor from a previous page; "" = from the start
    size_t limit = 100;
  };
  struct Page {
    std::vector<StoredRecord> records;
    std::string next;  // cursor of the following page; "" on the last page
    size_t total = 0;  // records matching the filter, all pages
  };
  // Records in id order (numeric ids numerically). An unknown cursor gives nullopt.
  std::optional<Page> list(const std::string& collection, const Query& query) const;

  struct Upserted {
    StoredRecord record;
    bool created = false;
    bool changed = false;  // false when the properties were already equal
  };
  // Matches by id when `id_property` is empty, else by properties[id_property] == match. New records get the next
  // numeric id. Properties are merged into the stored ones.
  Upserted upsert(const std::string& collection, const std::string& id_property, const std::string& match,
                  const nlohmann::json& properties);

  std::optional<StoredRecord> get(const std::string& collection, const std::string& id) const;
  size_t size(const std::string& collection) const;
  bool has_collection(const std::string& collection) const;
  void create_collection(const std::string& collection);
  // Removes a record; false when there is none with that id.
  bool erase(const std::string& collection, const std::string& id);
  // Adds or replaces a record as given (times included).
  void put(const std::string& collection, StoredRecord record);
  // Deletes a record; false when the collection does not hold it.
  bool remove(const std::string& collection, const std::string& id);
  // Loads {"contacts":[{"id":"1","properties":{...},"updated_at":"2024-..Z"}], ...}. Throws std::runtime_error on a
  // malformed document (test setup, not a server fault).
  void load(const nlohmann::json& collections);

  // An opaque cursor for "after record `id`" and back.
  static std::string encode_cursor(const std::string& id);
  static std::optional<std::string> decode_cursor(const std::string& cursor);

 private:
  // Numeric ids sort numerically (shorter first), others lexicographically after them.
  struct IdLess {
    bool operator()(const std::string& a, const std::string& b) const;
  };
  using Collection = std::map<std::string, StoredRecord, IdLess>;

  std::function<int64_t()> now_ms_;
  mutable std::mutex mutex_;
  std::map<std::string, Collection> collections_;
};

}  // namespace conflux::test::fake
