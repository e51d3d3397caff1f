#include "conflux/identity/model_config.hpp"

#include <algorithm>
#include <set>

#include "conflux/identity/comparators.hpp"

namespace conflux::identity {

namespace {

using Json = nlohmann::json;

Status config_error(const std::string& where, const std::string& message) {
  return failed_precondition("identity: " + (where.empty() ? "" : where + ": ") + message);
}

struct ComparatorInfo {
  const char* name;
  Comparator comparator;
  std::vector<double> default_thresholds;
  size_t fixed_levels;  // levels besides the thresholds' (equal, special levels, else)
};

const std::vector<ComparatorInfo>& comparators() {
  static const std::vector<ComparatorInfo> kInfo = {
      {"exact", Comparator::kExact, {}, 2},
      {"jaro_winkler", Comparator::kJaroWinkler, {0.92, 0.8}, 2},
      {"levenshtein", Comparator::kLevenshtein, {1, 2}, 2},
      {"damerau", Comparator::kDamerau, {1, 2}, 2},
      {"name", Comparator::kName, {0.92, 0.8}, 3},
      {"date", Comparator::kDate, {31, 366}, 3},
      {"number", Comparator::kNumber, {1}, 2},
      {"email", Comparator::kEmail, {}, 3},
      {"phone", Comparator::kPhone, {}, 3},
  };
  return kInfo;
}

const ComparatorInfo& info(Comparator comparator) {
  for (const auto& i : comparators()) {
    if (i.comparator == comparator) return i;
  }
  return comparators().front();
}

std::string format_number(double value) {
  std::string text = std::to_string(value);
  while (text.size() > 1 && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

Result<std::vector<double>> number_list(const Json& value, const std::string& where) {
  if (!value.is_array()) return config_error(where, "must be a list of numbers");
  std::vector<double> out;
  for (const auto& item : value) {
    if (!item.is_number()) return config_error(where, "must be a list of numbers");
    out.push_back(item.get<double>());
  }
  return out;
}

Result<std::vector<std::string>> string_list(const Json& value, const std::string& where) {
  std::vector<std::string> out;
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
    return out;
  }
  if (!value.is_array()) return config_error(where, "must be a list of strings");
  for (const auto& item : value) {
    if (!item.is_string()) return config_error(where, "must be a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Status check_keys(const Json& object, const std::string& where, std::initializer_list<const char*> allowed) {
  if (!object.is_object()) return config_error(where, "must be a mapping");
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* key) { return it.key() == key; })) {
      return config_error(where, "unknown key '" + it.key() + "'");
    }
  }
  return Status::ok();
}

Result<FieldSpec> parse_field(const Json& j, const std::string& where) {
  CONFLUX_RETURN_IF_ERROR(check_keys(j, where, {"name", "comparator", "thresholds", "term_frequency", "m", "u", "default_country"}));
  FieldSpec spec;
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty()) {
    return config_error(where, "needs a field 'name'");
  }
  spec.name = j["name"].get<std::string>();
  const std::string comparator = j.value("comparator", std::string("exact"));
  const ComparatorInfo* found = nullptr;
  for (const auto& i : comparators()) {
    if (comparator == i.name) found = &i;
  }
  if (found == nullptr) {
    return config_error(where + ".comparator", "unknown comparator '" + comparator +
                                                   "' (exact, jaro_winkler, levenshtein, damerau, name, date, "
                                                   "number, email, phone)");
  }
  spec.comparator = found->comparator;
  spec.thresholds = found->default_thresholds;
  if (j.contains("thresholds")) {
    auto thresholds = number_list(j["thresholds"], where + ".thresholds");
    if (!thresholds) return thresholds.status();
    spec.thresholds = std::move(thresholds.value());
    if (spec.comparator == Comparator::kExact || spec.comparator == Comparator::kPhone) {
      if (!spec.thresholds.empty()) return config_error(where + ".thresholds", comparator + " takes no thresholds");
    }
    const bool descending = spec.comparator == Comparator::kJaroWinkler || spec.comparator == Comparator::kName ||
                            spec.comparator == Comparator::kEmail;
    for (size_t i = 1; i < spec.thresholds.size(); ++i) {
      if (descending ? spec.thresholds[i] >= spec.thresholds[i - 1] : spec.thresholds[i] <= spec.thresholds[i - 1]) {
        return config_error(where + ".thresholds", descending ? "must be strictly descending similarities"
                                                               : "must be strictly ascending distances");
      }
    }
    if (spec.thresholds.size() > 8) return config_error(where + ".thresholds", "at most 8 thresholds");
  }
  if (j.contains("default_country")) {
    if (!j["default_country"].is_string()) return config_error(where + ".default_country", "must be a calling code");
    spec.default_country = j["default_country"].get<std::string>();
  }
  if (j.contains("term_frequency")) {
    if (!j["term_frequency"].is_boolean()) return config_error(where + ".term_frequency", "must be true or false");
    spec.term_frequency = j["term_frequency"].get<bool>();
  }
  for (const char* key : {"m", "u"}) {
    if (!j.contains(key)) continue;
    auto values = number_list(j[key], where + "." + key);
    if (!values) return values.status();
    if (values->size() != spec.levels()) {
      return config_error(where + "." + key, "needs " + std::to_string(spec.levels()) + " probabilities, one per level");
    }
    for (double v : *values) {
      if (!(v > 0 && v < 1)) return config_error(where + "." + key, "probabilities must lie strictly between 0 and 1");
    }
    (std::string(key) == "m" ? spec.m : spec.u) = std::move(values.value());
  }
  if (spec.m.empty() != spec.u.empty()) return config_error(where, "give both m and u, or neither");
  return spec;
}

