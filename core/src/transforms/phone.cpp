// phone: normalises one phone field with libphonenumber (see conflux/transforms/phone.hpp for the fast path).
#include "conflux/transforms/phone.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <array>
#include <set>
#include <vector>

#include "config_reader.hpp"
#include "phone_validity.hpp"
#include "stages.hpp"
#include "text_util.hpp"

namespace conflux::transforms {

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// Regions whose libphonenumber metadata (checked against 8.12.57) makes national parsing a literal operation:
// national_prefix_for_parsing is the national prefix itself (or absent), there is no national_prefix_transform_rule,
// and the international (IDD) prefix is a plain digit string. Each is the main region of its calling code. The
// national prefix and calling code are re-checked against the linked library at start-up; a row that disagrees is
// dropped, and numbers from it simply take the Parse path. Regions with regex prefixes (AR, BR, BY, CN, MX, ...) are
// deliberately absent.
struct SimpleRegion {
  const char* region;
  int country_code;
  const char* national_prefix;
  const char* idd;
};

constexpr SimpleRegion kSimpleRegions[] = {
    {"RU", 7, "8", "810"},  {"UZ", 998, "8", "810"}, {"TJ", 992, "", "810"}, {"UA", 380, "0", "00"},
    {"US", 1, "1", "011"},  {"GB", 44, "0", "00"},   {"DE", 49, "0", "00"},  {"FR", 33, "0", "00"},
    {"NL", 31, "0", "00"},  {"BE", 32, "0", "00"},   {"AT", 43, "0", "00"},  {"CH", 41, "0", "00"},
    {"SE", 46, "0", "00"},  {"TR", 90, "0", "00"},   {"IN", 91, "0", "00"},  {"JP", 81, "0", "010"},
    {"AE", 971, "0", "00"}, {"AM", 374, "0", "00"},  {"AZ", 994, "0", "00"}, {"GE", 995, "0", "00"},
    {"KG", 996, "0", "00"}, {"MD", 373, "0", "00"},  {"RS", 381, "0", "00"}, {"IE", 353, "0", "00"},
    {"ES", 34, "", "00"},   {"IT", 39, "", "00"},    {"PL", 48, "", "00"},   {"PT", 351, "", "00"},
    {"GR", 30, "", "00"},   {"DK", 45, "", "00"},    {"NO", 47, "", "00"},   {"CZ", 420, "", "00"},
    {"LV", 371, "", "00"},  {"EE", 372, "", "00"},
};

struct RegionRow {
  std::string region;
  int country_code = 0;
  std::string country_code_text;
  std::string national_prefix;
  std::string idd;
};

struct RegionTable {
  std::array<bool, 1000> known_code{};
  std::array<int, 1000> by_code{};  // 1 + index into rows of the main region of a calling code, 0: not simple
  std::vector<RegionRow> rows;

  const RegionRow* row_for_code(int code) const {
    int index = by_code[static_cast<size_t>(code)];
    return index == 0 ? nullptr : &rows[static_cast<size_t>(index - 1)];
  }
};

const RegionTable& region_table() {
  static const RegionTable kTable = [] {
    RegionTable table;
    const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
    std::set<int> codes;
    util->GetSupportedCallingCodes(&codes);
    for (int code : codes) {
      if (code > 0 && code < 1000) table.known_code[static_cast<size_t>(code)] = true;
    }
    table.rows.reserve(std::size(kSimpleRegions));
    for (const SimpleRegion& simple : kSimpleRegions) {
      std::string main_region;
      util->GetRegionCodeForCountryCode(simple.country_code, &main_region);
      std::string prefix;
      util->GetNddPrefixForRegion(simple.region, /*strip_non_digits=*/false, &prefix);
      if (util->GetCountryCodeForRegion(simple.region) != simple.country_code || main_region != simple.region ||
          prefix != simple.national_prefix) {
        continue;  // the linked metadata differs from what the fast path was written against
      }
      table.rows.push_back({simple.region, simple.country_code, std::to_string(simple.country_code),
                            simple.national_prefix, simple.idd});
    }
    for (size_t i = 0; i < table.rows.size(); ++i) {
      table.by_code[static_cast<size_t>(table.rows[i].country_code)] = static_cast<int>(i + 1);
    }
    return table;
  }();
  return kTable;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return !prefix.empty() && text.substr(0, prefix.size()) == prefix;
}

uint64_t to_u64(std::string_view digits) {
  uint64_t value = 0;
  for (char c : digits) value = value * 10 + static_cast<uint64_t>(c - '0');
  return value;
}

// The input reduced to (has_plus, digits) when it consists only of digits, spaces and the separators ( ) - . /
// with at most one '+', leading. Anything else (letters, extensions, Unicode digits, '#', ',') is not canonical.
bool canonicalise(std::string_view raw, bool& plus, std::string& digits) {
  std::string_view text = internal::trim_ascii(raw);
  digits.clear();
  if (text.empty() || text.size() > 250) return false;
  plus = text[0] == '+';
  for (size_t i = plus ? 1 : 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      if (digits.size() >= 20) return false;
      digits += c;
    } else if (c != ' ' && c != '(' && c != ')' && c != '-' && c != '.' && c != '/') {
      return false;
    }
  }
  return true;
}

