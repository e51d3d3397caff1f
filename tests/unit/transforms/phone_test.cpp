#include "conflux/transforms/phone.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <catch2/catch.hpp>

#include "support.hpp"

#include <random>
#include <set>

#include "conflux/transforms/builtin.hpp"

using conflux::Record;
using conflux::Value;
using conflux::ValueType;
using conflux::engine::Rejected;
using conflux::transforms::make_transform;
using conflux::transforms::PhoneFormat;
using conflux::transforms::PhoneNormalizer;
using conflux::transforms::PhonePath;
using Json = nlohmann::ordered_json;

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

PhoneNormalizer normalizer(const std::string& region, PhoneFormat format = PhoneFormat::kE164) {
  auto result = PhoneNormalizer::create(region, format);
  REQUIRE(result.is_ok());
  return std::move(result).value();
}

std::unique_ptr<conflux::engine::Transform> phone_stage(const Json& config) {
  return conflux::test::make_stage("phone", config);
}

struct Outcome {
  std::vector<Record> kept;
  std::vector<Rejected> rejected;
};

Outcome run(conflux::engine::Transform& stage, std::vector<Record> records) {
  Outcome out;
  out.kept = std::move(records);
  REQUIRE(stage.apply(out.kept, out.rejected).is_ok());
  return out;
}

Record with_phone(Value value, const std::string& field = "phone") {
  Record record;
  record.set("id", Value::integer(1));
  record.set(field, std::move(value));
  return record;
}

// Inserts the separators people type between digit groups.
std::string decorate(const std::string& digits, std::mt19937& rng) {
  static const char* kSeparators[] = {"", " ", "-", ".", "/", " - "};
  std::string out;
  size_t i = 0;
  bool parens = rng() % 4 == 0 && digits.size() > 6;
  while (i < digits.size()) {
    size_t group = 2 + rng() % 3;
    std::string part = digits.substr(i, group);
    if (parens && i > 0 && i < 4) {
      part = "(" + part + ")";
      parens = false;
    }
    out += part;
    i += group;
    if (i < digits.size()) out += kSeparators[rng() % std::size(kSeparators)];
  }
  return out;
}

