#!/usr/bin/env bash
# Reference job peer: Miller 6 (Debian package `miller`), mlr verbs only.
# usage: bench/peers/miller_job.sh INPUT.csv OUTPUT.jsonl
# Semantics: bench/README.md ("The reference job").
#
#   -S              no type inference: every field stays a string ("007" stays "007")
#   put             trim all fields, lower-case + validate e-mail, normalise phone
#   filter          drop rows whose e-mail is invalid
#   head -n 1 -g    keep the first row per e-mail (streaming, input order kept)
#   cut -o -f       fix the output key order
# shellcheck disable=SC1010,SC2016  # mlr "then" chains and DSL in single quotes
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: miller_job.sh INPUT.csv OUTPUT.jsonl" >&2
  exit 2
fi
in=$1
out=$2

mlr -S --icsv --ojsonl --ifs , \
  put '
    # trim set: space, \t, \n, \v, \f, \r.  Cheap test on the first/last
    # character first; the regex trim only runs on fields that need it.
    ws = {" ": 1, "\t": 1, "\n": 1, "\v": 1, "\f": 1, "\r": 1};
    for (k, v in $*) {
      n = strlen(v);
      if (n > 0 && (haskey(ws, substr1(v, 1, 1)) || haskey(ws, substr1(v, n, n)))) {
        $[k] = sub(sub(v, "^[ \t\n\v\f\r]+", ""), "[ \t\n\v\f\r]+$", "");
      }
    }
    # only printable ASCII is ever valid, so tolower() == ASCII lower-casing
    ascii = $email =~ "^[\x21-\x7e]+$";
    $email = tolower($email);
    $_ok = ascii && $email =~ "^[\x21-\x3f\x41-\x7e]+@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$";

    p = $phone;
    d = gsub(p, "[^0-9]", "");
    cand = "";
    if (p =~ "^[+]") {
      cand = "+" . d;
    } elif (strlen(d) == 11 && (substr1(d, 1, 1) == "7" || substr1(d, 1, 1) == "8")) {
      cand = "+7" . substr1(d, 2, 11);
    } elif (strlen(d) == 10 && substr1(d, 1, 1) == "9") {
      cand = "+7" . d;
    }
    if (cand =~ "^[+][1-9][0-9]{9,14}$") {
      $phone = cand;
    } else {
      $phone = json_parse("null");
    }
  ' \
  then filter '$_ok == true' \
  then head -n 1 -g email \
  then cut -o -f id,first_name,last_name,email,phone,city,signup_date \
  "$in" > "$out"
