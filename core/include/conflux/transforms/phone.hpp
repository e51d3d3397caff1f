// Phone number normalisation with libphonenumber, plus a verified fast path.
//
// The answer is always libphonenumber's: Parse(raw, default_region) then IsValidNumber then Format. Parse alone
// costs ~10 us, so for the common shapes ("+7 912 345-67-89", "8 (912) 345-67-89", "+1 (212) 234-5678") the fast
// path builds the PhoneNumber Parse would build (country code split, national prefix, IDD) and asks only whether it
// is valid, which PhoneValidity (phone_validity.hpp) answers from the same metadata compiled with RE2. It answers
// only where it can show Parse would produce the same PhoneNumber, for a table of
// regions whose parsing metadata is a plain literal (see kSimpleRegions in phone.cpp); everything else goes to Parse.
// The unit tests compare both paths on thousands of generated inputs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "conflux/common/status.hpp"

namespace conflux::transforms {

enum class PhoneFormat { kE164, kInternational, kNational };

// How normalize() finds its answer. Stages use kFastThenFull; kFull exists for the differential test and benchmarks.
enum class PhonePath {
  kFastThenFull,  // the fast path where it decides, Parse otherwise
  kFull,          // always Parse + IsValidNumber + Format
};

// Thread-safe: all methods are const.
class PhoneNormalizer {
 public:
  // default_region: ISO 3166-1 alpha-2 code used for numbers written without '+', e.g. "RU". Empty: only
  // international numbers are accepted. kFailedPrecondition when libphonenumber does not know the region.
  static Result<PhoneNormalizer> create(const std::string& default_region, PhoneFormat format);

  // The number formatted as requested, or nullopt when it does not parse or is not a valid number.
  std::optional<std::string> normalize(std::string_view raw, PhonePath path = PhonePath::kFastThenFull) const;
  // True when the fast path answers `raw` without Parse (for tests that check it covers the common shapes).
  bool fast_path_decides(std::string_view raw) const;

  const std::string& default_region() const;

  struct State;  // internal

 private:
  explicit PhoneNormalizer(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace conflux::transforms
