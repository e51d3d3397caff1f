// Name and text normalisation across scripts: ICU transliteration into ASCII, a fold of the usual romanisation
// variants, and a small table of nicknames and diminutives (English and Russian).
#include <memory>
#include <unordered_map>
#include <vector>

#include <unicode/translit.h>
#include <unicode/unistr.h>

#include "conflux/identity/comparators.hpp"

namespace conflux::identity {

namespace {

bool is_plain_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// One transliterator per thread: ICU transliterators are not safe to share between threads. Russian-Latin/BGN
// first because its romanisation ("Юлия" -> "Yuliya", "Алексей" -> "Aleksey") is the one people type in Latin
// forms, unlike Any-Latin's ISO 9 ("Ûliâ"); Any-Latin then covers every other script.
icu::Transliterator* ascii_transliterator() {
  thread_local std::unique_ptr<icu::Transliterator> instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
        "Russian-Latin/BGN; Any-Latin; Latin-ASCII", UTRANS_FORWARD, status));
    if (U_FAILURE(status)) t.reset();
    return t;
  }();
  return instance.get();
}

std::string to_ascii(std::string_view text) {
  if (is_plain_ascii(text)) return std::string(text);
  icu::UnicodeString unicode = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  if (icu::Transliterator* t = ascii_transliterator()) t->transliterate(unicode);
  std::string out;
  unicode.toUTF8String(out);
  return out;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string normalise_name(std::string_view text) {
  const std::string ascii = to_ascii(text);
  std::string out;
  out.reserve(ascii.size());
  for (char c : ascii) {
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'z') out += c;
  }
  return out;
}

std::string normalise_text(std::string_view text) {
  const std::string ascii = to_ascii(text);
  std::string out;
  out.reserve(ascii.size());
  bool pending_space = false;
  for (char c : ascii) {
    c = ascii_lower(c);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      if (pending_space && !out.empty()) out += ' ';
      pending_space = false;
      out += c;
    } else {
      pending_space = true;
    }
  }
  return out;
}

std::string name_key(std::string_view n) {
  std::string out;
  out.reserve(n.size() + 4);
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const char next = i + 1 < n.size() ? n[i + 1] : '\0';
    if ((c == 'y' || c == 'j') && (next == 'e' || next == 'o') && (i == 0 || out.empty() || out.back() == 'a' ||
                                                                   out.back() == 'e' || out.back() == 'o')) {
      continue;  // "ye"/"yo" at a vowel boundary reads as e: yekaterina, fyodor -> handled below, yelena
    }
    if (c == 'y' && next == 'o') {  // fyodor, pyotr: BGN writes e for ё, English spellings yo
      out += 'e';
      ++i;
      continue;
    }
    if (c == 'x') {
      out += "ks";
    } else if (c == 'k' && next == 'h') {
      out += 'h';
      ++i;
    } else if (c == 'p' && next == 'h') {
      out += 'f';
      ++i;
    } else if (c == 'c' && next == 'k') {
      out += 'k';
      ++i;
    } else if (c == 'w') {
      out += 'v';
    } else if (c == 'y' || c == 'j') {
      out += 'i';
    } else {
      out += c;
    }
  }
  // Doubled letters collapse: "nataliia" / "natalia", "anna" / "ana" are one key.
  std::string folded;
  folded.reserve(out.size());
  for (char c : out) {
    if (folded.empty() || folded.back() != c) folded += c;
  }
  return folded;
}

