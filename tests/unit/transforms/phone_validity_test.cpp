// PhoneValidity must give libphonenumber's IsValidNumber and GetRegionCodeForNumber answers, for every calling code.
#include "../../../core/src/transforms/phone_validity.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <catch2/catch.hpp>

#include <list>
#include <random>
#include <set>

using conflux::transforms::internal::PhoneValidity;
using conflux::transforms::internal::Validity;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

// National numbers near the metadata: each region's example numbers of every type, the same with their second half
// redrawn, one digit more and less, plus random digit strings of every length 4-15 starting like the examples.
std::vector<std::string> nearby_numbers(const PhoneNumberUtil& util, int code, std::mt19937& rng) {
  std::vector<std::string> out;
  std::list<std::string> regions;
  util.GetRegionCodesForCountryCallingCode(code, &regions);
  std::set<PhoneNumberUtil::PhoneNumberType> types;
  for (const std::string& region : regions) {
    if (region == "001") {
      util.GetSupportedTypesForNonGeoEntity(code, &types);
    } else {
      util.GetSupportedTypesForRegion(region, &types);
    }
    for (PhoneNumberUtil::PhoneNumberType type : types) {
      PhoneNumber example;
      bool found = region == "001" ? util.GetExampleNumberForNonGeoEntity(code, &example)
                                   : util.GetExampleNumberForType(region, type, &example);
      if (!found || example.italian_leading_zero()) continue;
      const std::string nsn = std::to_string(example.national_number());
      out.push_back(nsn);
      for (int k = 0; k < 6; ++k) {
        std::string variant = nsn;
        for (size_t i = variant.size() / 2; i < variant.size(); ++i) variant[i] = static_cast<char>('0' + rng() % 10);
        out.push_back(variant);
      }
      out.push_back(nsn + static_cast<char>('0' + rng() % 10));
      if (nsn.size() > 2) out.push_back(nsn.substr(0, nsn.size() - 1));
      for (size_t length = 4; length <= 15; ++length) {
        for (int k = 0; k < 4; ++k) {
          std::string random = nsn.substr(0, std::min<size_t>(2, nsn.size()));
          while (random.size() < length) random += static_cast<char>('0' + rng() % 10);
          out.push_back(random);
        }
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("PhoneValidity agrees with libphonenumber for every calling code", "[transforms][phone]") {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::set<int> codes;
  util.GetSupportedCallingCodes(&codes);
  REQUIRE(codes.size() > 200);
  std::mt19937 rng(7);
  size_t compared = 0;
  size_t valid = 0;
  size_t unsupported_codes = 0;
  for (int code : codes) {
    bool unsupported = false;
    for (const std::string& digits : nearby_numbers(util, code, rng)) {
      if (digits.empty() || digits[0] == '0') continue;  // callers never ask about a leading zero
      PhoneNumber number;
      number.set_country_code(code);
      number.set_national_number(std::stoull(digits));
      std::string region;
      const Validity ours = PhoneValidity::instance().check(code, digits, &region);
      if (ours == Validity::kUnsupported) {
        unsupported = true;
        continue;
      }
      std::string expected_region;
      util.GetRegionCodeForNumber(number, &expected_region);
      const bool expected = util.IsValidNumber(number);
      INFO("+" << code << " " << digits);
      REQUIRE((ours == Validity::kValid) == expected);
      REQUIRE(region == expected_region);
      ++compared;
      valid += expected ? 1 : 0;
    }
    unsupported_codes += unsupported ? 1 : 0;
  }
  INFO("compared " << compared << " numbers, " << valid << " valid; unsupported calling codes: " << unsupported_codes);
  CHECK(compared > 50000);
  CHECK(valid > 5000);
  CHECK(unsupported_codes == 0);  // RE2 compiles every pattern of the linked metadata
}

TEST_CASE("PhoneValidity answers the fast path's everyday numbers", "[transforms][phone]") {
  const PhoneValidity& validity = PhoneValidity::instance();
  std::string region;
  CHECK(validity.check(7, "9123456789", &region) == Validity::kValid);
  CHECK(region == "RU");
  CHECK(validity.check(7, "7012345678", &region) == Validity::kValid);  // Kazakhstan shares +7
  CHECK(region == "KZ");
  CHECK(validity.check(1, "2122345678", &region) == Validity::kValid);
  CHECK(region == "US");
  CHECK(validity.check(7, "1234", &region) == Validity::kInvalid);
  CHECK(validity.check(0, "123") == Validity::kUnsupported);
  CHECK(validity.check(999, "123") == Validity::kUnsupported);  // not a calling code: left to libphonenumber
}
