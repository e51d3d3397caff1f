#include <catch2/catch.hpp>

#include "support.hpp"

#include "conflux/record/json.hpp"
#include "conflux/transforms/builtin.hpp"

using conflux::Record;
using conflux::Value;
using conflux::engine::Rejected;
using conflux::engine::Transform;
using conflux::transforms::make_transform;
using Json = nlohmann::ordered_json;

namespace {

std::unique_ptr<Transform> dedupe(const Json& config) { return conflux::test::make_stage("dedupe", config); }

Record person(int id, const std::string& email, const std::string& name = "", const std::string& phone = "") {
  Record r(static_cast<uint64_t>(id));
  r.set("id", Value::integer(id));
  r.set("email", email.empty() ? Value::null() : Value::string(email));
  r.set("name", Value::string(name));
  r.set("phone", Value::string(phone));
  return r;
}

std::vector<int64_t> ids(const std::vector<Record>& records) {
  std::vector<int64_t> out;
  for (const Record& r : records) out.push_back(r.find("id")->int_value);
  return out;
}

std::vector<int64_t> ids(const std::vector<Rejected>& rejected) {
  std::vector<int64_t> out;
  for (const Rejected& r : rejected) out.push_back(r.record.find("id")->int_value);
  return out;
}

}  // namespace

TEST_CASE("dedupe keep: first streams across batches", "[transforms][dedupe]") {
  auto stage = dedupe({{"key", "email"}});
  CHECK_FALSE(stage->parallel_safe());
  CHECK_FALSE(stage->holds_records());
  std::vector<Record> batch = {person(1, "a@x.io"), person(2, "b@x.io"), person(3, "a@x.io")};
  std::vector<Rejected> rejected;
  REQUIRE(stage->apply(batch, rejected).is_ok());
  CHECK(ids(batch) == std::vector<int64_t>{1, 2});
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].reason == "dedupe: duplicate email (the first record was kept)");
  CHECK_FALSE(rejected[0].invalid);
  std::vector<Record> second = {person(4, "b@x.io"), person(5, "c@x.io")};
  REQUIRE(stage->apply(second, rejected).is_ok());
  CHECK(ids(second) == std::vector<int64_t>{5});
  CHECK(ids(rejected) == std::vector<int64_t>{3, 4});
  std::vector<Record> end;
  REQUIRE(stage->finish(end, rejected).is_ok());
  CHECK(end.empty());
}

TEST_CASE("dedupe: blank keys pass, normalise, composite keys", "[transforms][dedupe]") {
  auto stage = dedupe({{"key", {"email"}}});
  std::vector<Record> batch = {person(1, ""), person(2, ""), person(3, "  "), person(4, "A@x.io"), person(5, "a@x.io")};
  std::vector<Rejected> rejected;
  REQUIRE(stage->apply(batch, rejected).is_ok());
  CHECK(ids(batch) == std::vector<int64_t>{1, 2, 3, 4, 5});  // case differs without normalise

  auto normalised = dedupe({{"key", "email"}, {"normalise", true}});
  batch = {person(1, " Ivan@X.io"), person(2, "ivan@x.io "), person(3, "ИВАН@x.io"), person(4, "иван@x.io")};
  rejected.clear();
  REQUIRE(normalised->apply(batch, rejected).is_ok());
  CHECK(ids(batch) == std::vector<int64_t>{1, 3});
  REQUIRE(rejected.size() == 2);
  CHECK(rejected[0].reason == "dedupe: duplicate email (the first record was kept)");

  auto composite = dedupe({{"key", {"name", "phone"}}});
  batch = {person(1, "", "Ann", "1"), person(2, "", "Ann", "2"), person(3, "", "Ann", "1"),
           person(4, "", "An", "n1"), person(5, "", "Ann1", ""), person(6, "", "", "")};
  rejected.clear();
  REQUIRE(composite->apply(batch, rejected).is_ok());
  CHECK(ids(batch) == std::vector<int64_t>{1, 2, 4, 5, 6});  // ("An","n1") and ("Ann1","") are not ("Ann","1")
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].reason == "dedupe: duplicate name+phone (the first record was kept)");
}

