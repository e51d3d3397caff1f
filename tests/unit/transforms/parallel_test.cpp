// parallel_safe() stages run apply() on disjoint parts of a batch from several threads: the results must equal a
// single-threaded run. (Run under -fsanitize=thread to check for races as well.)
#include <catch2/catch.hpp>

#include <thread>

#include "conflux/record/json.hpp"
#include "conflux/transforms/builtin.hpp"

using conflux::Record;
using conflux::Value;
using conflux::engine::Rejected;
using conflux::transforms::make_transform;
using Json = nlohmann::ordered_json;

namespace {

std::vector<Record> batch(size_t count) {
  std::vector<Record> records;
  for (size_t i = 0; i < count; ++i) {
    Record r(i + 1);
    r.set("email", Value::string(i % 7 == 0 ? "bad@@x" : "  User" + std::to_string(i % 500) + "@Example.com "));
    r.set("phone",
          Value::string(i % 5 == 0 ? "8 (912) 345-" + std::to_string(10 + i % 90) + "-" + std::to_string(10 + i % 89)
                                   : "+1 212 23" + std::to_string(1000 + i % 9000)));
    r.set("name", Value::string("  иВАН  петров-" + std::to_string(i % 3) + " "));
    r.set("created", Value::string(i % 2 ? "05.03.2024 14:30" : "2024-10-27 02:30"));
    r.set("amount", Value::string("1 234," + std::to_string(i % 100)));
    records.push_back(std::move(r));
  }
  return records;
}

std::string dump(const std::vector<Record>& kept, const std::vector<Rejected>& rejected) {
  std::string out;
  for (const Record& r : kept) out += conflux::record_to_json_text(r) + "\n";
  for (const Rejected& r : rejected) out += r.reason + " " + conflux::record_to_json_text(r.record) + "\n";
  return out;
}

}  // namespace

TEST_CASE("stateless stages give the same results on several threads", "[transforms][parallel]") {
  const std::vector<std::pair<std::string, Json>> stages = {
      {"email", {{"canonical", true}}},
      {"phone", {{"default_region", "RU"}, {"invalid", "flag"}}},
      {"clean", {{"case", "title"}, {"collapse_spaces", true}, {"nfc", true}}},
      {"cast", {{"fields", {{"created", "timestamp"}, {"amount", "decimal"}}}, {"timezone", "Europe/Berlin"}}},
      {"filter", {{"expr", "matches(email, 'user1') or len(name) > 100"}}},
      {"hash_pii", {{"fields", {{"email", "sha256"}, {"phone", "sha256"}}}, {"default_region", "RU"}}},
  };
  for (const auto& [type, config] : stages) {
    INFO(type);
    auto made = make_transform(type, config);
    REQUIRE(made.is_ok());
    auto& stage = *made.value();
    REQUIRE(stage.parallel_safe());
    std::vector<Record> serial = batch(4000);
    std::vector<Rejected> serial_rejected;
    REQUIRE(stage.apply(serial, serial_rejected).is_ok());

    std::vector<Record> all = batch(4000);
    std::vector<std::vector<Record>> parts(4);
    for (size_t i = 0; i < all.size(); ++i) parts[i * parts.size() / all.size()].push_back(std::move(all[i]));
    std::vector<std::vector<Rejected>> rejected(parts.size());
    std::vector<std::thread> threads;
    for (size_t t = 0; t < parts.size(); ++t) {
      threads.emplace_back([&, t] { (void)stage.apply(parts[t], rejected[t]); });
    }
    for (std::thread& thread : threads) thread.join();
    std::vector<Record> merged;
    std::vector<Rejected> merged_rejected;
    for (size_t t = 0; t < parts.size(); ++t) {
      for (Record& r : parts[t]) merged.push_back(std::move(r));
      for (Rejected& r : rejected[t]) merged_rejected.push_back(std::move(r));
    }
    CHECK(dump(merged, merged_rejected) == dump(serial, serial_rejected));
  }
}
