#include "conflux/identity/prepared.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "conflux/identity/comparators.hpp"

namespace conflux::identity {

struct Prepared::Interner {
  std::unordered_map<std::string, uint32_t> names;        // canonical name -> id (1-based)
  std::unordered_map<std::string, uint32_t> identifiers;  // "<rule>\x1f<value>" -> id (1-based)
};

namespace {

bool is_blank_token(std::string_view text) {
  std::string lower;
  for (char c : text) {
    if (c == ' ' || c == '\t') continue;
    lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  static const char* const kTokens[] = {"", "null", "none", "nil", "unknown", "n/a", "na", "-", "--", "0", "undefined"};
  return std::any_of(std::begin(kTokens), std::end(kTokens), [&](const char* t) { return lower == t; });
}

// A phone whose national digits are all one digit (+70000000000, +79999999999) is a placeholder, not a person.
bool is_placeholder_phone(std::string_view e164) {
  if (e164.size() < 8) return true;
  const std::string_view national = e164.substr(e164.size() - 7);
  return std::all_of(national.begin(), national.end(), [&](char c) { return c == national.front(); });
}

std::string normalise_identifier(const IdentifierRule& rule, std::string_view raw) {
  if (is_blank_token(raw)) return {};
  switch (rule.type) {
    case IdentifierType::kEmail: return normalise_email(raw);
    case IdentifierType::kPhone: {
      std::string phone = normalise_phone(raw, rule.default_country);
      return phone.empty() || is_placeholder_phone(phone) ? std::string() : phone;
    }
    case IdentifierType::kId: {
      while (!raw.empty() && raw.front() == ' ') raw.remove_prefix(1);
      while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
      return std::string(raw);
    }
  }
  return {};
}

}  // namespace

Prepared::Prepared(const ModelConfig& config)
    : config_(&config),
      columns_(config.fields.size()),
      identifier_ids_(config.identifiers.size()),
      identifier_values_(1),
      interner_(std::make_shared<Interner>()) {}

uint32_t Prepared::append(std::string_view text) {
  const auto offset = static_cast<uint32_t>(arena_.size());
  arena_.append(text);
  return offset;
}

void Prepared::add(const std::vector<std::string_view>& compared, const std::vector<std::string_view>& identifiers) {
  for (size_t f = 0; f < config_->fields.size(); ++f) {
    const FieldSpec& spec = config_->fields[f];
    const std::string_view raw = f < compared.size() ? compared[f] : std::string_view();
    Cell cell;
    if (!is_blank_token(raw)) {
      std::string text;
      std::string key;
      switch (spec.comparator) {
        case Comparator::kName: {
          text = normalise_name(raw);
          key = name_key(text);
          const std::string canonical(canonical_name(key));
          auto [it, inserted] = interner_->names.emplace(canonical, static_cast<uint32_t>(interner_->names.size() + 1));
          cell.canonical = it->second;
          break;
        }
        case Comparator::kDate: {
          if (auto date = parse_date(raw)) {
            char digits[9];
            std::snprintf(digits, sizeof digits, "%04d%02d%02d", date->year, date->month, date->day);
            text = digits;
            cell.canonical = static_cast<uint32_t>(date->year * 10000 + date->month * 100 + date->day);
            cell.number = date->days;
          } else if (raw.size() == 8 && raw.find_first_not_of("0123456789") == std::string_view::npos) {
            text = std::string(raw);  // an impossible date (month 13) still compares as digits
            cell.number = std::nan("");
          }
          break;
        }
        case Comparator::kNumber: {
          const std::string owned(raw);
          char* end = nullptr;
          const double value = std::strtod(owned.c_str(), &end);
          if (end != owned.c_str() && std::isfinite(value)) {
            text = owned;
            cell.number = value;
          }
          break;
        }
        case Comparator::kEmail: {
          text = normalise_email(raw);
          key = text.substr(0, text.find('@'));
          break;
        }
        case Comparator::kPhone: {
          text = normalise_phone(raw, spec.default_country);
          if (is_placeholder_phone(text)) text.clear();
          break;
        }
        default: text = normalise_text(raw); break;
      }
      // A value an identifier rule of the same field blocks (a role address, an office phone) is no evidence here
      // either.
      for (const IdentifierRule& rule : config_->identifiers) {
        if (rule.field == spec.name && std::find(rule.blocked.begin(), rule.blocked.end(), text) != rule.blocked.end()) {
          text.clear();
        }
      }
      if (!text.empty() && text.size() <= 0xFFFF) {
        cell.present = true;
        cell.offset = append(text);
        cell.length = static_cast<uint16_t>(text.size());
        if (key.size() <= 0xFFFF) {
          cell.key_offset = append(key);
          cell.key_length = static_cast<uint16_t>(key.size());
        }
      }
    }
    columns_[f].push_back(cell);
  }
  for (size_t r = 0; r < config_->identifiers.size(); ++r) {
    const IdentifierRule& rule = config_->identifiers[r];
    const std::string_view raw = r < identifiers.size() ? identifiers[r] : std::string_view();
    uint32_t id = 0;
    std::string value = normalise_identifier(rule, raw);
    if (!value.empty() && std::find(rule.blocked.begin(), rule.blocked.end(), value) != rule.blocked.end()) {
      ++blocked_values_;
      value.clear();
    } else if (value.empty() && !raw.empty() && !is_blank_token(raw)) {
      ++blocked_values_;  // unusable: not an address, too few digits, a placeholder number
    }
    if (!value.empty()) {
      std::string interned_key = std::to_string(r) + '\x1f' + value;
      auto [it, inserted] = interner_->identifiers.emplace(std::move(interned_key),
                                                           static_cast<uint32_t>(identifier_values_.size()));
      if (inserted) identifier_values_.push_back(std::move(value));
      id = it->second;
    }
    identifier_ids_[r].push_back(id);
  }
  ++size_;
}

void Prepared::finalise() {
  for (size_t f = 0; f < config_->fields.size(); ++f) {
    if (!config_->fields[f].term_frequency) continue;
    std::unordered_map<std::string_view, uint32_t> counts;
    size_t present = 0;
    for (const Cell& c : columns_[f]) {
      if (!c.present) continue;
      ++counts[text(c)];
      ++present;
    }
    if (present == 0) continue;
    // The chance that two random records agree exactly: the sum of squared value frequencies.
    double agree = 0;
    for (const auto& [value, count] : counts) {
      const double share = static_cast<double>(count) / static_cast<double>(present);
      agree += share * share;
    }
    for (Cell& c : columns_[f]) {
      if (!c.present) continue;
      const double share = static_cast<double>(counts[text(c)]) / static_cast<double>(present);
      c.tf_adjust = static_cast<float>(std::log2(agree / share));
    }
  }
}

std::string_view Prepared::identifier(size_t rule, size_t record) const {
  return identifier_values_[identifier_ids_[rule][record]];
}

bool Prepared::has_evidence(size_t record) const {
  for (const auto& column : columns_) {
    if (column[record].present) return true;
  }
  for (const auto& ids : identifier_ids_) {
    if (ids[record] != 0) return true;
  }
  return false;
}

uint8_t Prepared::level(size_t field, uint32_t a, uint32_t b) const {
  const Cell& x = columns_[field][a];
  const Cell& y = columns_[field][b];
  if (!x.present || !y.present) return 0;
  const FieldSpec& spec = config_->fields[field];
  const std::string_view tx = text(x);
  const std::string_view ty = text(y);
  if (tx == ty) return 1;
  const auto& t = spec.thresholds;
  const auto n = static_cast<uint8_t>(t.size());
  switch (spec.comparator) {
    case Comparator::kExact: return 2;
    case Comparator::kJaroWinkler: {
      const double s = jaro_winkler(tx, ty, n == 0 ? 1.0 : t[n - 1]);
      for (uint8_t i = 0; i < n; ++i) {
        if (s >= t[i]) return static_cast<uint8_t>(2 + i);
      }
      return static_cast<uint8_t>(2 + n);
    }
    case Comparator::kLevenshtein:
    case Comparator::kDamerau: {
      const int max = static_cast<int>(t.empty() ? 0 : t.back());
      const int d = spec.comparator == Comparator::kLevenshtein ? levenshtein(tx, ty, max) : damerau_levenshtein(tx, ty, max);
      for (uint8_t i = 0; i < n; ++i) {
        if (d <= t[i]) return static_cast<uint8_t>(2 + i);
      }
      return static_cast<uint8_t>(2 + n);
    }
    case Comparator::kName: {
      if (x.canonical == y.canonical || key(x) == key(y)) return 2;
      const double s = jaro_winkler(key(x), key(y), n == 0 ? 1.0 : t[n - 1]);
      for (uint8_t i = 0; i < n; ++i) {
        if (s >= t[i]) return static_cast<uint8_t>(3 + i);
      }
      return static_cast<uint8_t>(3 + n);
    }
    case Comparator::kDate: {
      const uint32_t dx = x.canonical;
      const uint32_t dy = y.canonical;
      const bool swapped = dx != 0 && dy != 0 && dx / 10000 == dy / 10000 && (dx / 100) % 100 == dy % 100 && dx % 100 == (dy / 100) % 100;
      if (swapped || damerau_levenshtein(tx, ty, 1) <= 1) return 2;
      const double gap = std::fabs(x.number - y.number);
      for (uint8_t i = 0; i < n; ++i) {
        if (gap <= t[i]) return static_cast<uint8_t>(3 + i);
      }
      return static_cast<uint8_t>(3 + n);
    }
    case Comparator::kNumber: {
      const double gap = std::fabs(x.number - y.number);
      if (gap == 0) return 1;
      for (uint8_t i = 0; i < n; ++i) {
        if (gap <= t[i]) return static_cast<uint8_t>(2 + i);
      }
      return static_cast<uint8_t>(2 + n);
    }
    case Comparator::kEmail: {
      if (key(x) == key(y) || damerau_levenshtein(tx, ty, 1) <= 1) return 2;
      const double s = n == 0 ? 0.0 : jaro_winkler(tx, ty, t[n - 1]);
      for (uint8_t i = 0; i < n; ++i) {
        if (s >= t[i]) return static_cast<uint8_t>(3 + i);
      }
      return static_cast<uint8_t>(3 + n);
    }
    case Comparator::kPhone: return damerau_levenshtein(tx, ty, 1) <= 1 ? 2 : 3;
  }
  return static_cast<uint8_t>(spec.levels());
}

}  // namespace conflux::identity
