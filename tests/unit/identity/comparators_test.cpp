#include "conflux/identity/comparators.hpp"

#include <catch2/catch.hpp>

using namespace conflux::identity;

TEST_CASE("jaro_winkler matches the textbook values", "[identity]") {
  CHECK(jaro_winkler("martha", "marhta") == Approx(0.9611).epsilon(0.001));
  CHECK(jaro_winkler("dwayne", "duane") == Approx(0.84).epsilon(0.001));
  CHECK(jaro_winkler("dixon", "dicksonx") == Approx(0.8133).epsilon(0.001));
  CHECK(jaro_winkler("abc", "abc") == 1.0);
  CHECK(jaro_winkler("abc", "xyz") == 0.0);
  CHECK(jaro_winkler("", "") == 1.0);
}

TEST_CASE("jaro_winkler with a floor is exact above it and never reports a value it does not reach", "[identity]") {
  const char* words[] = {"martha", "marhta", "dwayne", "duane", "dixon", "dicksonx", "ivanov", "ivanova", "smith", "smyth", "a", "ab"};
  for (const char* a : words) {
    for (const char* b : words) {
      const double full = jaro_winkler(a, b);
      for (double floor : {0.7, 0.8, 0.92}) {
        const double cut = jaro_winkler(a, b, floor);
        if (full >= floor) CHECK(cut == full);
        else CHECK(cut < floor);
      }
    }
  }
}

TEST_CASE("bounded edit distances", "[identity]") {
  CHECK(levenshtein("kitten", "sitting", 5) == 3);
  CHECK(levenshtein("kitten", "sitting", 2) == 3);  // over the bound: max + 1
  CHECK(levenshtein("abc", "abc", 1) == 0);
  CHECK(levenshtein("abc", "acb", 1) == 2);         // a swap is two edits without transpositions
  CHECK(damerau_levenshtein("abc", "acb", 1) == 1);
  CHECK(damerau_levenshtein("ca", "abc", 3) == 3);  // optimal string alignment
  CHECK(damerau_levenshtein("1804974", "1804947", 2) == 1);
  CHECK(damerau_levenshtein("abcdef", "abdcfe", 2) == 2);
  CHECK(damerau_levenshtein("abcdef", "badcfe", 2) == 3);
  CHECK(levenshtein("", "abc", 5) == 3);
  // The one-edit fast path agrees with the full table.
  const char* words[] = {"", "a", "ab", "ba", "abc", "acb", "abd", "abcd", "xbcd", "bcd", "abdc"};
  for (const char* a : words) {
    for (const char* b : words) {
      CHECK(std::min(damerau_levenshtein(a, b, 3), 2) == damerau_levenshtein(a, b, 1));
      CHECK(std::min(levenshtein(a, b, 3), 2) == levenshtein(a, b, 1));
    }
  }
}

TEST_CASE("dates parse in the usual shapes and reject impossible ones", "[identity]") {
  auto iso = parse_date("1971-06-24");
  REQUIRE(iso);
  CHECK(iso->year == 1971);
  CHECK(iso->month == 6);
  CHECK(iso->day == 24);
  CHECK(parse_date("19710624")->days == iso->days);
  CHECK(parse_date("24.06.1971")->days == iso->days);
  CHECK(parse_date("1970-01-01")->days == 0);
  CHECK_FALSE(parse_date("19711324"));
  CHECK_FALSE(parse_date("2023-02-29"));
  CHECK(parse_date("2024-02-29"));
  CHECK_FALSE(parse_date("not a date"));
}

TEST_CASE("names compare across Cyrillic and Latin", "[identity]") {
  CHECK(normalise_name("Пётр") == "petr");
  CHECK(normalise_name("Иванов") == "ivanov");
  CHECK(normalise_name("O'Neil") == "oneil");
  CHECK(normalise_name("  Petr ") == "petr");
  // Transliteration variants fold to one key.
  CHECK(name_key(normalise_name("Юлия")) == name_key("iulia"));
  CHECK(name_key(normalise_name("Екатерина")) == name_key(normalise_name("Ekaterina")));
  CHECK(name_key("yekaterina") == name_key("ekaterina"));
  CHECK(name_key("aleksey") == name_key("alexei"));
  CHECK(name_key("pyotr") == name_key("petr"));
  // Nicknames reach their canonical name, in either script.
  CHECK(canonical_name(name_key("bob")) == canonical_name(name_key("robert")));
  CHECK(canonical_name(name_key(normalise_name("Саша"))) == canonical_name(name_key("alexander")));
  CHECK(canonical_name(name_key("katya")) == canonical_name(name_key(normalise_name("Екатерина"))));
  CHECK(canonical_name(name_key("zebulon")) == name_key("zebulon"));
  CHECK(canonical_name(name_key("ivan")) != canonical_name(name_key("petr")));
}

TEST_CASE("e-mail and phone normalisation", "[identity]") {
  CHECK(normalise_email(" P.Ivanov@Mail.ru ") == "p.ivanov@mail.ru");
  CHECK(normalise_email("no-at-sign") == "");
  CHECK(normalise_phone("+7 912 345-67-89", "7") == "+79123456789");
  CHECK(normalise_phone("89123456789", "7") == "+79123456789");
  CHECK(normalise_phone("8 (912) 345 67 89", "7") == "+79123456789");
  CHECK(normalise_phone("9123456789", "7") == "+79123456789");
  CHECK(normalise_phone("+44 20 7946 0958", "7") == "+442079460958");
  CHECK(normalise_phone("123", "7") == "");
}
