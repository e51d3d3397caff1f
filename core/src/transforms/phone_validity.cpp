#include "phone_validity.hpp"

#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <re2/re2.h>

#include <array>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

// libphonenumber exports the serialised PhoneMetadataCollection it parses at start-up but ships no header for it
// (metadata.h is not installed). Same declarations as its own header; if the symbols ever go away, linking fails.
namespace i18n::phonenumbers {
int metadata_size();
const void* metadata_get();
}  // namespace i18n::phonenumbers

namespace conflux::transforms::internal {

namespace {

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneMetadataCollection;
using i18n::phonenumbers::PhoneNumberDesc;
using i18n::phonenumbers::PhoneNumberUtil;

RE2::Options pattern_options() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);  // the input is ASCII digits
  options.set_log_errors(false);
  options.set_never_capture(true);
  return options;
}

// One PhoneNumberDesc: possible lengths as a bit set plus the compiled national_number_pattern.
struct Desc {
  bool any_length = true;  // the desc lists no possible lengths, so length does not decide
  uint64_t lengths = 0;    // bit n: n digits is a possible length
  std::unique_ptr<RE2> pattern;  // null: empty pattern, which never matches (RegexBasedMatcher's rule)

  bool matches(std::string_view digits) const {
    if (!any_length && (digits.size() >= 64 || ((lengths >> digits.size()) & 1U) == 0)) return false;
    return pattern != nullptr && RE2::FullMatch(digits, *pattern);
  }
};

struct RegionPatterns {
  std::string id;
  Desc general;
  std::vector<Desc> types;               // every type IsValidNumber accepts; most common first
  std::unique_ptr<RE2> leading_digits;   // null when the region has none

  bool has_type(std::string_view digits) const {
    if (!general.matches(digits)) return false;
    for (const Desc& type : types) {
      if (type.matches(digits)) return true;
    }
    return false;
  }
};

// False when RE2 rejects the pattern; the caller then leaves the whole calling code to libphonenumber.
bool compile(const std::string& text, std::unique_ptr<RE2>& out) {
  if (text.empty()) return true;
  out = std::make_unique<RE2>(text, pattern_options());
  return out->ok();
}

bool compile_desc(const PhoneNumberDesc& source, Desc& desc) {
  desc.any_length = source.possible_length_size() == 0;
  for (int32_t length : source.possible_length()) {
    if (length >= 0 && length < 64) desc.lengths |= uint64_t{1} << length;
  }
  return compile(source.national_number_pattern(), desc.pattern);
}

bool compile_region(const PhoneMetadata& metadata, RegionPatterns& region) {
  region.id = metadata.id();
  if (!compile_desc(metadata.general_desc(), region.general)) return false;
  // GetNumberTypeHelper checks these in another order, but IsValidNumber only asks whether any matches. Mobile is
  // skipped when its pattern is the fixed-line one, as GetNumberTypeHelper does.
  std::vector<const PhoneNumberDesc*> sources = {&metadata.fixed_line()};
  if (!metadata.same_mobile_and_fixed_line_pattern()) sources.push_back(&metadata.mobile());
  for (const PhoneNumberDesc* desc : {&metadata.premium_rate(), &metadata.toll_free(), &metadata.shared_cost(),
                                      &metadata.voip(), &metadata.personal_number(), &metadata.pager(),
                                      &metadata.uan(), &metadata.voicemail()}) {
    sources.push_back(desc);
  }
  for (const PhoneNumberDesc* source : sources) {
    Desc desc;
    if (!compile_desc(*source, desc)) return false;
    if (desc.pattern != nullptr) region.types.push_back(std::move(desc));
  }
  return !metadata.has_leading_digits() || (compile(metadata.leading_digits(), region.leading_digits) &&
                                            region.leading_digits != nullptr);
}

struct Metadata {
  PhoneMetadataCollection collection;
  bool parsed = false;
  std::map<std::string, const PhoneMetadata*> by_region;  // geographic regions by id
  std::map<int, const PhoneMetadata*> non_geographic;     // region "001", by calling code

  Metadata() {
    parsed = collection.ParseFromArray(i18n::phonenumbers::metadata_get(), i18n::phonenumbers::metadata_size());
    if (!parsed) return;
    for (const PhoneMetadata& metadata : collection.metadata()) {
      if (metadata.id() == "001") {
        non_geographic[metadata.country_code()] = &metadata;
      } else {
        by_region[metadata.id()] = &metadata;
      }
    }
  }

  const PhoneMetadata* find(const std::string& region, int country_code) const {
    if (region == "001") {
      auto it = non_geographic.find(country_code);
      return it == non_geographic.end() ? nullptr : it->second;
    }
    auto it = by_region.find(region);
    return it == by_region.end() ? nullptr : it->second;
  }
};

const Metadata& metadata() {
  static const Metadata kMetadata;
  return kMetadata;
}

constexpr size_t kMaxCallingCode = 1000;

}  // namespace

struct PhoneValidity::CallingCode {
  bool supported = false;
  std::vector<RegionPatterns> regions;  // in GetRegionCodesForCountryCallingCode's order (main region first)
};

namespace {

std::unique_ptr<PhoneValidity::CallingCode> build(int country_code) {
  auto code = std::make_unique<PhoneValidity::CallingCode>();
  const Metadata& all = metadata();
  if (!all.parsed) return code;
  std::list<std::string> region_ids;
  PhoneNumberUtil::GetInstance()->GetRegionCodesForCountryCallingCode(country_code, &region_ids);
  if (region_ids.empty()) return code;
  for (const std::string& id : region_ids) {
    const PhoneMetadata* source = all.find(id, country_code);
    RegionPatterns region;
    if (source == nullptr || !compile_region(*source, region)) return code;
    code->regions.push_back(std::move(region));
  }
  code->supported = true;
  return code;
}

}  // namespace

const PhoneValidity& PhoneValidity::instance() {
  static const PhoneValidity kInstance;
  return kInstance;
}

const PhoneValidity::CallingCode* PhoneValidity::compiled(int country_code) const {
  struct Slots {
    std::array<std::once_flag, kMaxCallingCode> once;
    std::array<std::unique_ptr<CallingCode>, kMaxCallingCode> codes;
  };
  static Slots slots;
  if (country_code <= 0 || static_cast<size_t>(country_code) >= kMaxCallingCode) return nullptr;
  const auto index = static_cast<size_t>(country_code);
  std::call_once(slots.once[index], [&] { slots.codes[index] = build(country_code); });
  return slots.codes[index].get();
}

Validity PhoneValidity::check(int country_code, std::string_view digits, std::string* region) const {
  const CallingCode* code = compiled(country_code);
  if (code == nullptr || !code->supported) return Validity::kUnsupported;
  const RegionPatterns* chosen = nullptr;
  if (code->regions.size() == 1) {
    chosen = &code->regions.front();
  } else {
    for (const RegionPatterns& candidate : code->regions) {
      const bool fits = candidate.leading_digits != nullptr
                            ? candidate.leading_digits->Match(digits, 0, digits.size(), RE2::ANCHOR_START, nullptr, 0)
                            : candidate.has_type(digits);
      if (fits) {
        chosen = &candidate;
        break;
      }
    }
  }
  if (chosen == nullptr) {
    if (region != nullptr) *region = "ZZ";
    return Validity::kInvalid;
  }
  if (region != nullptr) *region = chosen->id;
  return chosen->has_type(digits) ? Validity::kValid : Validity::kInvalid;
}

}  // namespace conflux::transforms::internal
