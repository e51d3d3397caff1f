// hash_pii: replaces or accompanies personal fields with the lowercase hex SHA-256 of their normalised value, the
// form ad platforms' customer-list uploads expect (Google Customer Match, Meta Custom Audiences).
#include <openssl/evp.h>

#include "config_reader.hpp"
#include "conflux/transforms/email.hpp"
#include "conflux/transforms/phone.hpp"
#include "stages.hpp"
#include "text_util.hpp"

namespace conflux::transforms::internal {

namespace {

enum class Normalise { kEmail, kPhone, kText, kRaw };

struct HashField {
  std::string name;
  std::string target;
  Normalise normalise = Normalise::kText;
};

// SHA-256 as lowercase hex. The digest is fetched once; each thread reuses one context.
std::string sha256_hex(std::string_view data) {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct ContextDeleter {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, ContextDeleter> context(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (kSha256 == nullptr || context == nullptr || EVP_DigestInit_ex2(context.get(), kSha256, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(length * 2, '0');
  for (unsigned int i = 0; i < length; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

class HashPiiTransform final : public engine::RecordTransform {
 public:
  HashPiiTransform(std::vector<HashField> fields, PhoneNormalizer phones, bool phone_digits)
      : fields_(std::move(fields)), phones_(std::move(phones)), phone_digits_(phone_digits) {}

  Verdict process(Record& record, std::string& /*reason*/) const override {
    for (const HashField& field : fields_) {
      const Value* value = record.find(field.name);
      if (value == nullptr) continue;
      std::optional<std::string> normalised;
      if (!value->is_blank()) normalised = normalise(value->to_text(), field.normalise);
      record.set(field.target, normalised ? Value::string(sha256_hex(*normalised)) : Value::null());
    }
    return Verdict::kKeep;
  }

 private:
  // nullopt: nothing worth hashing (a phone that is not a valid number).
  std::optional<std::string> normalise(const std::string& text, Normalise how) const {
    switch (how) {
      case Normalise::kEmail: return normalize_email(text);
      case Normalise::kText: return to_lower(trim_unicode(text));
      case Normalise::kRaw: return text;
      case Normalise::kPhone: {
        std::optional<std::string> e164 = phones_.normalize(text);
        if (e164 && phone_digits_) e164->erase(0, 1);
        return e164;
      }
    }
    return std::nullopt;
  }

  std::vector<HashField> fields_;
  PhoneNormalizer phones_;
  bool phone_digits_;
};

Normalise infer(const std::string& field) {
  std::string lower = ascii_lower(field);
  if (lower.find("email") != std::string::npos || lower.find("e_mail") != std::string::npos) return Normalise::kEmail;
  if (lower.find("phone") != std::string::npos) return Normalise::kPhone;
  return Normalise::kText;
}

}  // namespace

TransformResult make_hash_pii(const Json& config) {
  ConfigReader reader("hash_pii", config);
  CONFLUX_RETURN_IF_ERROR(reader.check_keys({"fields", "target_suffix", "in_place", "phone_format", "default_region"}));
  const Json& fields_json = reader.get("fields");
  if (fields_json.is_null()) return reader.error("missing required key 'fields'");
  if (!fields_json.is_object() || fields_json.empty()) {
    return reader.error("'fields' must be a mapping of field names to sha256 or {algorithm, normalise}");
  }
  bool in_place = false;
  CONFLUX_TX_ASSIGN(in_place, reader.boolean("in_place", false));
  std::string suffix;
  CONFLUX_TX_ASSIGN(suffix, reader.string("target_suffix", "_sha256"));
  if (in_place && reader.has("target_suffix"))
    return reader.error("give either 'in_place' or 'target_suffix', not both");
  if (!in_place && suffix.empty()) return reader.error("'target_suffix' must be a non-empty string");
  size_t phone_format = 0;
  CONFLUX_TX_ASSIGN(phone_format, reader.choice("phone_format", {"digits", "e164"}, 0));
  std::string region;
  CONFLUX_TX_ASSIGN(region, reader.string("default_region", ""));
  for (char& c : region) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (reader.has("default_region") && region.empty())
    return reader.error("'default_region' must be a non-empty string");

  std::vector<HashField> fields;
  for (auto it = fields_json.begin(); it != fields_json.end(); ++it) {
    HashField field;
    field.name = it.key();
    field.target = in_place ? field.name : field.name + suffix;
    field.normalise = infer(field.name);
    const std::string where = "fields." + field.name;
    const Json& spec = it.value();
    std::string algorithm;
    if (spec.is_string()) {
      algorithm = spec.get<std::string>();
    } else if (spec.is_object()) {
      for (auto key = spec.begin(); key != spec.end(); ++key) {
        if (key.key() != "algorithm" && key.key() != "normalise") {
          return reader.error("unknown key '" + key.key() + "' in " + where + " (known keys: algorithm, normalise)");
        }
      }
      algorithm = spec.value("algorithm", std::string("sha256"));
      if (spec.contains("normalise")) {
        static const std::vector<std::pair<std::string, Normalise>> kModes = {{"email", Normalise::kEmail},
                                                                              {"phone", Normalise::kPhone},
                                                                              {"text", Normalise::kText},
                                                                              {"raw", Normalise::kRaw}};
        const Json& mode = spec["normalise"];
        bool found = false;
        for (const auto& [name, value] : kModes) {
          if (mode.is_string() && mode.get<std::string>() == name) {
            field.normalise = value;
            found = true;
          }
        }
        if (!found)
          return reader.error("unknown normalise " + mode.dump() + " in " + where +
                              " (expected email, phone, text or raw)");
      }
    } else {
      return reader.error("'" + where + "' must be sha256 or {algorithm: sha256, normalise: ...}");
    }
    if (algorithm != "sha256")
      return reader.error("unknown algorithm '" + algorithm + "' in " + where + " (only sha256)");
    fields.push_back(std::move(field));
  }
  Result<PhoneNormalizer> phones = PhoneNormalizer::create(region, PhoneFormat::kE164);
  if (!phones.is_ok()) return reader.error(phones.status().message() + " in default_region");
  return std::unique_ptr<engine::Transform>(
      new HashPiiTransform(std::move(fields), std::move(phones).value(), phone_format == 0));
}

Json hash_pii_schema() {
  Json field_spec = {
      {"oneOf", Json::array({{{"const", "sha256"}},
                             {{"type", "object"},
                              {"additionalProperties", false},
                              {"properties",
                               {{"algorithm", {{"const", "sha256"}}},
                                {"normalise", {{"enum", Json::array({"email", "phone", "text", "raw"})}}}}}}})}};
  Json schema = object_schema(
      "hash_pii",
      "Hashes personal fields with SHA-256 (lowercase hex) after normalising them: email trimmed and lower-cased; "
      "phone as E.164 (digits only for Meta, with '+' for Google); text trimmed and lower-cased. Blank values and "
      "phones that are not valid numbers give null.",
      {{"fields",
        {{"type", "object"},
         {"minProperties", 1},
         {"description",
          "{field: sha256} (normalisation chosen by the name: *email* -> email, *phone* -> phone, "
          "else text) or {field: {algorithm: sha256, normalise: email|phone|text|raw}}."},
         {"additionalProperties", field_spec}}},
       {"target_suffix",
        {{"type", "string"},
         {"minLength", 1},
         {"default", "_sha256"},
         {"description", "The hash goes to <field><suffix>; the original stays."}}},
       {"in_place", {{"type", "boolean"}, {"default", false}, {"description", "Replace the field with its hash."}}},
       {"phone_format",
        {{"enum", Json::array({"digits", "e164"})},
         {"default", "digits"},
         {"description", "digits: 79123456789 (Meta); e164: +79123456789 (Google Customer Match)."}}},
       {"default_region",
        {{"type", "string"},
         {"pattern", "^[A-Za-z]{2}$"},
         {"description", "Region for phones written without '+' (none: such phones hash to null)."}}}},
      Json::array({"fields"}));
  return schema;
}

}  // namespace conflux::transforms::internal