// Thousands of inputs across RU, US, GB, DE: example numbers of every type, their neighbours (mostly valid), random
// digit strings (mostly invalid), in national and international form, with and without separators and trunk
// prefixes, plus junk.
std::vector<std::string> generated_inputs() {
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  std::mt19937 rng(20240305);
  std::vector<std::string> inputs;
  const std::vector<std::string> regions = {"RU", "US", "GB", "DE", "KZ", "FR", "IT"};
  const std::vector<PhoneNumberUtil::PhoneNumberType> types = {
      PhoneNumberUtil::FIXED_LINE,      PhoneNumberUtil::MOBILE,      PhoneNumberUtil::TOLL_FREE,
      PhoneNumberUtil::PREMIUM_RATE,    PhoneNumberUtil::SHARED_COST, PhoneNumberUtil::VOIP,
      PhoneNumberUtil::PERSONAL_NUMBER, PhoneNumberUtil::UAN};
  std::vector<PhoneNumber> seeds;
  for (const std::string& region : regions) {
    for (auto type : types) {
      PhoneNumber example;
      if (util->GetExampleNumberForType(region, type, &example)) seeds.push_back(example);
    }
  }
  // Neighbours of the examples: same prefix, random tail; lengths one shorter and longer.
  std::vector<PhoneNumber> numbers = seeds;
  for (const PhoneNumber& seed : seeds) {
    std::string nsn;
    util->GetNationalSignificantNumber(seed, &nsn);
    for (int k = 0; k < 3; ++k) {
      std::string variant = nsn;
      for (size_t i = variant.size() / 2; i < variant.size(); ++i) variant[i] = static_cast<char>('0' + rng() % 10);
      if (k % 5 == 3) variant.pop_back();
      if (k % 5 == 4) variant += static_cast<char>('0' + rng() % 10);
      PhoneNumber n;
      n.set_country_code(seed.country_code());
      n.set_national_number(std::stoull(variant));
      numbers.push_back(n);
    }
  }
  // Random national numbers, including ones starting with the trunk prefixes 8 / 1 / 0 and the calling codes.
  const std::vector<std::pair<int, std::string>> random_codes = {{7, "RU"}, {1, "US"}, {44, "GB"}, {49, "DE"}};
  for (const auto& [code, region] : random_codes) {
    for (int k = 0; k < 15; ++k) {
      size_t length = 7 + rng() % 6;
      std::string digits;
      digits += static_cast<char>('1' + rng() % 9);
      while (digits.size() < length) digits += static_cast<char>('0' + rng() % 10);
      PhoneNumber n;
      n.set_country_code(code);
      n.set_national_number(std::stoull(digits));
      numbers.push_back(n);
    }
  }
  for (const PhoneNumber& n : numbers) {
    std::string e164;
    std::string international;
    std::string national;
    std::string nsn;
    util->Format(n, PhoneNumberUtil::E164, &e164);
    util->Format(n, PhoneNumberUtil::INTERNATIONAL, &international);
    util->Format(n, PhoneNumberUtil::NATIONAL, &national);
    util->GetNationalSignificantNumber(n, &nsn);
    std::string code = std::to_string(n.country_code());
    std::string region;
    util->GetRegionCodeForCountryCode(n.country_code(), &region);
    std::string trunk;
    util->GetNddPrefixForRegion(region, true, &trunk);
    inputs.push_back(e164);
    inputs.push_back(international);
    inputs.push_back(national);
    inputs.push_back(nsn);
    inputs.push_back(trunk + nsn);
    inputs.push_back(code + nsn);
    inputs.push_back("+" + code + " " + decorate(nsn, rng));
    inputs.push_back("+" + code + " (" + trunk + ")" + decorate(nsn, rng));
    inputs.push_back("+" + code + trunk + nsn);
    inputs.push_back(decorate(trunk + nsn, rng));
    inputs.push_back(decorate(nsn, rng));
    inputs.push_back("  " + trunk + " (" + nsn.substr(0, 3) + ") " + decorate(nsn.substr(3), rng) + " ");
    inputs.push_back("00" + code + nsn);
    inputs.push_back("810" + code + nsn);
    inputs.push_back("011" + code + " " + decorate(nsn, rng));
    inputs.push_back("+" + nsn);
    inputs.push_back("8" + nsn);
    inputs.push_back("7" + nsn);
    inputs.push_back(nsn.substr(0, nsn.size() - 1));
    inputs.push_back(nsn + "1");
  }
  const std::vector<std::string> junk = {"12345",
                                         "abc",
                                         "+7 912",
                                         "",
                                         " ",
                                         "+",
                                         "++79123456789",
                                         "+0 912 345 67 89",
                                         "8 10 49 30 12345678",
                                         "+8 (912) 345-67-89",
                                         "8-800-555-35-35",
                                         "+7 (800) 555-35-35",
                                         "88005553535",
                                         "8 (495) 123-45-67",
                                         "(912) 345-67-89",
                                         "9123456789",
                                         "79123456789",
                                         "+79123456789 ext. 12",
                                         "+7 912 345 67 89#",
                                         "+7-912-345-67-89;ext=5",
                                         "tel:+7-912-345-67-89",
                                         "+7 ９１２ ３４５ ６７ ８９",
                                         "8(912)3456789.",
                                         "(+7) 912 345 67 89",
                                         "+1 800 FLOWERS",
                                         "+44 (0)20 7946 0958",
                                         "+49 (0)30 12345678",
                                         "+1 (212) 555-0134",
                                         "+1 212 555 0134",
                                         "1-212-234-5678",
                                         "0049 30 12345678",
                                         "0044 20 7946 0958",
                                         "+7 7172 123456",
                                         "8 7172 123456",
                                         "+7 701 123 45 67",
                                         "8 701 123 45 67",
                                         "+380 44 123 4567",
                                         "+998 90 123 45 67",
                                         "+39 06 1234 5678",
                                         "+39 312 345 6789",
                                         "+0",
                                         "+00",
                                         "+000000",
                                         "8",
                                         "88",
                                         "888",
                                         "8888",
                                         "0000000000",
                                         "+7 000 000 00 00",
                                         "+1 000-000-0000",
                                         "+44 0000 000000",
                                         "8 (912) 345-67-89 доб. 123",
                                         "8\xC2\xA0"
                                         "912\xC2\xA0"
                                         "345\xC2\xA0"
                                         "67\xC2\xA0"
                                         "89",
                                         "+7/912/345/67/89",
                                         "+7.912.345.67.89",
                                         "((8)) 912 345 67 89",
                                         "8 -- 912 -- 3456789",
                                         "-+79123456789",
                                         ".89123456789",
                                         "+7 912 345-67-8",
                                         "+7 912 345-67-890",
                                         "+7 912 345-67-8901",
                                         "+7 912 345 67 89 12 34 56 78 90"};
  inputs.insert(inputs.end(), junk.begin(), junk.end());
  // Random junk of phone characters.
  const std::string alphabet = "0123456789 ()-./+";
  for (int k = 0; k < 400; ++k) {
    std::string text;
    size_t length = 1 + rng() % 18;
    for (size_t i = 0; i < length; ++i) text += alphabet[rng() % alphabet.size()];
    inputs.push_back(text);
  }
  return inputs;
}

}  // namespace