Result<BlockingKey> parse_blocking_key(const std::string& text, const std::string& where) {
  BlockingKey key;
  key.text = text;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('+', start);
    if (end == std::string::npos) end = text.size();
    const std::string part_text = text.substr(start, end - start);
    KeyPart part;
    const size_t colon = part_text.find(':');
    part.field = part_text.substr(0, colon);
    if (part.field.empty()) return config_error(where, "empty field in blocking key '" + text + "'");
    if (colon != std::string::npos) {
      const std::string rest = part_text.substr(colon + 1);
      const size_t second = rest.find(':');
      const std::string name = rest.substr(0, second);
      if (name == "name") part.transform = KeyTransform::kName;
      else if (name == "year") part.transform = KeyTransform::kYear;
      else if (name == "soundex") part.transform = KeyTransform::kSoundex;
      else if (name == "value") part.transform = KeyTransform::kValue;
      else if (name == "first" || name == "last") {
        part.transform = name == "first" ? KeyTransform::kFirst : KeyTransform::kLast;
        const std::string digits = second == std::string::npos ? "" : rest.substr(second + 1);
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 3) {
          return config_error(where, "'" + part_text + "': first/last need a length, e.g. surname:first:3");
        }
        part.length = std::stoul(digits);
        if (part.length == 0) return config_error(where, "'" + part_text + "': length must be at least 1");
      } else {
        return config_error(where, "'" + part_text + "': unknown key transform '" + name +
                                       "' (value, first:N, last:N, name, year, soundex)");
      }
    }
    key.parts.push_back(std::move(part));
    start = end + 1;
  }
  return key;
}

Result<SurvivorRule> survivor_rule(const std::string& text, const std::string& where) {
  if (text == "source_priority") return SurvivorRule::kSourcePriority;
  if (text == "most_recent") return SurvivorRule::kMostRecent;
  if (text == "most_complete") return SurvivorRule::kMostComplete;
  if (text == "most_frequent") return SurvivorRule::kMostFrequent;
  return config_error(where, "unknown rule '" + text + "' (source_priority, most_recent, most_complete, most_frequent)");
}

Status parse_survivorship(const Json& j, ModelConfig& out) {
  CONFLUX_RETURN_IF_ERROR(check_keys(j, "survivorship", {"default", "source_priority", "fields"}));
  if (j.contains("default")) {
    if (!j["default"].is_string()) return config_error("survivorship.default", "must be a rule name");
    auto rule = survivor_rule(j["default"].get<std::string>(), "survivorship.default");
    if (!rule) return rule.status();
    out.default_survivor = *rule;
  }
  if (j.contains("source_priority")) {
    auto sources = string_list(j["source_priority"], "survivorship.source_priority");
    if (!sources) return sources.status();
    out.source_priority = std::move(sources.value());
  }
  if (j.contains("fields")) {
    if (!j["fields"].is_object()) return config_error("survivorship.fields", "must map field names to rules");
    for (auto it = j["fields"].begin(); it != j["fields"].end(); ++it) {
      const std::string where = "survivorship.fields." + it.key();
      SurvivorshipSpec spec;
      spec.field = it.key();
      if (it->is_string()) {
        auto rule = survivor_rule(it->get<std::string>(), where);
        if (!rule) return rule.status();
        spec.rule = *rule;
      } else {
        CONFLUX_RETURN_IF_ERROR(check_keys(*it, where, {"rule", "sources"}));
        auto rule = survivor_rule(it->value("rule", std::string("most_recent")), where + ".rule");
        if (!rule) return rule.status();
        spec.rule = *rule;
        if (it->contains("sources")) {
          auto sources = string_list((*it)["sources"], where + ".sources");
          if (!sources) return sources.status();
          spec.sources = std::move(sources.value());
        }
      }
      if (spec.rule == SurvivorRule::kSourcePriority && spec.sources.empty()) spec.sources = out.source_priority;
      out.survivorship.push_back(std::move(spec));
    }
  }
  return Status::ok();
}

}  // namespace

