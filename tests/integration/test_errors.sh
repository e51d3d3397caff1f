#!/usr/bin/env bash
# Bad input and bad environments give a message a user can act on, a non-zero exit, and lose nothing.
source "$(dirname "$0")/lib.sh"

printf 'email,name\na@example.com,A\nb@example.com,B\nbad@@x,C\n' >people.csv
pipeline() {  # pipeline FILE STATE_PATH INPUT
  cat >"$1" <<YAML
version: 1
pipeline: errors
state: {path: $2}
sources:
  - name: people
    plugin: csv
    config: {path: $3}
stages:
  - {name: email, type: email, field: email}
sink: {name: crm, type: local_crm, config: {path: crm.db}}
YAML
}

# A missing input file.
pipeline missing.yaml state.db nowhere.csv
run_conflux run missing.yaml
[ "$CODE" -ne 0 ] || fail "a missing input file must fail the run"
expect_err "nowhere.csv"
expect_err "No such file or directory"

# A corrupt state database.
printf 'this is not a database at all, just text padding to exceed the sqlite header size............' >corrupt.db
pipeline corrupt.yaml corrupt.db people.csv
run_conflux run corrupt.yaml
expect_code 1
expect_err "corrupt.db"
expect_err "corrupt or not a Conflux state database"

# A state database locked by another process: a clear message after the busy timeout, not a hang.
pipeline locked.yaml locked.db people.csv
run_conflux run locked.yaml
expect_code 0
(echo "BEGIN EXCLUSIVE; UPDATE cursors SET cursor = cursor;"; sleep 30) | sqlite3 locked.db &
BACKGROUND_PIDS+=($!)
# Wait until the lock is really held (a fixed sleep flakes on a loaded machine): a write from here must fail.
for _ in $(seq 1 100); do
  sqlite3 -cmd ".timeout 0" locked.db "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1 || break
  sleep 0.1
done
run_conflux state reset locked.yaml
expect_code 1
expect_err "locked by another process"
kill -9 "${BACKGROUND_PIDS[@]}" 2>/dev/null || true
pkill -f "sqlite3 locked.db" 2>/dev/null || true

# A full disk while writing dead letters: a clear error, a non-zero exit, and after space is freed a rerun stores
# every dead letter exactly once. Needs a small tmpfs (root); skipped where mounting is not allowed.
mkdir -p small
if mount -t tmpfs -o size=1m tmpfs small 2>/dev/null; then
  trap 'umount -l "$WORK/small" 2>/dev/null || true; cleanup' EXIT
  python3 - <<'PY'
with open("many.csv", "w") as f:
    f.write("email,name\n")
    for i in range(3000):
        f.write(f"bad{i}@@broken-address-{'x' * 40},Person {i}\n" if i % 2 else f"ok{i}@example.com,Person {i}\n")
PY
  pipeline full.yaml small/state.db many.csv
  run_conflux state show full.yaml  # creates the state database while there is room
  expect_code 0
  # Leave ~24 KiB: enough to record the run's start, not the first batch's 500 dead letters.
  avail_kb=$(df -k small | awk 'NR == 2 {print $4}')
  dd if=/dev/zero of=small/filler bs=1k count=$((avail_kb - 24)) 2>/dev/null || true
  run_conflux run full.yaml
  expect_code 1
  expect_err "disk full"
  expect_err "small/state.db"
  rm -f small/filler
  run_conflux run full.yaml --json
  expect_code 0
  expect_eq "$(sqlite3 small/state.db 'select count(*) from dead_letters')" "1500" "dead letters after the disk was freed"
  expect_eq "$(sqlite3 crm.db 'select count(*) from contacts')" "1502" "contacts (1500 + the 2 from people.csv)"
  umount -l small
else
  echo "SKIP: full-disk check needs a tmpfs mount"
fi
done_ok