TEST_CASE("phone fast path agrees with Parse + IsValidNumber + Format", "[transforms][phone]") {
  const std::vector<std::string> inputs = generated_inputs();
  REQUIRE(inputs.size() > 3000);
  const std::vector<std::pair<std::string, PhoneFormat>> setups = {
      {"RU", PhoneFormat::kE164}, {"US", PhoneFormat::kE164},         {"GB", PhoneFormat::kE164},
      {"DE", PhoneFormat::kE164}, {"", PhoneFormat::kE164},           {"KZ", PhoneFormat::kE164},
      {"BR", PhoneFormat::kE164}, {"RU", PhoneFormat::kInternational}};
  for (const auto& [region, format] : setups) {
    {
      PhoneNormalizer phones = normalizer(region, format);
      size_t decided = 0;
      size_t valid = 0;
      for (const std::string& input : inputs) {
        std::optional<std::string> fast = phones.normalize(input, PhonePath::kFastThenFull);
        std::optional<std::string> full = phones.normalize(input, PhonePath::kFull);
        INFO("region " << region << " input '" << input << "'");
        REQUIRE(fast == full);
        REQUIRE(phones.normalize(input) == full);
        decided += phones.fast_path_decides(input) ? 1 : 0;
        valid += full ? 1 : 0;
      }
      INFO("region " << region << ": fast path decided " << decided << " of " << inputs.size());
      CHECK(valid > 0);
      if (region == "RU" || region == "US" || region == "GB" || region == "DE") CHECK(decided * 5 > inputs.size() * 2);
    }
  }
}