const char* comparator_name(Comparator comparator) { return info(comparator).name; }

size_t FieldSpec::levels() const { return info(comparator).fixed_levels + thresholds.size(); }

std::string FieldSpec::level_label(size_t level) const {
  if (level == 0) return "missing";
  if (level == 1) return "exact";
  if (level == levels()) return "different";
  const size_t special = info(comparator).fixed_levels - 2;  // levels between "exact" and the thresholds
  if (level - 2 < special) {
    switch (comparator) {
      case Comparator::kName: return "same name or nickname";
      case Comparator::kDate: return "day/month swapped or one digit off";
      case Comparator::kEmail: return "same mailbox or one edit";
      case Comparator::kPhone: return "one digit off";
      default: return "similar";
    }
  }
  const double t = thresholds[level - 2 - special];
  switch (comparator) {
    case Comparator::kJaroWinkler:
    case Comparator::kName:
    case Comparator::kEmail: return "jaro_winkler >= " + format_number(t);
    case Comparator::kLevenshtein: return "levenshtein <= " + format_number(t);
    case Comparator::kDamerau: return "damerau <= " + format_number(t);
    case Comparator::kDate: return "within " + format_number(t) + " days";
    case Comparator::kNumber: return "within " + format_number(t);
    default: return "similar";
  }
}

std::vector<std::string> ModelConfig::referenced_fields() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& name) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  for (const auto& f : fields) add(f.name);
  for (const auto& k : blocking) {
    for (const auto& p : k.parts) add(p.field);
  }
  for (const auto& r : identifiers) add(r.field);
  for (const auto& s : survivorship) add(s.field);
  return out;
}

