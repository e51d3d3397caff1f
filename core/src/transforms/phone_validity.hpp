// PhoneValidity: libphonenumber's IsValidNumber, recompiled from its own metadata into RE2 automata.
//
// PhoneNumberUtil::IsValidNumber matches the national number against up to a dozen metadata regexes through a
// RegExpCache that hashes every pattern string under one process-wide mutex, then runs ICU's backtracking matcher.
// On two threads that lock, the hashing and ICU cost more than everything else in the reference job together. This
// class reads the same metadata (the protobuf blob the linked libphonenumber was built with), compiles each pattern
// once with RE2 and repeats IsValidNumber's decision steps exactly:
//
//   region  = the only region of the calling code, or the first of its regions whose leading_digits pattern matches
//             the start of the number, or (regions without leading_digits) the first where the number has a type;
//   valid   = the number has a type in that region's metadata: it matches general_desc and at least one of
//             premium_rate, toll_free, shared_cost, voip, personal_number, pager, uan, voicemail, fixed_line, mobile,
//             where "matches a desc" means its length is one of the desc's possible lengths (when it lists any) and
//             the desc's pattern, which must be non-empty, matches the whole number.
//
// Anything it cannot reproduce (a calling code whose patterns RE2 rejects, a blob that does not parse) reports
// kUnsupported, and callers fall back to libphonenumber. tests/unit/transforms/phone_test.cpp compares both answers
// over every region of the fast path's calling codes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace conflux::transforms::internal {

enum class Validity { kValid, kInvalid, kUnsupported };

class PhoneValidity {
 public:
  // The process-wide instance; calling codes are compiled on first use, thread-safely.
  static const PhoneValidity& instance();

  // IsValidNumber for +country_code national_digits (digits only, no leading zero). When `region` is not null it
  // receives what GetRegionCodeForNumber would answer ("ZZ" when no region fits).
  Validity check(int country_code, std::string_view national_digits, std::string* region = nullptr) const;

  struct CallingCode;  // internal

 private:
  PhoneValidity() = default;
  const CallingCode* compiled(int country_code) const;
};

}  // namespace conflux::transforms::internal
