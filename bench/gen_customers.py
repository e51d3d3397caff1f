#!/usr/bin/env python3
"""Generate the noisy customer CSV used by the Conflux reference job benchmark.

Standard library only, deterministic for a given --seed and --rows, and
streaming: rows are written as they are produced, so memory stays small
(only a bounded pool of earlier people is kept to draw duplicates from).

Columns: id,first_name,last_name,email,phone,city,signup_date

Noise (approximate shares of all rows):
  * ~20%  email with random ASCII case and leading/trailing blanks
          (spaces, sometimes a tab);
  * ~1%   syntactically invalid email (missing '@', '@@', space inside the
          local part, trailing dot, empty label, one-letter TLD, ...);
  * ~5%   duplicate of an earlier person's email, re-cased/re-spaced, with the
          same phone number possibly written in another format;
  * ~0.5% junk phone that both the simple rule and libphonenumber reject
          ("12345", "abc", "+7 912", empty, ...);
  * ~3%   names/cities with stray blanks around them; a city that needs CSV
          quoting ("Washington, D.C.").

Phones are only ever VALID numbers (as judged by libphonenumber) in these
formats, with default region RU for the national ones:
  RU  +7 912 345-67-89 | 8 (912) 345-67-89 | 89123456789 | +79123456789 |
      8-912-345-67-89 | +7 (912) 345 67 89
  US  +1 212-234-5678 | +1 (212) 234-5678 | +12122345678 | +1.212.234.5678 |
      +1 212 234 5678            (area 212/415/646/718/312/617, exchange
                                  [2-9]xx excluding N11 and 555)
  UK  +44 20 7946 0958 | +442079460958 | +44 (20) 7946 0958
                                 (London 20 followed by 3/7/8 + 7 digits)
  DE  +49 30 12345678 | +493012345678 | +49 (30) 1234 5678 | +49 30 1234-5678
                                 (Berlin 30 + 8 digits, first one 1-9)
so the benchmark's simple normalisation rule and libphonenumber agree on every
generated value (see check_phones.py).
"""

import argparse
import csv
import datetime
import os
import random
import sys

# (cyrillic, latin transliteration used in e-mails)
RU_FIRST = [
    ("Иван", "ivan"), ("Анна", "anna"), ("Дмитрий", "dmitry"), ("Мария", "maria"),
    ("Сергей", "sergey"), ("Ольга", "olga"), ("Алексей", "alexey"), ("Елена", "elena"),
    ("Андрей", "andrey"), ("Наталья", "natalya"), ("Михаил", "mikhail"), ("Татьяна", "tatyana"),
    ("Николай", "nikolay"), ("Ксения", "ksenia"), ("Павел", "pavel"), ("Юлия", "yulia"),
]
RU_LAST = [
    ("Иванов", "ivanov"), ("Петрова", "petrova"), ("Смирнов", "smirnov"), ("Кузнецова", "kuznetsova"),
    ("Попов", "popov"), ("Васильева", "vasilyeva"), ("Соколов", "sokolov"), ("Михайлова", "mikhailova"),
    ("Новиков", "novikov"), ("Фёдорова", "fedorova"), ("Морозов", "morozov"), ("Волкова", "volkova"),
    ("Лебедев", "lebedev"), ("Козлова", "kozlova"), ("Орлов", "orlov"), ("Зайцева", "zaytseva"),
]
EN_FIRST = [
    "John", "Mary", "James", "Emma", "Robert", "Olivia", "Michael", "Sophia",
    "William", "Isabella", "David", "Charlotte", "Thomas", "Amelia", "Daniel", "Grace",
    "Hans", "Greta", "Lukas", "Anna-Lena",
]
EN_LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
    "Taylor", "Clark", "O'Brien", "Walker", "Wright", "Müller", "Schmidt", "Schneider",
    "Fischer", "Weber", "Evans", "Hughes",
]
CITIES = {
    "RU": ["Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург",
           "Нижний Новгород", "Самара", "Ростов-на-Дону"],
    "US": ["New York", "San Francisco", "Chicago", "Boston", "Washington, D.C.", "Seattle"],
    "UK": ["London", "Manchester", "Edinburgh", "Bristol"],
    "DE": ["Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main"],
}
DOMAINS = {
    "RU": ["yandex.ru", "mail.ru", "gmail.com", "bk.ru", "rambler.ru", "company-name.ru"],
    "US": ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "acme-corp.com"],
    "UK": ["gmail.com", "btinternet.com", "example.co.uk", "outlook.com"],
    "DE": ["gmail.com", "web.de", "t-online.de", "gmx.de", "firma-beispiel.de"],
}
COUNTRY_WEIGHTS = [("RU", 55), ("US", 25), ("UK", 10), ("DE", 10)]

