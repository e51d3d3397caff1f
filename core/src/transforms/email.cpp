// email: normalises one e-mail field (trim, lower-case, optional provider canonical form) and rejects addresses that
// fail the syntax rule in conflux/transforms/email.hpp.
#include "conflux/transforms/email.hpp"

#include <array>

#include "config_reader.hpp"
#include "stages.hpp"
#include "text_util.hpp"

namespace conflux::transforms {

std::string normalize_email(std::string_view raw) { return internal::ascii_lower(internal::trim_ascii(raw)); }

bool is_valid_email(std::string_view address) {
  size_t at = address.find('@');
  if (at == std::string_view::npos || at == 0 || address.find('@', at + 1) != std::string_view::npos) return false;
  for (size_t i = 0; i < at; ++i) {
    auto c = static_cast<unsigned char>(address[i]);
    if (c < 0x21 || c > 0x7E) return false;
  }
  std::string_view domain = address.substr(at + 1);
  size_t labels = 0;
  size_t start = 0;
  while (true) {
    size_t dot = domain.find('.', start);
    std::string_view label = domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    ++labels;
    if (dot == std::string_view::npos) {
      // Top-level label: two or more letters.
      if (label.size() < 2) return false;
      for (char c : label) {
        if (c < 'a' || c > 'z') return false;
      }
      break;
    }
    start = dot + 1;
  }
  return labels >= 2;
}

std::string canonical_email(std::string_view address) {
  size_t at = address.find('@');
  if (at == std::string_view::npos) return std::string(address);
  std::string_view local = address.substr(0, at);
  std::string_view domain = address.substr(at + 1);
  static constexpr std::array<std::string_view, 15> kPlusProviders = {
      "outlook.com", "hotmail.com", "live.com",   "msn.com", "yandex.ru", "yandex.com",   "yandex.by",  "yandex.kz",
      "yandex.ua",   "ya.ru",       "icloud.com", "me.com",  "mac.com",   "fastmail.com", "fastmail.fm"};
  const bool gmail = domain == "gmail.com" || domain == "googlemail.com";
  bool plus_provider = gmail;
  for (std::string_view provider : kPlusProviders) plus_provider = plus_provider || domain == provider;
  if (!plus_provider) return std::string(address);
  std::string mailbox(local.substr(0, local.find('+')));
  if (gmail) std::erase(mailbox, '.');
  if (mailbox.empty()) return std::string(address);  // "+tag@gmail.com": nothing sensible to reduce it to
  return mailbox + "@" + (gmail ? std::string("gmail.com") : std::string(domain));
}

namespace internal {

namespace {

struct EmailSpec {
  std::string field = "email";
  bool canonical = false;
  std::string keep_original;
  bool required = false;
};

class EmailTransform final : public engine::RecordTransform {
 public:
  explicit EmailTransform(EmailSpec spec) : spec_(std::move(spec)) {}

  Verdict process(Record& record, std::string& reason) const override {
    const Value* value = record.find(spec_.field);
    if (value == nullptr || value->is_blank()) {
      if (!spec_.required) return Verdict::kKeep;
      reason = "email: field '" + spec_.field + "' is missing or blank";
      return Verdict::kInvalid;
    }
    const bool is_string = value->type == ValueType::kString;
    std::string address = is_string ? normalize_email(value->text) : std::string();
    if (!is_string || !is_valid_email(address)) {
      reason = "email: invalid address " + quote_for_reason(value->to_text());
      if (spec_.field != "email") reason += " in field '" + spec_.field + "'";
      return Verdict::kInvalid;
    }
    if (spec_.canonical) address = canonical_email(address);
    std::string raw = spec_.keep_original.empty() ? std::string() : value->text;  // copied only when kept
    record.set(spec_.field, Value::string(std::move(address)));
    if (!spec_.keep_original.empty()) record.set(spec_.keep_original, Value::string(std::move(raw)));
    return Verdict::kKeep;
  }

 private:
  EmailSpec spec_;
};

}  // namespace

TransformResult make_email(const Json& config) {
  ConfigReader reader("email", config);
  CONFLUX_RETURN_IF_ERROR(reader.check_keys({"field", "canonical", "keep_original", "required"}));
  EmailSpec spec;
  CONFLUX_TX_ASSIGN(spec.field, reader.string("field", "email"));
  if (spec.field.empty()) return reader.error("'field' must be a non-empty string");
  CONFLUX_TX_ASSIGN(spec.canonical, reader.boolean("canonical", false));
  if (reader.has("keep_original")) {
    CONFLUX_TX_ASSIGN(spec.keep_original, reader.required_string("keep_original"));
    if (spec.keep_original == spec.field) return reader.error("'keep_original' must differ from 'field'");
  }
  CONFLUX_TX_ASSIGN(spec.required, reader.boolean("required", false));
  return std::unique_ptr<engine::Transform>(new EmailTransform(std::move(spec)));
}

Json email_schema() {
  return object_schema(
      "email",
      "Normalises an e-mail field: trims, lower-cases, checks the syntax (invalid addresses make the record "
      "invalid), optionally reduces it to the provider's canonical mailbox.",
      {{"field", {{"type", "string"}, {"minLength", 1}, {"default", "email"}, {"description", "Field to normalise."}}},
       {"canonical",
        {{"type", "boolean"},
         {"default", false},
         {"description",
          "Gmail: drop dots and +tag, googlemail.com -> gmail.com; Outlook/Hotmail/Live/MSN, Yandex, "
          "iCloud, Fastmail: drop +tag."}}},
       {"keep_original",
        {{"type", "string"}, {"minLength", 1}, {"description", "Field that receives the value as it came in."}}},
       {"required",
        {{"type", "boolean"},
         {"default", false},
         {"description", "Make records with a missing or blank field invalid (otherwise they pass unchanged)."}}}});
}

}  // namespace internal

}  // namespace conflux::transforms