Result<ModelConfig> parse_model_config(const Json& j) {
  CONFLUX_RETURN_IF_ERROR(check_keys(j, "", {"match_probability", "clustering", "prior", "em", "max_block_size", "seed",
                                                   "schema", "fields", "blocking", "identifiers", "survivorship"}));
  ModelConfig config;
  if (j.contains("match_probability")) {
    if (!j["match_probability"].is_number()) return config_error("match_probability", "must be a number");
    config.match_probability = j["match_probability"].get<double>();
    if (!(config.match_probability > 0 && config.match_probability < 1)) {
      return config_error("match_probability", "must lie strictly between 0 and 1");
    }
  }
  if (j.contains("clustering")) {
    const std::string clustering = j["clustering"].is_string() ? j["clustering"].get<std::string>() : "";
    if (clustering == "transitive") config.clustering = Clustering::kTransitive;
    else if (clustering == "average") config.clustering = Clustering::kAverage;
    else return config_error("clustering", "must be 'average' or 'transitive'");
  }
  if (j.contains("prior")) {
    if (!j["prior"].is_number() || !(j["prior"].get<double>() > 0 && j["prior"].get<double>() < 1)) {
      return config_error("prior", "must be a probability strictly between 0 and 1");
    }
    config.prior = j["prior"].get<double>();
  }
  if (j.contains("em")) {
    const Json& em = j["em"];
    CONFLUX_RETURN_IF_ERROR(check_keys(em, "em", {"max_iterations", "tolerance", "u_sample_pairs", "u_from_random_pairs"}));
    if (em.contains("max_iterations")) {
      if (!em["max_iterations"].is_number_integer() || em["max_iterations"].get<int>() < 0) {
        return config_error("em.max_iterations", "must be a whole number >= 0");
      }
      config.em_max_iterations = em["max_iterations"].get<int>();
    }
    if (em.contains("tolerance")) {
      if (!em["tolerance"].is_number() || em["tolerance"].get<double>() <= 0) return config_error("em.tolerance", "must be > 0");
      config.em_tolerance = em["tolerance"].get<double>();
    }
    if (em.contains("u_sample_pairs")) {
      if (!em["u_sample_pairs"].is_number_integer() || em["u_sample_pairs"].get<int64_t>() < 1000) {
        return config_error("em.u_sample_pairs", "must be a whole number >= 1000");
      }
      config.u_sample_pairs = em["u_sample_pairs"].get<size_t>();
    }
    if (em.contains("u_from_random_pairs")) {
      if (!em["u_from_random_pairs"].is_boolean()) return config_error("em.u_from_random_pairs", "must be true or false");
      config.u_from_random_pairs = em["u_from_random_pairs"].get<bool>();
    }
  }
  if (j.contains("max_block_size")) {
    if (!j["max_block_size"].is_number_integer() || j["max_block_size"].get<int64_t>() < 2) {
      return config_error("max_block_size", "must be a whole number >= 2");
    }
    config.max_block_size = j["max_block_size"].get<size_t>();
  }
  if (j.contains("seed")) {
    if (!j["seed"].is_number_unsigned()) return config_error("seed", "must be a whole number >= 0");
    config.seed = j["seed"].get<uint64_t>();
  }
  if (j.contains("schema")) {
    if (!j["schema"].is_string()) return config_error("schema", "must be a record schema name");
    config.schema = j["schema"].get<std::string>();
  }
  if (j.contains("fields")) {
    if (!j["fields"].is_array()) return config_error("fields", "must be a list");
    std::set<std::string> seen;
    for (size_t i = 0; i < j["fields"].size(); ++i) {
      auto field = parse_field(j["fields"][i], "fields[" + std::to_string(i) + "]");
      if (!field) return field.status();
      if (!seen.insert(field->name).second) return config_error("fields", "field '" + field->name + "' compared twice");
      config.fields.push_back(std::move(field.value()));
    }
    if (config.fields.size() > 16) return config_error("fields", "at most 16 compared fields");
  }
  if (j.contains("blocking")) {
    if (!j["blocking"].is_array()) return config_error("blocking", "must be a list of keys");
    for (size_t i = 0; i < j["blocking"].size(); ++i) {
      const std::string where = "blocking[" + std::to_string(i) + "]";
      const Json& item = j["blocking"][i];
      std::string text;
      if (item.is_string()) {
        text = item.get<std::string>();
      } else if (item.is_array()) {
        for (const auto& part : item) {
          if (!part.is_string()) return config_error(where, "must be a key string or a list of key parts");
          text += (text.empty() ? "" : "+") + part.get<std::string>();
        }
      } else {
        return config_error(where, "must be a key string or a list of key parts");
      }
      auto key = parse_blocking_key(text, where);
      if (!key) return key.status();
      config.blocking.push_back(std::move(key.value()));
    }
  }
  if (j.contains("identifiers")) {
    if (!j["identifiers"].is_array()) return config_error("identifiers", "must be a list");
    for (size_t i = 0; i < j["identifiers"].size(); ++i) {
      const std::string where = "identifiers[" + std::to_string(i) + "]";
      const Json& item = j["identifiers"][i];
      CONFLUX_RETURN_IF_ERROR(check_keys(item, where, {"field", "type", "blocked", "max_per_profile", "default_country"}));
      IdentifierRule rule;
      if (!item.contains("field") || !item["field"].is_string()) return config_error(where, "needs a 'field'");
      rule.field = item["field"].get<std::string>();
      const std::string type = item.value("type", std::string("id"));
      if (type == "email") rule.type = IdentifierType::kEmail;
      else if (type == "phone") rule.type = IdentifierType::kPhone;
      else if (type == "id") rule.type = IdentifierType::kId;
      else return config_error(where + ".type", "unknown type '" + type + "' (email, phone, id)");
      if (item.contains("default_country")) {
        if (!item["default_country"].is_string()) return config_error(where + ".default_country", "must be a calling code");
        rule.default_country = item["default_country"].get<std::string>();
      }
      if (item.contains("blocked")) {
        auto blocked = string_list(item["blocked"], where + ".blocked");
        if (!blocked) return blocked.status();
        for (const auto& value : *blocked) {
          rule.blocked.push_back(rule.type == IdentifierType::kEmail   ? normalise_email(value)
                                 : rule.type == IdentifierType::kPhone ? normalise_phone(value, rule.default_country)
                                                                       : value);
        }
      }
      if (item.contains("max_per_profile")) {
        if (!item["max_per_profile"].is_number_integer() || item["max_per_profile"].get<int64_t>() < 1) {
          return config_error(where + ".max_per_profile", "must be a whole number >= 1");
        }
        rule.max_per_profile = item["max_per_profile"].get<size_t>();
      }
      config.identifiers.push_back(std::move(rule));
    }
  }
  if (j.contains("survivorship")) CONFLUX_RETURN_IF_ERROR(parse_survivorship(j["survivorship"], config));
  if (config.fields.empty() && config.identifiers.empty()) {
    return config_error("", "needs compared 'fields', 'identifiers', or both");
  }
  for (const auto& key : config.blocking) {
    for (const auto& part : key.parts) {
      const bool compared = std::any_of(config.fields.begin(), config.fields.end(),
                                        [&](const FieldSpec& f) { return f.name == part.field; });
      if (!compared) {
        return config_error("blocking", "key '" + key.text + "' uses '" + part.field +
                                            "', which is not a compared field (blocking reads the compared, "
                                            "normalised values)");
      }
    }
  }
  if (!config.fields.empty() && config.blocking.empty()) {
    return config_error("blocking", "compared fields need at least one blocking key");
  }
  return config;
}

}  // namespace conflux::identity