enum class Decision { kValid, kInvalid, kUnknown };

}  // namespace

struct PhoneNormalizer::State {
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  std::string region;                      // as configured; empty: international numbers only
  std::string parse_region;                // what Parse gets: region or "ZZ"
  const RegionRow* default_row = nullptr;  // when the default region is a simple one
  PhoneFormat format = PhoneFormat::kE164;

  std::string format_number(const PhoneNumber& number) const {
    std::string out;
    if (format == PhoneFormat::kE164 && !number.italian_leading_zero()) {
      out = "+" + std::to_string(number.country_code()) + std::to_string(number.national_number());
      return out;
    }
    util->Format(number,
                 format == PhoneFormat::kE164            ? PhoneNumberUtil::E164
                 : format == PhoneFormat::kInternational ? PhoneNumberUtil::INTERNATIONAL
                                                         : PhoneNumberUtil::NATIONAL,
                 &out);
    return out;
  }

  std::optional<std::string> full(std::string_view raw) const {
    PhoneNumber number;
    if (util->Parse(std::string(raw), parse_region, &number) != PhoneNumberUtil::NO_PARSING_ERROR) return std::nullopt;
    if (!util->IsValidNumber(number)) return std::nullopt;
    return format_number(number);
  }

  // IsValidNumber, answered by the RE2 recompilation of its metadata where that covers the calling code.
  bool is_valid(const PhoneNumber& number, std::string_view national, std::string* region = nullptr) const {
    switch (internal::PhoneValidity::instance().check(number.country_code(), national, region)) {
      case internal::Validity::kValid: return true;
      case internal::Validity::kInvalid: return false;
      case internal::Validity::kUnsupported: break;
    }
    if (region != nullptr) util->GetRegionCodeForNumber(number, region);
    return util->IsValidNumber(number);
  }

  Decision check(PhoneNumber& number, int country_code, std::string_view national) const {
    number.set_country_code(country_code);
    number.set_national_number(to_u64(national));
    return is_valid(number, national) ? Decision::kValid : Decision::kInvalid;
  }

