// E-mail address normalisation and the syntax rule of the email stage, shared with identity matching. Pure
// functions: thread-safe, no allocation beyond the returned string.
#pragma once

#include <string>
#include <string_view>

namespace conflux::transforms {

// Trims ASCII white space (space, \t, \n, \v, \f, \r) and lower-cases ASCII letters; other bytes are kept.
std::string normalize_email(std::string_view raw);

// The syntax rule applied to a normalised address (the benchmark peers apply the same one): exactly one '@'; a
// non-empty local part of printable ASCII without spaces; a domain of at least two '.'-separated labels, none empty,
// each of [a-z0-9-] not starting or ending with '-'; a top-level label of at least two letters. Non-ASCII addresses
// (internationalised mailboxes) are rejected.
bool is_valid_email(std::string_view normalized);

// The provider's canonical mailbox of a valid, normalised address, for matching people across sources:
//  - gmail.com, googlemail.com: dots and a "+tag" removed from the local part, domain gmail.com;
//  - outlook.com, hotmail.com, live.com, msn.com, yandex.ru/.com/.by/.kz/.ua, ya.ru, icloud.com, me.com, mac.com,
//    fastmail.com, fastmail.fm: "+tag" removed (these providers deliver plus-addressed mail to the base mailbox);
//  - anything else: unchanged. Yandex's dot/hyphen equivalence and domain aliases are deliberately not applied.
std::string canonical_email(std::string_view normalized);

}  // namespace conflux::transforms
