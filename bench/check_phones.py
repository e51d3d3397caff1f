#!/usr/bin/env python3
"""Check that the reference job's simple phone rule agrees with libphonenumber
on every phone value of a generated customer CSV.

The C++ side of Conflux normalises phones with libphonenumber (default region
RU) while the peers use the simple rule from bench/README.md; the generator is
only correct if the two agree on every value it writes.  This uses the Python
port of libphonenumber (Debian: apt-get install -y python3-phonenumbers), so
run it with the interpreter that has it, e.g.

    /usr/bin/python3 bench/check_phones.py bench/.data/customers_100000.csv

Exit status 0 when every distinct phone value agrees, 1 otherwise.
"""

import csv
import re
import sys

TRIM_CHARS = " \t\n\v\f\r"
E164 = re.compile(r"\+[1-9][0-9]{9,14}")
NON_DIGIT = re.compile(r"[^0-9]")


def rule_phone(raw):
    """The reference job's phone rule (see bench/README.md); None = invalid."""
    p = raw.strip(TRIM_CHARS)
    d = NON_DIGIT.sub("", p)
    if p.startswith("+"):
        cand = "+" + d
    elif len(d) == 11 and d[0] in "78":
        cand = "+7" + d[1:]
    elif len(d) == 10 and d[0] == "9":
        cand = "+7" + d
    else:
        return None
    return cand if E164.fullmatch(cand) else None


def lib_phone(raw):
    import phonenumbers
    try:
        n = phonenumbers.parse(raw.strip(TRIM_CHARS), "RU")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(n):
        return None
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


def main(argv):
    if len(argv) != 2:
        print("usage: check_phones.py CUSTOMERS.csv", file=sys.stderr)
        return 2
    try:
        import phonenumbers  # noqa: F401
    except ImportError:
        print("check_phones: python 'phonenumbers' module missing "
              "(apt-get install -y python3-phonenumbers; run with /usr/bin/python3)",
              file=sys.stderr)
        return 2
    values = {}
    with open(argv[1], encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            values[row["phone"]] = values.get(row["phone"], 0) + 1
    bad = []
    valid = invalid = 0
    for raw, count in values.items():
        a, b = rule_phone(raw), lib_phone(raw)
        if a != b:
            bad.append((raw, a, b, count))
        elif a is None:
            invalid += count
        else:
            valid += count
    print("check_phones: %d distinct values; rows valid=%d invalid=%d; disagreements=%d"
          % (len(values), valid, invalid, len(bad)))
    for raw, a, b, count in bad[:20]:
        print("  %r: rule=%r libphonenumber=%r (%d rows)" % (raw, a, b, count))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