TEST_CASE("phone fast path agrees with Parse for every region it handles", "[transforms][phone]") {
  // The regions of kSimpleRegions in phone.cpp, each as the default region, with its own numbers in its own formats.
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  std::mt19937 rng(31);
  const std::vector<PhoneNumberUtil::PhoneNumberType> types = {
      PhoneNumberUtil::FIXED_LINE, PhoneNumberUtil::MOBILE, PhoneNumberUtil::TOLL_FREE, PhoneNumberUtil::VOIP,
      PhoneNumberUtil::PREMIUM_RATE};
  size_t compared = 0;
  for (const char* region : {"RU", "UZ", "TJ", "UA", "US", "GB", "DE", "FR", "NL", "BE", "AT", "CH",
                             "SE", "TR", "IN", "JP", "AE", "AM", "AZ", "GE", "KG", "MD", "RS", "IE",
                             "ES", "IT", "PL", "PT", "GR", "DK", "NO", "CZ", "LV", "EE"}) {
    PhoneNormalizer phones = normalizer(region);
    std::string trunk;
    util->GetNddPrefixForRegion(region, true, &trunk);
    for (auto type : types) {
      PhoneNumber example;
      if (!util->GetExampleNumberForType(region, type, &example)) continue;
      std::string nsn;
      util->GetNationalSignificantNumber(example, &nsn);
      std::vector<std::string> variants = {nsn};
      for (int k = 0; k < 3; ++k) {
        std::string variant = nsn;
        for (size_t i = variant.size() / 2; i < variant.size(); ++i) variant[i] = static_cast<char>('0' + rng() % 10);
        variants.push_back(variant);
      }
      for (const std::string& digits : variants) {
        const std::string code = std::to_string(example.country_code());
        for (const std::string& input : {digits, trunk + digits, decorate(trunk + digits, rng), "+" + code + digits,
                                         "+" + code + " " + decorate(digits, rng), code + digits, "00" + code + digits,
                                         digits.substr(1), trunk + trunk + digits}) {
          INFO("region " << region << " input '" << input << "'");
          REQUIRE(phones.normalize(input, PhonePath::kFastThenFull) == phones.normalize(input, PhonePath::kFull));
          ++compared;
        }
      }
    }
  }
  CHECK(compared > 4000);
}

TEST_CASE("phone fast path covers the benchmark shapes", "[transforms][phone]") {
  PhoneNormalizer ru = normalizer("RU");
  for (const char* input :
       {"+7 912 345-67-89", "8 (912) 345-67-89", "89123456789", "+79123456789", "8-912-345-67-89", "+7 (912) 345 67 89",
        "+1 212-234-5678", "+1 (212) 234-5678", "+12122345678", "+1.212.234.5678", "+1 212 234 5678",
        "+44 20 7946 0958", "+442079460958", "+44 (20) 7946 0958", "+49 30 12345678", "+493012345678",
        "+49 (30) 1234 5678", "+49 30 1234-5678"}) {
    INFO(input);
    CHECK(ru.fast_path_decides(input));
    CHECK(ru.normalize(input) == ru.normalize(input, PhonePath::kFull));
    CHECK(ru.normalize(input).has_value());
  }
  CHECK(ru.normalize("8 (912) 345-67-89") == "+79123456789");
  CHECK(ru.normalize("+1 (212) 234-5678") == "+12122345678");
  CHECK(ru.normalize("+44 20 7946 0958") == "+442079460958");
}

TEST_CASE("phone normaliser formats and regions", "[transforms][phone]") {
  CHECK(normalizer("RU", PhoneFormat::kInternational).normalize("89123456789") == "+7 912 345-67-89");
  CHECK(normalizer("RU", PhoneFormat::kNational).normalize("+79123456789") == "8 (912) 345-67-89");
  CHECK(normalizer("US").normalize("(212) 234-5678") == "+12122345678");
  CHECK(normalizer("").normalize("89123456789") == std::nullopt);
  CHECK(normalizer("").normalize("+7 912 345 67 89") == "+79123456789");
  CHECK(normalizer("RU").normalize("12345") == std::nullopt);
  CHECK(normalizer("RU").normalize("+7 912 345-67-8") == std::nullopt);
  CHECK(!PhoneNormalizer::create("XX", PhoneFormat::kE164).is_ok());
}

