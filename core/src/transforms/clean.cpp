// clean: string cleansing. Steps, in order: remove_control -> nfc -> trim -> collapse_spaces -> empty_to_null ->
// case. Only string values are touched; strings that are not valid UTF-8 get the byte-level steps only (trim, ASCII
// controls), never a Unicode rewrite that would replace their bytes.
#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <memory>

#include "config_reader.hpp"
#include "stages.hpp"
#include "text_util.hpp"

namespace conflux::transforms::internal {

namespace {

enum class CaseMode { kNone, kLower, kUpper, kTitle };

struct CleanSpec {
  std::vector<std::string> fields;  // empty: every string field
  bool trim = true;
  bool collapse_spaces = false;
  CaseMode case_mode = CaseMode::kNone;
  bool nfc = false;
  bool remove_control = false;
  bool empty_to_null = false;
};

bool is_removable_control(UChar32 c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return (c >= 0 && c < 0x20) || (c >= 0x7F && c <= 0x9F) || c == 0x200B || c == 0xFEFF;
}

std::string remove_controls(std::string_view text, bool valid_utf8) {
  std::string out;
  out.reserve(text.size());
  if (!valid_utf8 || is_ascii(text)) {
    for (char c : text) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x80 && is_removable_control(u)) continue;
      out += c;
    }
    return out;
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    int32_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (!is_removable_control(c)) out.append(text.data() + start, static_cast<size_t>(i - start));
  }
  return out;
}

// Runs of white space (Unicode White_Space, including NBSP and line breaks) become one ASCII space.
std::string collapse_white_space(std::string_view text, bool valid_utf8) {
  std::string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  bool in_space = false;
  int32_t i = 0;
  while (i < length) {
    int32_t start = i;
    bool space = false;
    if (bytes[i] < 0x80 || !valid_utf8) {
      space = is_ascii_space(static_cast<char>(bytes[i]));
      ++i;
    } else {
      UChar32 c;
      U8_NEXT(bytes, i, length, c);
      space = u_isUWhiteSpace(c);
    }
    if (space) {
      if (!in_space) out += ' ';
      in_space = true;
    } else {
      out.append(text.data() + start, static_cast<size_t>(i - start));
      in_space = false;
    }
  }
  return out;
}

std::string title_case(std::string_view text) {
  // A word break iterator costs microseconds to open; one per thread is reused (toTitle only resets its text).
  thread_local std::unique_ptr<icu::BreakIterator> words = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> iterator(
        icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status)) iterator.reset();
    return iterator;
  }();
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  u.toTitle(words.get(), icu::Locale::getRoot());
  std::string out;
  u.toUTF8String(out);
  return out;
}

std::string nfc(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return std::string(text);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  if (normalizer->isNormalized(u, status) && U_SUCCESS(status)) return std::string(text);
  status = U_ZERO_ERROR;
  icu::UnicodeString normalized = normalizer->normalize(u, status);
  if (U_FAILURE(status)) return std::string(text);
  std::string out;
  normalized.toUTF8String(out);
  return out;
}

class CleanTransform final : public engine::RecordTransform {
 public:
  explicit CleanTransform(CleanSpec spec)
      : spec_(std::move(spec)),
        trim_only_(!spec_.collapse_spaces && spec_.case_mode == CaseMode::kNone && !spec_.nfc &&
                   !spec_.remove_control && !spec_.empty_to_null) {}

  Verdict process(Record& record, std::string& /*reason*/) const override {
    if (spec_.fields.empty()) {
      for (Field& field : record.fields()) clean(field.value);
    } else {
      for (const std::string& name : spec_.fields) {
        if (Value* value = record.find(name)) clean(*value);
      }
    }
    return Verdict::kKeep;
  }