TEST_CASE("dedupe keep: last holds winners until finish", "[transforms][dedupe]") {
  auto stage = dedupe({{"key", "email"}, {"keep", "last"}});
  CHECK(stage->holds_records());
  std::vector<Record> batch = {person(1, "a@x.io"), person(2, "b@x.io"), person(3, ""), person(4, "a@x.io")};
  std::vector<Rejected> rejected;
  REQUIRE(stage->apply(batch, rejected).is_ok());
  CHECK(ids(batch) == std::vector<int64_t>{3});  // blank key passes at once
  CHECK(ids(rejected) == std::vector<int64_t>{1});
  CHECK(rejected[0].reason == "dedupe: duplicate email (a later record was kept)");
  std::vector<Record> second = {person(5, "b@x.io"), person(6, "c@x.io")};
  REQUIRE(stage->apply(second, rejected).is_ok());
  CHECK(second.empty());
  CHECK(ids(rejected) == std::vector<int64_t>{1, 2});
  std::vector<Record> end;
  REQUIRE(stage->finish(end, rejected).is_ok());
  CHECK(ids(end) == std::vector<int64_t>{4, 5, 6});  // in the order the kept records arrived
}

TEST_CASE("dedupe keep: most_complete keeps the fullest, earliest on ties", "[transforms][dedupe]") {
  auto stage = dedupe({{"key", "email"}, {"keep", "most_complete"}});
  CHECK(stage->holds_records());
  std::vector<Record> batch = {person(1, "a@x.io"),
                               person(2, "a@x.io", "Ann"),
                               person(3, "a@x.io", "Ann", "+7"),
                               person(4, "a@x.io", "Bob", "+1"),
                               person(5, "b@x.io", "B"),
                               person(6, "b@x.io")};
  std::vector<Rejected> rejected;
  REQUIRE(stage->apply(batch, rejected).is_ok());
  CHECK(batch.empty());
  CHECK(ids(rejected) == std::vector<int64_t>{1, 2, 4, 6});
  CHECK(rejected[0].reason == "dedupe: duplicate email (a more complete record was kept)");
  CHECK(rejected[2].reason == "dedupe: duplicate email (an as complete or more complete record was kept)");
  std::vector<Record> end;
  REQUIRE(stage->finish(end, rejected).is_ok());
  CHECK(ids(end) == std::vector<int64_t>{3, 5});
}

TEST_CASE("dedupe keep: first on many keys", "[transforms][dedupe]") {
  auto stage = dedupe({{"key", "email"}});
  std::vector<Record> batch;
  for (int i = 0; i < 50000; ++i) batch.push_back(person(i, "user" + std::to_string(i % 20000) + "@x.io"));
  std::vector<Rejected> rejected;
  REQUIRE(stage->apply(batch, rejected).is_ok());
  CHECK(batch.size() == 20000);
  CHECK(rejected.size() == 30000);
  CHECK(batch.back().find("id")->int_value == 19999);
}

TEST_CASE("dedupe config errors", "[transforms][dedupe]") {
  auto error = [](const Json& config) {
    auto result = make_transform("dedupe", config);
    REQUIRE_FALSE(result.is_ok());
    CHECK(result.status().code() == conflux::StatusCode::kFailedPrecondition);
    return result.status().message();
  };
  CHECK(error(Json::object()) == "dedupe: missing required key 'key'");
  CHECK(error({{"key", Json::array()}}) == "dedupe: 'key' is empty");
  CHECK(error({{"key", {"a", "a"}}}) == "dedupe: field 'a' appears twice in key");
  CHECK(error({{"key", 5}}) == "dedupe: 'key' must be a list of field names");
  CHECK(error({{"key", "a"}, {"keep", "newest"}}) ==
        "dedupe: unknown value 'newest' in keep (expected one of: first, last, most_complete)");
  CHECK(error({{"key", "a"}, {"normalise", "yes"}}) == "dedupe: 'normalise' must be true or false");
  CHECK(
      error({{"key", "a"}, {"normalize", true}}).find("dedupe: unknown key 'normalize' (did you mean 'normalise'?)") ==
      0);
}