  // Each kValid/kInvalid answer below is the one Parse + IsValidNumber would give; the comments say why. Whatever
  // is not covered returns kUnknown and goes to Parse.
  Decision fast(bool plus, std::string_view digits, PhoneNumber& number) const {
    const RegionTable& table = region_table();
    if (digits.size() < 4) return Decision::kUnknown;
    if (plus) {
      // Parse: '+' consumed, the calling code is the first 1-3 digits that name a known code (they are
      // prefix-free), the national number is the rest, stripped of the national prefix of the code's main region
      // only when it starts with it (those go to Parse), then "leading zeros" are recorded (those go to Parse too).
      if (digits[0] == '0') return Decision::kUnknown;
      int code = 0;
      size_t code_length = 0;
      for (size_t i = 1; i <= 3; ++i) {
        code = code * 10 + (digits[i - 1] - '0');
        if (table.known_code[static_cast<size_t>(code)]) {
          code_length = i;
          break;
        }
      }
      if (code_length == 0) return Decision::kUnknown;  // Parse retries such input as a national number
      const RegionRow* row = table.row_for_code(code);
      if (row == nullptr) return Decision::kUnknown;
      std::string_view national = digits.substr(code_length);
      if (national.size() < 2 || national.size() > 17 || national[0] == '0') return Decision::kUnknown;
      if (starts_with(national, row->national_prefix)) return Decision::kUnknown;
      return check(number, code, national);
    }
    // National digits. Without a default region Parse fails (INVALID_COUNTRY_CODE): invalid.
    if (region.empty()) return Decision::kInvalid;
    const RegionRow* row = default_row;
    if (row == nullptr) return Decision::kUnknown;
    // Parse would take these as an IDD or as the region's own calling code written without '+'.
    if (starts_with(digits, row->idd) || starts_with(digits, row->country_code_text)) return Decision::kUnknown;
    // Unstripped: the number Parse builds when it keeps the national prefix (or there is none).
    auto unstripped = [&]() {
      if (digits[0] == '0' || digits.size() > 17) return Decision::kUnknown;
      return check(number, row->country_code, digits);
    };
    if (!starts_with(digits, row->national_prefix)) return unstripped();
    std::string_view stripped = digits.substr(row->national_prefix.size());
    if (stripped.size() < 2 || stripped.size() > 17 || stripped[0] == '0') return Decision::kUnknown;
    PhoneNumber candidate;
    candidate.set_country_code(row->country_code);
    candidate.set_national_number(to_u64(stripped));
    // Parse keeps the prefix when the stripped number has an impossible length for the region (the region is the
    // main one of its code, so IsPossibleNumberWithReason reads the same metadata Parse does).
    PhoneNumberUtil::ValidationResult length = util->IsPossibleNumberWithReason(candidate);
    if (length == PhoneNumberUtil::TOO_SHORT || length == PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY ||
        length == PhoneNumberUtil::INVALID_LENGTH) {
      return unstripped();
    }
    // Otherwise Parse strips unless the unstripped digits match the region's general pattern and the stripped ones
    // do not. A stripped number valid for this very region matches that pattern, so Parse strips: IsValidNumber
    // also reports the region (GetRegionCodeForNumber) it was valid for.
    std::string number_region;
    if (is_valid(candidate, stripped, &number_region)) {
      if (length == PhoneNumberUtil::IS_POSSIBLE && number_region == row->region) {
        number = candidate;
        return Decision::kValid;
      }
      return Decision::kUnknown;
    }
    // The stripped number is invalid; whichever Parse picks is invalid unless the unstripped one is valid.
    Decision kept = unstripped();
    return kept == Decision::kValid ? Decision::kUnknown : kept;
  }

  std::optional<std::string> fast_then_full(std::string_view raw, bool canonical, bool plus,
                                            std::string_view digits) const {
    if (canonical) {
      PhoneNumber number;
      switch (fast(plus, digits, number)) {
        case Decision::kValid: return format_number(number);
        case Decision::kInvalid: return std::nullopt;
        case Decision::kUnknown: break;
      }
    }
    return full(raw);
  }
};

Result<PhoneNormalizer> PhoneNormalizer::create(const std::string& default_region, PhoneFormat format) {
  auto state = std::make_shared<State>();
  state->format = format;
  state->region = default_region;
  state->parse_region = default_region.empty() ? "ZZ" : default_region;
  if (!default_region.empty()) {
    std::set<std::string> regions;
    state->util->GetSupportedRegions(&regions);
    if (regions.count(default_region) == 0) {
      return failed_precondition("unknown region '" + default_region + "'");
    }
    for (const RegionRow& row : region_table().rows) {
      if (row.region == default_region) state->default_row = &row;
    }
  }
  return PhoneNormalizer(std::move(state));
}

const std::string& PhoneNormalizer::default_region() const { return state_->region; }

bool PhoneNormalizer::fast_path_decides(std::string_view raw) const {
  bool plus = false;
  std::string digits;
  if (!canonicalise(raw, plus, digits)) return false;
  PhoneNumber number;
  return state_->fast(plus, digits, number) != Decision::kUnknown;
}

std::optional<std::string> PhoneNormalizer::normalize(std::string_view raw, PhonePath path) const {
  if (path == PhonePath::kFull) return state_->full(raw);
  thread_local std::string digits;
  bool plus = false;
  const bool canonical = canonicalise(raw, plus, digits);
  return state_->fast_then_full(raw, canonical, plus, digits);
}

