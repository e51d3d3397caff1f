#!/usr/bin/env bash
# Crash safety, proven: SIGKILL a run over 100,000 records at random points, many times, rerunning each time; at the
# end the local CRM holds every valid record exactly once and every invalid one is dead-lettered exactly once.
# CONFLUX_CRASH_ROUNDS (default 12) sets how many kills.
source "$(dirname "$0")/lib.sh"
ROUNDS=${CONFLUX_CRASH_ROUNDS:-16}
ROWS=100000

# 100,000 rows: unique e-mails, every 50th invalid (dead-lettered by the email stage), every 997th ragged (dead-
# lettered by the CSV source). Expected outcomes are written beside the input.
python3 - "$ROWS" <<'PY'
import csv, sys
rows = int(sys.argv[1])
valid, invalid_email, ragged = [], [], []
with open("input.csv", "w", newline="") as f:
    f.write("id,name,email,phone\n")
    for i in range(1, rows + 1):
        line = i + 1  # physical line: the header is line 1
        if i % 997 == 0:
            f.write(f"{i},ragged row {i}\n")
            ragged.append(line)
            continue
        email = f"person{i}@example.com" if i % 50 else f"person{i}@@broken"
        f.write(f"{i},Person {i}, {email.upper() if i % 3 == 0 else email} ,+7 912 {i % 1000:03d}-{(i // 1000) % 100:02d}-{i % 100:02d}\n")
        (valid if i % 50 else invalid_email).append(email if i % 50 else line)
open("expected_valid.txt", "w").write("\n".join(sorted(valid)) + "\n")
open("expected_dead_positions.txt", "w").write("\n".join(str(x) for x in sorted(invalid_email + ragged)) + "\n")
print(len(valid), len(invalid_email), len(ragged))
PY

cat >crash.yaml <<'YAML'
version: 1
pipeline: crash
state: {path: state.db}
settings: {batch_size: 500}
sources:
  - name: people
    plugin: csv
    config: {path: input.csv}
stages:
  - name: tidy
    type: clean
    trim: true
  - name: email
    type: email
    field: email
    on_invalid: dead_letter
sink:
  name: crm
  type: local_crm
  config: {path: crm.db, entity: contact, match_key: email}
YAML

# How long an uninterrupted run takes here, measured on a scratch copy, so kill points spread over a whole run.
sed -e 's#state.db#scratch-state.db#' -e 's#crm.db#scratch-crm.db#' crash.yaml >scratch.yaml
start=$(date +%s.%N)
"$CONFLUX_BIN" run scratch.yaml --progress never >/dev/null 2>&1 || fail "uninterrupted run failed"
full=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")
echo "an uninterrupted run takes ${full}s"

# Invariants after a run that completed: every valid record exactly once in the CRM, every invalid one exactly once
# in the dead letters.
verify() {
  sqlite3 crm.db "select json_extract(data, '\$.email') from contacts order by 1" >crm_emails.txt
  expect_eq "$(wc -l <crm_emails.txt)" "$(wc -l <expected_valid.txt)" "CRM row count"
  diff -q crm_emails.txt expected_valid.txt >/dev/null ||
    fail "CRM e-mails differ from the valid input: $(diff crm_emails.txt expected_valid.txt | head -5)"
  pass
  expect_eq "$(sqlite3 crm.db 'select count(*) - count(distinct profile_key) from contacts')" "0" "duplicate CRM rows"
  sqlite3 state.db "select position from dead_letters order by position" >dead_positions.txt
  diff -q dead_positions.txt expected_dead_positions.txt >/dev/null ||
    fail "dead letters differ from the invalid input: $(diff dead_positions.txt expected_dead_positions.txt | head -5)"
  pass
}

# Cycles of: start a run, SIGKILL it at a random point, start again from what it committed, ... until a run
# completes; then verify and start the next cycle from scratch. Kill points are drawn from the first quarter of an
# uninterrupted run (narrowed whenever a run outpaces it), so they land in start-up, reading, CRM writes and commits.
kills=0
cycles=0
window=$(python3 -c "import sys; print(max(0.05, float(sys.argv[1]) / 4))" "$full")
while [ "$kills" -lt "$ROUNDS" ] && [ "$cycles" -lt 20 ]; do
  cycles=$((cycles + 1))
  rm -f state.db* crm.db*
  for attempt in $(seq 1 50); do
    "$CONFLUX_BIN" run crash.yaml --progress never >>runs.log 2>&1 &
    pid=$!
    BACKGROUND_PIDS=("$pid")
    sleep "$(python3 -c "import random, sys; print(round(random.uniform(0.01, float(sys.argv[1])), 3))" "$window")"
    if kill -9 "$pid" 2>/dev/null; then
      kills=$((kills + 1))
      wait "$pid" 2>/dev/null || true
      continue
    fi
    wait "$pid" || fail "run failed: $(tail -5 runs.log)"
    # The run finished before its kill: draw later cycles' kill points from a narrower window.
    window=$(python3 -c "import sys; print(max(0.03, float(sys.argv[1]) / 2))" "$window")
    break
  done
  # Whatever the kills left, a final run completes it.
  run_conflux run crash.yaml --progress never --json
  expect_code 0
  [ "$(summary_field balanced)" == "True" ] || fail "summary does not balance: $OUT"
  verify
  echo "cycle $cycles: $kills kills so far"
done
[ "$kills" -ge "$ROUNDS" ] || fail "only $kills runs were killed mid-flight in $cycles cycles: the test proves too little"
pass

# A rerun with nothing new reads nothing and changes nothing.
run_conflux run crash.yaml --progress never --json
expect_code 0
expect_eq "$(summary_field in)" "0" "records read by a rerun after completion"
done_ok
