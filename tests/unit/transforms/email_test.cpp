#include "conflux/transforms/email.hpp"

#include <catch2/catch.hpp>

#include "conflux/transforms/builtin.hpp"

using conflux::Record;
using conflux::Value;
using conflux::engine::Rejected;
using conflux::transforms::canonical_email;
using conflux::transforms::is_valid_email;
using conflux::transforms::make_transform;
using conflux::transforms::normalize_email;
using Json = nlohmann::ordered_json;

namespace {

struct Outcome {
  std::vector<Record> kept;
  std::vector<Rejected> rejected;
};

Outcome run(const Json& config, std::vector<Record> records) {
  auto stage = make_transform("email", config);
  INFO(stage.status().to_string());
  REQUIRE(stage.is_ok());
  Outcome out;
  out.kept = std::move(records);
  REQUIRE((*stage)->apply(out.kept, out.rejected).is_ok());
  return out;
}

Record with(const std::string& field, Value value) {
  Record record;
  record.set(field, std::move(value));
  return record;
}

}  // namespace

TEST_CASE("email syntax rule", "[transforms][email]") {
  for (const char* good : {"ivan@example.com", "a.b+tag@mail.example.co.uk", "x@a-b.io", "o'neil@example.org", "1@2.xy",
                           "user_name@sub.domain.ru", "!#$%&'*+-/=?^_`{|}~@ex.com"}) {
    INFO(good);
    CHECK(is_valid_email(good));
  }
  for (const char* bad : {"",
                          "@example.com",
                          "ivan",
                          "ivan@",
                          "ivan@@example.com",
                          "iv an@example.com",
                          "ivan@example",
                          "ivan@example.c",
                          "ivan@example.c0m",
                          "ivan@.example.com",
                          "ivan@example..com",
                          "ivan@example.com.",
                          "ivan@-example.com",
                          "ivan@example-.com",
                          "ivan@exa_mple.com",
                          "ivan@Example.com",
                          "иван@example.com",
                          "ivan@пример.рф",
                          "a@b@c.com",
                          "ivan\t@example.com"}) {
    INFO(bad);
    CHECK_FALSE(is_valid_email(bad));
  }
  CHECK(normalize_email("  Ivan.Petrov@Example.COM\t") == "ivan.petrov@example.com");
}

TEST_CASE("email provider canonical forms", "[transforms][email]") {
  CHECK(canonical_email("i.v.a.n+promo@gmail.com") == "ivan@gmail.com");
  CHECK(canonical_email("ivan.petrov@googlemail.com") == "ivanpetrov@gmail.com");
  CHECK(canonical_email("ivan.petrov+x@outlook.com") == "ivan.petrov@outlook.com");
  CHECK(canonical_email("ivan+shop@hotmail.com") == "ivan@hotmail.com");
  CHECK(canonical_email("ivan-petrov+a@yandex.ru") == "ivan-petrov@yandex.ru");
  CHECK(canonical_email("ivan+a@ya.ru") == "ivan@ya.ru");
  CHECK(canonical_email("ivan+a@icloud.com") == "ivan@icloud.com");
  CHECK(canonical_email("ivan+a@fastmail.com") == "ivan@fastmail.com");
  CHECK(canonical_email("ivan.p+a@example.com") == "ivan.p+a@example.com");
  CHECK(canonical_email("ivan+a@mail.ru") == "ivan+a@mail.ru");
  CHECK(canonical_email("+tag@gmail.com") == "+tag@gmail.com");
}

TEST_CASE("email stage normalises valid addresses", "[transforms][email]") {
  Outcome out = run(Json::object(), {with("email", Value::string("  Ivan.Petrov+News@GMail.com "))});
  REQUIRE(out.kept.size() == 1);
  CHECK(out.kept[0].find("email")->text == "ivan.petrov+news@gmail.com");

  out = run({{"canonical", true}, {"keep_original", "email_raw"}},
            {with("email", Value::string(" Ivan.Petrov+News@GMail.com"))});
  REQUIRE(out.kept.size() == 1);
  CHECK(out.kept[0].find("email")->text == "ivanpetrov@gmail.com");
  CHECK(out.kept[0].find("email_raw")->text == " Ivan.Petrov+News@GMail.com");

  out = run({{"field", "work_email"}}, {with("work_email", Value::string("A@B.CO"))});
  CHECK(out.kept[0].find("work_email")->text == "a@b.co");
}

TEST_CASE("email stage rejects invalid addresses with the value in the reason", "[transforms][email]") {
  Outcome out =
      run(Json::object(), {with("email", Value::string("ivan@@example.com")), with("email", Value::integer(5))});
  REQUIRE(out.rejected.size() == 2);
  CHECK(out.rejected[0].invalid);
  CHECK(out.rejected[0].reason == "email: invalid address 'ivan@@example.com'");
  CHECK(out.rejected[0].record.find("email")->text == "ivan@@example.com");  // left as it came
  CHECK(out.rejected[1].reason == "email: invalid address '5'");
  out = run({{"field", "work_email"}, {"keep_original", "raw"}},
            {with("work_email", Value::string(std::string(80, 'x')))});
  REQUIRE(out.rejected.size() == 1);
  CHECK(out.rejected[0].reason == "email: invalid address '" + std::string(64, 'x') + "...' in field 'work_email'");
  CHECK_FALSE(out.rejected[0].record.has("raw"));
}

TEST_CASE("email stage: missing or blank passes unless required", "[transforms][email]") {
  Outcome out = run(Json::object(), {with("other", Value::string("x")), with("email", Value::string("  ")),
                                     with("email", Value::null())});
  CHECK(out.kept.size() == 3);
  CHECK(out.kept[1].find("email")->text == "  ");
  out = run({{"required", true}}, {with("other", Value::string("x")), with("email", Value::null())});
  REQUIRE(out.rejected.size() == 2);
  CHECK(out.rejected[0].reason == "email: field 'email' is missing or blank");
}

TEST_CASE("email config errors", "[transforms][email]") {
  auto error = [](const Json& config) {
    auto result = make_transform("email", config);
    REQUIRE_FALSE(result.is_ok());
    CHECK(result.status().code() == conflux::StatusCode::kFailedPrecondition);
    return result.status().message();
  };
  CHECK(error({{"field", ""}}) == "email: 'field' must be a non-empty string");
  CHECK(error({{"canonical", "yes"}}) == "email: 'canonical' must be true or false");
  CHECK(error({{"keep_original", ""}}) == "email: 'keep_original' must be a non-empty string");
  CHECK(error({{"keep_original", "email"}}) == "email: 'keep_original' must differ from 'field'");
  CHECK(error({{"required", 1}}) == "email: 'required' must be true or false");
  CHECK(error({{"canonicalize", true}}).find("email: unknown key 'canonicalize' (did you mean 'canonical'?)") == 0);
}
