#!/usr/bin/python3
"""Reference job peer: pandas (Debian python3-pandas).

usage: /usr/bin/python3 bench/peers/pandas_job.py INPUT.csv OUTPUT.jsonl
Semantics: bench/README.md ("The reference job").
"""

import sys

import pandas as pd

COLS = ["id", "first_name", "last_name", "email", "phone", "city", "signup_date"]
# trim set: space, \t, \n, \v, \f, \r
TRIM_RE = r"^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$"
EMAIL_RE = r"[\x21-\x3f\x41-\x7e]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}"
E164_RE = r"\+[1-9][0-9]{9,14}"


def main(argv):
    if len(argv) != 3:
        print("usage: pandas_job.py INPUT.csv OUTPUT.jsonl", file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]

    # Everything as str; no NA inference ("NA", "null", "" stay strings).
    df = pd.read_csv(src, dtype=str, keep_default_na=False, na_filter=False,
                     encoding="utf-8", sep=",", quotechar='"', doublequote=True,
                     usecols=COLS)[COLS]

    for c in COLS:
        df[c] = df[c].str.replace(TRIM_RE, "", regex=True)

    # Only printable ASCII is ever valid, so str.lower() == ASCII lower-casing
    # on every row that survives.
    ascii_ok = df["email"].str.fullmatch(r"[\x21-\x7e]+")
    df["email"] = df["email"].str.lower()
    df = df[ascii_ok & df["email"].str.fullmatch(EMAIL_RE)]

    # keep the first row (input order) of every e-mail
    df = df.drop_duplicates(subset="email", keep="first")

    p = df["phone"]
    d = p.str.replace(r"[^0-9]", "", regex=True)
    cand = pd.Series(None, index=df.index, dtype=object)
    plus = p.str.startswith("+")
    ru11 = ~plus & (d.str.len() == 11) & d.str[:1].isin(["7", "8"])
    ru10 = ~plus & (d.str.len() == 10) & (d.str[:1] == "9")
    cand[plus] = "+" + d[plus]
    cand[ru11] = "+7" + d[ru11].str[1:]
    cand[ru10] = "+7" + d[ru10]
    ok = cand.notna() & cand.fillna("").str.fullmatch(E164_RE)
    df["phone"] = cand.where(ok, None)

    df.to_json(dst, orient="records", lines=True, force_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
