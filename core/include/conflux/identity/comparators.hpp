// String, date and number comparators for identity resolution, and the normalisation of names across scripts.
//
// The similarity functions work on bytes: callers compare normalised ASCII (names are transliterated first, see
// normalise_name), where a byte is a letter. All functions are pure, allocation-free (except the normalisers) and
// thread-safe, because the scoring loop calls them millions of times a second.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace conflux::identity {

// Jaro-Winkler similarity in [0, 1] (1: equal). Winkler's prefix bonus uses up to 4 common leading bytes with
// scale 0.1. Strings longer than 64 bytes are compared on their first 64 bytes. With `floor` > 0 the result is
// exact when it is at least `floor`, and may be returned as 0 when it is below: the loop stops once the floor is
// out of reach, which is most of the work saved on dissimilar pairs.
double jaro_winkler(std::string_view a, std::string_view b, double floor = 0);

// Levenshtein distance when it is at most `max`, otherwise max + 1 (the bound lets the loop stop early).
int levenshtein(std::string_view a, std::string_view b, int max);
// Damerau-Levenshtein (optimal string alignment: adjacent transpositions cost 1), bounded like levenshtein.
int damerau_levenshtein(std::string_view a, std::string_view b, int max);

// A calendar date as days since 1970-01-01 plus its parts, parsed from "YYYYMMDD", "YYYY-MM-DD", "YYYY/MM/DD",
// "DD.MM.YYYY" or an ISO timestamp's date part. nullopt for anything else, including impossible dates.
struct Date {
  int32_t year = 0;
  int32_t month = 0;
  int32_t day = 0;
  int32_t days = 0;  // days since the epoch
};
std::optional<Date> parse_date(std::string_view text);

// A name in lower-case ASCII letters: Cyrillic goes through ICU's Russian-Latin/BGN, every other script through
// Any-Latin, then Latin-ASCII; everything but letters is removed ("Пётр" -> "petr", "O'Neil" -> "oneil",
// "Наталья" -> "natalya"). Calls ICU only when `text` is not plain ASCII.
std::string normalise_name(std::string_view text);
// A key that folds the usual transliteration variants of one name together ("yekaterina", "ekaterina",
// "jekaterina" -> "ekaterina"; "aleksey", "alexei" -> "aleksei"; "yuliya", "julia" -> "iulia"): used for the
// name comparator's "same name" level and for blocking. Input: the output of normalise_name.
std::string name_key(std::string_view normalised);
// The canonical full form of a nickname or diminutive ("bob" -> "robert", "sasha" -> "aleksandr", "katya" ->
// "ekaterina"); the key itself when the table does not know it. Input and output: name_key form.
std::string_view canonical_name(std::string_view key);

// Free text (city, street) in lower-case ASCII with runs of non-alphanumerics collapsed to one space, trimmed.
std::string normalise_text(std::string_view text);
// An e-mail address trimmed and lower-cased; empty when it has no '@' with text on both sides.
std::string normalise_email(std::string_view text);
// A phone number as E.164 digits with '+'; numbers without '+' are read in `default_country` ("7": an 11-digit
// number starting with 8 or 7 is +7..., a 10-digit one gets +7). Empty when fewer than 7 digits remain.
std::string normalise_phone(std::string_view text, std::string_view default_country);

}  // namespace conflux::identity