 private:
  void clean(Value& value) const {
    if (!value.is_string()) return;
    std::string& text = value.text;
    if (trim_only_ && (text.empty() || (is_ascii_solid(text.front()) && is_ascii_solid(text.back())))) return;
    const bool ascii = is_ascii(text);
    const bool valid = ascii || is_valid_utf8(text);
    if (spec_.remove_control) text = remove_controls(text, valid);
    if (spec_.nfc && !ascii && valid) text = nfc(text);
    if (spec_.trim) {
      std::string_view trimmed = valid ? trim_unicode(text) : trim_ascii(text);
      if (trimmed.size() != text.size()) {  // in place: no allocation
        const size_t begin = static_cast<size_t>(trimmed.data() - text.data());
        text.erase(begin + trimmed.size());
        text.erase(0, begin);
      }
    }
    if (spec_.collapse_spaces) text = collapse_white_space(text, valid);
    if (spec_.empty_to_null && text.empty()) {
      value = Value::null();
      return;
    }
    switch (spec_.case_mode) {
      case CaseMode::kNone: break;
      case CaseMode::kLower: text = to_lower(text); break;
      case CaseMode::kUpper: text = to_upper(text); break;
      case CaseMode::kTitle:
        if (valid) text = title_case(text);
        break;
    }
  }

  // Printable ASCII other than space: trimming never removes it, whatever the text's encoding.
  static bool is_ascii_solid(char c) { return c > ' ' && c < 0x7F; }

  CleanSpec spec_;
  bool trim_only_;  // trim (or nothing) is all this stage does: text with solid ends is left as is
};

}  // namespace

TransformResult make_clean(const Json& config) {
  ConfigReader reader("clean", config);
  CONFLUX_RETURN_IF_ERROR(
      reader.check_keys({"fields", "trim", "collapse_spaces", "case", "nfc", "remove_control", "empty_to_null"}));
  CleanSpec spec;
  if (reader.has("fields")) {
    CONFLUX_TX_ASSIGN(spec.fields, reader.string_list("fields", /*allow_single=*/true));
    if (spec.fields.empty()) return reader.error("'fields' is empty (leave it out to clean every string field)");
  }
  CONFLUX_TX_ASSIGN(spec.trim, reader.boolean("trim", true));
  CONFLUX_TX_ASSIGN(spec.collapse_spaces, reader.boolean("collapse_spaces", false));
  size_t mode = 0;
  CONFLUX_TX_ASSIGN(mode, reader.choice("case", {"none", "lower", "upper", "title"}, 0));
  spec.case_mode = static_cast<CaseMode>(mode);
  CONFLUX_TX_ASSIGN(spec.nfc, reader.boolean("nfc", false));
  CONFLUX_TX_ASSIGN(spec.remove_control, reader.boolean("remove_control", false));
  CONFLUX_TX_ASSIGN(spec.empty_to_null, reader.boolean("empty_to_null", false));
  return std::unique_ptr<engine::Transform>(new CleanTransform(std::move(spec)));
}

Json clean_schema() {
  auto flag = [](bool fallback, const char* description) {
    return Json{{"type", "boolean"}, {"default", fallback}, {"description", description}};
  };
  return object_schema(
      "clean",
      "Cleans string values. Steps run in this order: remove_control, nfc, trim, collapse_spaces, empty_to_null, "
      "case. Values "
      "that are not strings are left alone.",
      {{"fields",
        {{"description", "Fields to clean; every string field when absent."},
         {"oneOf", Json::array({{{"type", "array"}, {"minItems", 1}, {"items", {{"type", "string"}, {"minLength", 1}}}},
                                {{"type", "string"}, {"minLength", 1}}})}}},
       {"trim", flag(true, "Remove leading and trailing white space (Unicode White_Space, including NBSP).")},
       {"collapse_spaces", flag(false, "Replace every run of white space inside the value with one space.")},
       {"case",
        {{"enum", Json::array({"none", "lower", "upper", "title"})},
         {"default", "none"},
         {"description",
          "Change case (Unicode rules, any script); title capitalises each word and lower-cases the "
          "rest of it."}}},
       {"nfc", flag(false, "Normalise to Unicode NFC (composes e.g. 'е' + U+0308 into 'ё').")},
       {"remove_control", flag(false, "Remove control characters (except tab, LF, CR), zero-width space and BOM.")},
       {"empty_to_null", flag(false, "After the other steps, turn a string left empty into null (CSV blanks).")}});
}

}  // namespace conflux::transforms::internal
