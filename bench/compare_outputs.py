#!/usr/bin/env python3
"""Compare the JSONL outputs of the reference job peers.

usage: compare_outputs.py NAME=PATH NAME=PATH [NAME=PATH ...]
       (a bare PATH is named after its file name)

The first output is the baseline.  Each output is loaded as a multiset of
canonical JSON rows (parsed, then re-serialised with sorted keys), so
formatting differences (spacing, escaping of '/' or non-ASCII) do not matter
but any difference in values, null-vs-string, a missing/extra row or a
duplicated row does.  Besides that each row must have exactly the keys
id, first_name, last_name, email, phone, city, signup_date in this order.
Row order is also compared and reported, but only as a note (the job spec
asks for input order; the comparison asked of peers is set equality).

Exit status: 0 all equal, 1 some output differs, 2 usage / unreadable input.
"""

import collections
import json
import sys

KEYS = ["id", "first_name", "last_name", "email", "phone", "city", "signup_date"]
EXAMPLES = 5


def load(path):
    """Return (Counter of canonical rows, list of canonical rows in order, problems)."""
    rows = []
    problems = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                problems.append("line %d: not JSON (%s)" % (lineno, e))
                continue
            if not isinstance(obj, dict):
                problems.append("line %d: not a JSON object" % lineno)
                continue
            if list(obj.keys()) != KEYS:
                problems.append("line %d: keys %s (want %s)" % (lineno, list(obj.keys()), KEYS))
            for k in KEYS:
                v = obj.get(k)
                if k == "phone":
                    if v is not None and not isinstance(v, str):
                        problems.append("line %d: phone is %r (want string or null)" % (lineno, v))
                elif not isinstance(v, str):
                    problems.append("line %d: %s is %r (want string)" % (lineno, k, v))
            rows.append(json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    return collections.Counter(rows), rows, problems


def first_in_order(rows, diff, limit):
    """Up to `limit` rows of `diff` in file order."""
    out = []
    for r in rows:
        if r in diff:
            out.append(r)
            if len(out) >= limit:
                break
    return out


def show_examples(base_name, base_rows, only_base, name, other_rows, only_other):
    """Print a few differing rows; rows with the same email are shown field by field."""
    ex_base = first_in_order(base_rows, only_base, EXAMPLES)
    ex_other = first_in_order(other_rows, only_other, EXAMPLES)
    other_by_email = {}
    for r in other_rows:
        if r in only_other:
            other_by_email.setdefault(json.loads(r).get("email"), r)
    shown_other = set()
    for r in ex_base:
        b = json.loads(r)
        o = other_by_email.get(b.get("email"))
        if o is None:
            print("    only in %s: %s" % (base_name, r))
            continue
        shown_other.add(o)
        od = json.loads(o)
        fields = ", ".join("%s: %r vs %r" % (k, b.get(k), od.get(k))
                           for k in KEYS if b.get(k) != od.get(k))
        print("    email %r differs (%s vs %s): %s" % (b.get("email"), base_name, name, fields))
    for r in ex_other:
        if r not in shown_other:
            print("    only in %s: %s" % (name, r))


def main(argv):
    specs = argv[1:]
    if len(specs) < 1:
        print(__doc__, file=sys.stderr)
        return 2
    named = []
    for s in specs:
        name, sep, path = s.partition("=")
        if not sep:
            name, path = s.rsplit("/", 1)[-1], s
        named.append((name, path))

    ok = True
    base_name, base_path = named[0]
    try:
        base_set, base_rows, problems = load(base_path)
    except OSError as e:
        print("compare: cannot read %s: %s" % (base_path, e), file=sys.stderr)
        return 2
    print("compare: %s: %d rows (baseline)" % (base_name, len(base_rows)))
    if problems:
        ok = False
        print("  %s: %d format problems, e.g.:" % (base_name, len(problems)))
        for p in problems[:EXAMPLES]:
            print("    " + p)

    for name, path in named[1:]:
        try:
            other_set, other_rows, problems = load(path)
        except OSError as e:
            print("compare: cannot read %s: %s" % (path, e), file=sys.stderr)
            return 2
        only_base = base_set - other_set
        only_other = other_set - base_set
        n_base, n_other = sum(only_base.values()), sum(only_other.values())
        if n_base == 0 and n_other == 0:
            same_order = other_rows == base_rows
            print("compare: %s: %d rows, SAME as %s (order %s)"
                  % (name, len(other_rows), base_name,
                     "identical" if same_order else "DIFFERS (note only)"))
        else:
            ok = False
            print("compare: %s: %d rows, DIFFERS from %s: %d rows only in %s, %d rows only in %s"
                  % (name, len(other_rows), base_name, n_base, base_name, n_other, name))
            show_examples(base_name, base_rows, only_base, name, other_rows, only_other)
        if problems:
            ok = False
            print("  %s: %d format problems, e.g.:" % (name, len(problems)))
            for p in problems[:EXAMPLES]:
                print("    " + p)
        del other_set, other_rows
    print("compare: %s" % ("all outputs agree" if ok else "OUTPUTS DIFFER"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