namespace internal {

namespace {

struct PhoneSpec {
  std::string field = "phone";
  bool required = false;
  bool flag_invalid = false;  // invalid: flag
};

class PhoneTransform final : public engine::RecordTransform {
 public:
  PhoneTransform(PhoneSpec spec, PhoneNormalizer normalizer)
      : spec_(std::move(spec)), normalizer_(std::move(normalizer)), invalid_field_(spec_.field + "_invalid") {}

  Verdict process(Record& record, std::string& reason) const override {
    const Value* value = record.find(spec_.field);
    if (value == nullptr || value->is_blank()) {
      if (!spec_.required) return Verdict::kKeep;
      reason = "phone: field '" + spec_.field + "' is missing or blank";
      return Verdict::kInvalid;
    }
    const bool is_string = value->type == ValueType::kString;
    std::string raw = is_string ? std::string() : value->to_text();  // strings are read in place
    std::optional<std::string> number;
    if (is_string || value->type == ValueType::kInt || value->type == ValueType::kDecimal) {
      number = normalizer_.normalize(is_string ? std::string_view(value->text) : std::string_view(raw));
    }
    if (number) {
      record.set(spec_.field, Value::string(std::move(*number)));
      return Verdict::kKeep;
    }
    if (is_string) raw = value->text;
    if (spec_.flag_invalid) {
      record.set(spec_.field, Value::null());
      record.set(invalid_field_, Value::string(std::move(raw)));
      return Verdict::kKeep;
    }
    reason = "phone: invalid number " + quote_for_reason(raw);
    if (spec_.field != "phone") reason += " in field '" + spec_.field + "'";
    return Verdict::kInvalid;
  }

 private:
  PhoneSpec spec_;
  PhoneNormalizer normalizer_;
  std::string invalid_field_;
};

}  // namespace

TransformResult make_phone(const Json& config) {
  ConfigReader reader("phone", config);
  CONFLUX_RETURN_IF_ERROR(reader.check_keys({"field", "default_region", "output", "required", "invalid"}));
  PhoneSpec spec;
  CONFLUX_TX_ASSIGN(spec.field, reader.string("field", "phone"));
  if (spec.field.empty()) return reader.error("'field' must be a non-empty string");
  std::string region;
  CONFLUX_TX_ASSIGN(region, reader.string("default_region", ""));
  for (char& c : region) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  size_t output = 0;
  CONFLUX_TX_ASSIGN(output, reader.choice("output", {"e164", "international", "national"}, 0));
  CONFLUX_TX_ASSIGN(spec.required, reader.boolean("required", false));
  size_t invalid = 0;
  CONFLUX_TX_ASSIGN(invalid, reader.choice("invalid", {"reject", "flag"}, 0));
  spec.flag_invalid = invalid == 1;
  if (reader.has("default_region") && region.empty())
    return reader.error("'default_region' must be a non-empty string");
  Result<PhoneNormalizer> normalizer = PhoneNormalizer::create(region, static_cast<PhoneFormat>(output));
  if (!normalizer.is_ok()) return reader.error(normalizer.status().message() + " in default_region");
  return std::unique_ptr<engine::Transform>(new PhoneTransform(std::move(spec), std::move(normalizer).value()));
}

Json phone_schema() {
  return object_schema(
      "phone",
      "Normalises a phone field with libphonenumber. Numbers that do not parse or are not valid are never guessed: "
      "the record is rejected or the value is flagged.",
      {{"field", {{"type", "string"}, {"minLength", 1}, {"default", "phone"}, {"description", "Field to normalise."}}},
       {"default_region",
        {{"type", "string"},
         {"pattern", "^[A-Za-z]{2}$"},
         {"description",
          "ISO 3166-1 alpha-2 region for numbers written without '+', e.g. RU. Without it only "
          "international numbers are valid."}}},
       {"output",
        {{"enum", Json::array({"e164", "international", "national"})},
         {"default", "e164"},
         {"description", "e164: +79123456789; international: +7 912 345-67-89; national: 8 (912) 345-67-89."}}},
       {"required",
        {{"type", "boolean"},
         {"default", false},
         {"description", "Make records with a missing or blank field invalid (otherwise they pass unchanged)."}}},
       {"invalid",
        {{"enum", Json::array({"reject", "flag"})},
         {"default", "reject"},
         {"description",
          "reject: the record is invalid; flag: the record goes on with the field set to null and "
          "<field>_invalid holding the original text."}}}});
}

}  // namespace internal

}  // namespace conflux::transforms