TEST_CASE("phone stage normalises, rejects and flags", "[transforms][phone]") {
  SECTION("valid numbers become E.164") {
    auto stage = phone_stage({{"default_region", "RU"}});
    CHECK(stage->parallel_safe());
    Outcome out =
        run(*stage, {with_phone(Value::string("8 (912) 345-67-89")), with_phone(Value::integer(79123456789))});
    REQUIRE(out.kept.size() == 2);
    CHECK(out.kept[0].find("phone")->text == "+79123456789");
    CHECK(out.kept[1].find("phone")->text == "+79123456789");
  }
  SECTION("invalid: reject makes the record invalid") {
    auto stage = phone_stage({{"default_region", "RU"}});
    Outcome out = run(*stage, {with_phone(Value::string("12345"))});
    REQUIRE(out.rejected.size() == 1);
    CHECK(out.rejected[0].invalid);
    CHECK(out.rejected[0].reason == "phone: invalid number '12345'");
  }
  SECTION("the reason names a non-default field and truncates long values") {
    auto stage = phone_stage({{"default_region", "RU"}, {"field", "mobile"}});
    Outcome out = run(*stage, {with_phone(Value::string(std::string(100, '9')), "mobile")});
    REQUIRE(out.rejected.size() == 1);
    CHECK(out.rejected[0].reason == "phone: invalid number '" + std::string(64, '9') + "...' in field 'mobile'");
  }
  SECTION("invalid: flag keeps the record") {
    auto stage = phone_stage({{"default_region", "RU"}, {"invalid", "flag"}});
    Outcome out = run(*stage, {with_phone(Value::string("abc"))});
    REQUIRE(out.kept.size() == 1);
    CHECK(out.kept[0].find("phone")->is_null());
    CHECK(out.kept[0].find("phone_invalid")->text == "abc");
  }
  SECTION("missing or blank passes unless required") {
    auto stage = phone_stage({{"default_region", "RU"}});
    Record no_phone;
    no_phone.set("id", Value::integer(1));
    Outcome out = run(*stage, {no_phone, with_phone(Value::string("  ")), with_phone(Value::null())});
    CHECK(out.kept.size() == 3);
    CHECK(out.kept[1].find("phone")->text == "  ");
    auto required = phone_stage({{"default_region", "RU"}, {"required", true}});
    Outcome strict = run(*required, {no_phone, with_phone(Value::string(""))});
    REQUIRE(strict.rejected.size() == 2);
    CHECK(strict.rejected[0].reason == "phone: field 'phone' is missing or blank");
  }
  SECTION("output formats") {
    auto stage = phone_stage({{"default_region", "RU"}, {"output", "international"}});
    Outcome out = run(*stage, {with_phone(Value::string("89123456789"))});
    CHECK(out.kept[0].find("phone")->text == "+7 912 345-67-89");
  }
  SECTION("a bool is not a phone number") {
    auto stage = phone_stage({{"default_region", "RU"}});
    Outcome out = run(*stage, {with_phone(Value::boolean(true))});
    CHECK(out.rejected.size() == 1);
  }
}

TEST_CASE("phone config errors", "[transforms][phone]") {
  auto error = [](const Json& config) {
    auto result = make_transform("phone", config);
    REQUIRE_FALSE(result.is_ok());
    CHECK(result.status().code() == conflux::StatusCode::kFailedPrecondition);
    return result.status().message();
  };
  CHECK(error({{"default_region", "XX"}}) == "phone: unknown region 'XX' in default_region");
  CHECK(error({{"default_region", ""}}) == "phone: 'default_region' must be a non-empty string");
  CHECK(error({{"output", "e.164"}}).find("phone: unknown value 'e.164' in output") == 0);
  CHECK(error({{"invalid", "drop"}}).find("phone: unknown value 'drop' in invalid") == 0);
  CHECK(error({{"required", "yes"}}) == "phone: 'required' must be true or false");
  CHECK(error({{"field", 5}}) == "phone: 'field' must be a string");
  CHECK(error({{"regoin", "RU"}}).find("phone: unknown key 'regoin'") == 0);
  CHECK(make_transform("phone", {{"default_region", "ru"}}).is_ok());
}