namespace {

// canonical form first, then its nicknames, diminutives and foreign forms. Written as people spell them; the table
// is stored in name_key form.
const std::vector<std::vector<const char*>>& nickname_groups() {
  static const std::vector<std::vector<const char*>> kGroups = {
      {"robert", "rob", "bob", "bobby", "robbie", "bert"},
      {"william", "will", "bill", "billy", "willy", "liam"},
      {"richard", "rick", "ricky", "dick", "rich"},
      {"james", "jim", "jimmy", "jamie"},
      {"john", "johnny", "jack", "jon"},
      {"jonathan", "jonny"},
      {"michael", "mike", "mick", "mickey", "mikhail", "misha"},
      {"elizabeth", "liz", "lizzie", "beth", "betty", "eliza", "elisabeth"},
      {"katherine", "kate", "katie", "kathy", "cathy", "catherine", "kathryn", "kat"},
      {"margaret", "maggie", "meg", "peggy", "marge"},
      {"thomas", "tom", "tommy"},
      {"christopher", "chris", "kristopher"},
      {"christine", "chrissy", "christina", "kristina", "kristine"},
      {"daniel", "dan", "danny"},
      {"david", "dave", "davey"},
      {"joseph", "joe", "joey"},
      {"edward", "ed", "eddie", "ted", "ned"},
      {"anthony", "tony", "antony"},
      {"aleksandr", "alexander", "alex", "sasha", "sanya", "shura", "alexandre", "alec", "sandy"},
      {"aleksandra", "alexandra", "sandra", "lexi"},
      {"jennifer", "jen", "jenny"},
      {"susan", "sue", "susie", "suzanne"},
      {"patricia", "pat", "patty", "trish", "tricia"},
      {"rebecca", "becky", "becca"},
      {"samuel", "sam", "sammy"},
      {"benjamin", "ben", "benny"},
      {"matthew", "matt", "matvey"},
      {"nicholas", "nick", "nicky", "nikolay", "nikolai", "kolya"},
      {"andrew", "andy", "drew", "andrey", "andrei", "andryusha"},
      {"stephen", "steve", "steven", "stepan"},
      {"charles", "charlie", "chuck"},
      {"henry", "harry", "hank"},
      {"timothy", "tim", "timmy"},
      {"gregory", "greg", "grigoriy", "grigory", "grisha"},
      {"peter", "pete", "pyotr", "petr", "petya"},
      {"victoria", "vicky", "tori", "viktoriya", "vika"},
      {"deborah", "debbie", "deb", "debra"},
      {"jessica", "jess", "jessie"},
      {"abigail", "abby", "abbie"},
      {"frederick", "fred", "freddie"},
      {"lawrence", "larry", "laurence"},
      {"ronald", "ron", "ronnie"},
      {"donald", "don", "donnie"},
      {"kenneth", "ken", "kenny"},
      {"gerald", "gerry", "jerry"},
      {"leonard", "len", "lenny", "leo"},
      {"oliver", "ollie"},
      {"dmitriy", "dmitry", "dmitri", "dima", "mitya"},
      {"sergey", "sergei", "seryozha", "serezha"},
      {"vladimir", "vova", "volodya"},
      {"aleksey", "alexey", "alexei", "aleksei", "alyosha", "lesha", "lyosha"},
      {"ivan", "vanya"},
      {"evgeniy", "yevgeny", "yevgeniy", "eugene", "zhenya", "evgeny"},
      {"anastasiya", "anastasia", "nastya"},
      {"mariya", "maria", "masha", "mary", "marie"},
      {"natalya", "natalia", "natasha", "natalie"},
      {"olga", "olya"},
      {"tatyana", "tatiana", "tanya"},
      {"elena", "yelena", "lena", "helen", "helena"},
      {"irina", "ira"},
      {"yuliya", "yulia", "julia", "yulya", "julie"},
      {"svetlana", "sveta"},
      {"anna", "anya", "ann", "anne", "annie"},
      {"ekaterina", "yekaterina", "katya", "katerina"},
      {"pavel", "pasha", "paul"},
      {"konstantin", "kostya"},
      {"viktor", "victor", "vitya"},
      {"yuriy", "yury", "yuri", "yura"},
      {"maksim", "maxim", "max", "maks"},
      {"boris", "borya"},
      {"lyudmila", "ludmila", "lyuda", "mila"},
      {"galina", "galya"},
      {"nadezhda", "nadya"},
      {"lyubov", "lyuba"},
      {"kseniya", "ksenia", "ksyusha", "xenia"},
      {"darya", "daria", "dasha"},
      {"sofiya", "sofia", "sophia", "sonya", "sophie"},
      {"valentina", "valya"},
      {"anton", "tosha"},
  };
  return kGroups;
}

const std::unordered_map<std::string, std::string>& nickname_table() {
  static const std::unordered_map<std::string, std::string> kTable = [] {
    std::unordered_map<std::string, std::string> table;
    for (const auto& group : nickname_groups()) {
      const std::string canonical = name_key(group.front());
      for (const char* name : group) table.emplace(name_key(name), canonical);  // first group wins on a repeat
    }
    return table;
  }();
  return kTable;
}

}  // namespace

std::string_view canonical_name(std::string_view key) {
  const auto& table = nickname_table();
  auto it = table.find(std::string(key));
  return it == table.end() ? key : std::string_view(it->second);
}

}  // namespace conflux::identity