RU_MOBILE_CODES = ["912", "915", "916", "925", "926", "977", "985", "903", "905", "909", "999"]
US_AREA_CODES = ["212", "415", "646", "718", "312", "617"]
UK_LONDON_FIRST = "378"  # 020 3xxx xxxx, 020 7xxx xxxx, 020 8xxx xxxx

JUNK_PHONES = ["12345", "abc", "+7 912", "", "n/a", "000", "tel", "--", "1-2-3", "x"]

DATE_START = datetime.date(2015, 1, 1).toordinal()
DATE_SPAN = datetime.date(2024, 12, 31).toordinal() - DATE_START + 1

DUP_POOL_SIZE = 50000  # bounded pool of earlier people to duplicate


def weighted_country(rng):
    r = rng.randrange(100)
    acc = 0
    for c, w in COUNTRY_WEIGHTS:
        acc += w
        if r < acc:
            return c
    return "RU"


def digits(rng, n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def new_phone_number(rng, country):
    """Return (country, national significant number) of a valid number."""
    if country == "RU":
        return country, rng.choice(RU_MOBILE_CODES) + digits(rng, 7)
    if country == "US":
        while True:
            exch = rng.choice("23456789") + digits(rng, 2)
            if exch[1:] != "11" and exch != "555":
                break
        return country, rng.choice(US_AREA_CODES) + exch + digits(rng, 4)
    if country == "UK":
        return country, "20" + rng.choice(UK_LONDON_FIRST) + digits(rng, 7)
    # DE: Berlin
    return country, "30" + rng.choice("123456789") + digits(rng, 7)


def format_phone(rng, country, nsn):
    """Write a valid number in one of the supported notations."""
    if country == "RU":
        a, b, c, d = nsn[:3], nsn[3:6], nsn[6:8], nsn[8:]
        return rng.choice([
            "+7 %s %s-%s-%s" % (a, b, c, d),
            "8 (%s) %s-%s-%s" % (a, b, c, d),
            "8" + nsn,
            "+7" + nsn,
            "8-%s-%s-%s-%s" % (a, b, c, d),
            "+7 (%s) %s %s %s" % (a, b, c, d),
        ])
    if country == "US":
        a, b, c = nsn[:3], nsn[3:6], nsn[6:]
        return rng.choice([
            "+1 %s-%s-%s" % (a, b, c),
            "+1 (%s) %s-%s" % (a, b, c),
            "+1" + nsn,
            "+1.%s.%s.%s" % (a, b, c),
            "+1 %s %s %s" % (a, b, c),
        ])
    if country == "UK":
        a, b, c = nsn[:2], nsn[2:6], nsn[6:]
        return rng.choice([
            "+44 %s %s %s" % (a, b, c),
            "+44" + nsn,
            "+44 (%s) %s %s" % (a, b, c),
        ])
    a, b = nsn[:2], nsn[2:]
    return rng.choice([
        "+49 %s %s" % (a, b),
        "+49" + nsn,
        "+49 (%s) %s %s" % (a, b[:4], b[4:]),
        "+49 %s %s-%s" % (a, b[:4], b[4:]),
    ])


def random_case(rng, s):
    return "".join(ch.upper() if ch.isascii() and ch.isalpha() and rng.random() < 0.5 else ch
                   for ch in s)


def blanks(rng):
    return rng.choice([" ", "  ", "   ", "\t", " \t"])


def pad(rng, s):
    """Leading and/or trailing blanks."""
    r = rng.randrange(3)
    if r == 0:
        return blanks(rng) + s
    if r == 1:
        return s + blanks(rng)
    return blanks(rng) + s + blanks(rng)


def messy_email(rng, email):
    """Random case plus leading/trailing blanks (still valid after trim+lower)."""
    return pad(rng, random_case(rng, email))


def invalid_email(rng, local, domain):
    kind = rng.randrange(10)
    if kind == 0:
        return local + domain                      # missing '@'
    if kind == 1:
        return local + "@@" + domain               # double '@'
    if kind == 2:
        i = max(1, len(local) // 2)
        return local[:i] + " " + local[i:] + "@" + domain   # space inside local part
    if kind == 3:
        return local + "@" + domain + "."          # trailing dot -> empty label
    if kind == 4:
        return local + "@" + domain.split(".")[0]  # no dot in domain
    if kind == 5:
        return local + "@" + domain.replace(".", "..", 1)   # empty label
    if kind == 6:
        return "@" + domain                        # empty local part
    if kind == 7:
        return local + "@-" + domain               # label starts with '-'
    if kind == 8:
        return local + "@" + domain.rsplit(".", 1)[0] + ".r"  # 1-letter TLD
    return local + "@" + domain.replace(".", "_", 1)  # '_' not allowed in labels


def make_person(rng, n):
    country = weighted_country(rng)
    if country == "RU":
        (first, first_l), (last, last_l) = rng.choice(RU_FIRST), rng.choice(RU_LAST)
    else:
        first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
        first_l = "".join(ch for ch in first.lower() if "a" <= ch <= "z")
        last_l = "".join(ch for ch in last.lower()
                         .replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
                         if "a" <= ch <= "z")
    # n is unique per person and the prefix never ends in a digit -> unique e-mail
    pattern = rng.randrange(5)
    if pattern == 0:
        local = "%s.%s%d" % (first_l, last_l, n)
    elif pattern == 1:
        local = "%s%s%d" % (first_l[0], last_l, n)
    elif pattern == 2:
        local = "%s_%s%d" % (last_l, first_l, n)
    elif pattern == 3:
        local = "%s%d" % (first_l, n)
    else:
        local = "%s.%s+news%d" % (first_l, last_l, n)
    domain = rng.choice(DOMAINS[country])
    return {
        "country": country,
        "first": first,
        "last": last,
        "local": local,
        "domain": domain,
        "email": local + "@" + domain,
        "phone": new_phone_number(rng, country),
    }


def random_date(rng):
    return datetime.date.fromordinal(DATE_START + rng.randrange(DATE_SPAN)).isoformat()


def maybe_pad(rng, s, p=0.03):
    return pad(rng, s) if rng.random() < p else s


def generate(rows, seed, out):
    rng = random.Random(seed)
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["id", "first_name", "last_name", "email", "phone", "city", "signup_date"])
    pool = []        # earlier people with a valid e-mail (bounded)
    seen = 0         # people offered to the pool (for reservoir sampling)
    n_people = 0
    for i in range(1, rows + 1):
        r = rng.random()
        if pool and r < 0.05:
            # duplicate of an earlier person's e-mail
            p = rng.choice(pool)
            email = messy_email(rng, p["email"]) if rng.random() < 0.8 else p["email"].upper()
            country, nsn = p["phone"]
            if rng.random() < 0.2:
                country, nsn = new_phone_number(rng, country)   # changed number
            phone = format_phone(rng, country, nsn)
            first, last, country_city = p["first"], p["last"], p["country"]
        else:
            n_people += 1
            p = make_person(rng, n_people)
            first, last, country_city = p["first"], p["last"], p["country"]
            r2 = rng.random()
            if r2 < 0.01:
                email = invalid_email(rng, p["local"], p["domain"])
                if rng.random() < 0.3:
                    email = messy_email(rng, email)
            else:
                email = messy_email(rng, p["email"]) if r2 < 0.21 else p["email"]
                # reservoir-sample into the bounded duplicate pool
                seen += 1
                if len(pool) < DUP_POOL_SIZE:
                    pool.append(p)
                else:
                    j = rng.randrange(seen)
                    if j < DUP_POOL_SIZE:
                        pool[j] = p
            phone = format_phone(rng, *p["phone"])
        if rng.random() < 0.005:
            phone = rng.choice(JUNK_PHONES)
        elif rng.random() < 0.02:
            phone = pad(rng, phone)
        city = rng.choice(CITIES[country_city])
        w.writerow([
            str(i) if rng.random() >= 0.01 else pad(rng, str(i)),
            maybe_pad(rng, first),
            maybe_pad(rng, last),
            email,
            phone,
            maybe_pad(rng, city),
            maybe_pad(rng, random_date(rng), 0.01),
        ])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", "-n", type=int, default=1_000_000, help="rows to write (default 1000000)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ap.add_argument("--out", "-o", default="-", help="output CSV path (default stdout)")
    args = ap.parse_args(argv)
    if args.rows < 0:
        ap.error("--rows must be >= 0")
    if args.out == "-":
        sys.stdout.reconfigure(encoding="utf-8", newline="")
        generate(args.rows, args.seed, sys.stdout)
    else:
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            generate(args.rows, args.seed, f)
        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
