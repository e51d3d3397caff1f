# Shared helpers for integration tests. Each test sources this, works in its own temp directory (removed on exit,
# with any process it started), and exits non-zero on the first failed check.
set -euo pipefail

: "${CONFLUX_BIN:?set by CTest}"
: "${CONFLUX_SOURCE_DIR:?set by CTest}"
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/conflux-${TEST_NAME}.XXXXXX")
BACKGROUND_PIDS=()
cleanup() {
  for pid in "${BACKGROUND_PIDS[@]:-}"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
export CONFLUX_LOG_LEVEL=${CONFLUX_LOG_LEVEL:-warn}

CHECKS=0
fail() { echo "FAIL [$TEST_NAME]: $*" >&2; exit 1; }
pass() { CHECKS=$((CHECKS + 1)); }
# run_conflux ARGS...: runs the binary, capturing stdout in $OUT, stderr in $ERR and the exit code in $CODE.
run_conflux() {
  set +e
  "$CONFLUX_BIN" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
  CODE=$?
  set -e
  OUT=$(cat "$WORK/out.txt")
  ERR=$(cat "$WORK/err.txt")
}
expect_code() { [ "$CODE" -eq "$1" ] || fail "expected exit $1, got $CODE; stdout: $OUT; stderr: $ERR"; pass; }
expect_out() { grep -qF -- "$1" <<<"$OUT" || fail "stdout lacks '$1'; stdout: $OUT; stderr: $ERR"; pass; }
expect_err() { grep -qF -- "$1" <<<"$ERR" || fail "stderr lacks '$1'; stderr: $ERR"; pass; }
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; pass; }
# summary_field NAME: a number from the last `run --json` summary in $OUT.
summary_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1" <<<"$OUT"; }
# sink_field NAME: a counter of the sink's stage summary in the last `run --json` output.
sink_field() {
  python3 -c 'import json,sys; print([s for s in json.loads(sys.stdin.read())["stages"] if s["role"] == "sink"][0][sys.argv[1]])' "$1" <<<"$OUT"
}
done_ok() { echo "$TEST_NAME: $CHECKS checks passed"; }
# start_fake_server DIALECT NAME JSON: starts conflux-fake-server with that dialect and data, sets <NAME>_BASE to its
# URL; lib.sh's trap stops it.
start_fake_server() {
  local fake="${CONFLUX_BUILD_DIR:?set by CTest}/tests/support/fake_server/conflux-fake-server" port
  [ -x "$fake" ] || fail "conflux-fake-server not built at $fake"
  echo "$3" >"$2.json"
  "$fake" --dialect "$1" --data "$2.json" >"$2.port" 2>"$2.err" &
  BACKGROUND_PIDS+=($!)
  disown $!  # stopped by pid in cleanup; no "Killed" job notice then
  for _ in $(seq 100); do [ -s "$2.port" ] && break; sleep 0.05; done
  port=$(head -1 "$2.port")
  [[ "$port" =~ ^[0-9]+$ ]] || fail "conflux-fake-server printed no port: $(cat "$2.port" "$2.err")"
  printf -v "${2}_BASE" 'http://127.0.0.1:%s' "$port"
}
# fake_request BASE METHOD PATH [BODY] [TOKEN]: prints "<status> <body>" (the body on one line).
fake_request() {
  python3 - "$@" <<'PY'
import sys, urllib.request, urllib.error
base, method, path = sys.argv[1:4]
body = sys.argv[4] if len(sys.argv) > 4 else ""
token = sys.argv[5] if len(sys.argv) > 5 else ""
headers = {"Content-Type": "application/json"}
if token:
    headers["Authorization"] = "Bearer " + token
req = urllib.request.Request(base + path, data=body.encode() if body else None, method=method, headers=headers)
try:
    with urllib.request.urlopen(req) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
}
# fake_stat BASE EXPR: a Python expression over the fake's /__stats object `s`, e.g. 's["by_status"].get("429", 0)'.
fake_stat() {
  python3 -c 'import json,sys,urllib.request; s=json.load(urllib.request.urlopen(sys.argv[1] + "/__stats")); print(eval(sys.argv[2]))' "$1" "$2"
}
# read_summary: checks that the last `run --json` summary in $OUT balances (in = written + unchanged + dropped +
# dead_lettered) and sets S_STATUS, S_IN, S_WRITTEN, S_UNCHANGED, S_DROPPED, S_DEAD and the sink's S_CREATED,
# S_UPDATED, S_SINK_UNCHANGED: one interpreter start per run instead of one per field.
read_summary() {
  local vars
  vars=$(python3 -c '
import json,sys; s=json.loads(sys.stdin.read())
assert s["in"] == s["written"] + s["unchanged"] + s["dropped"] + s["dead_lettered"], s
sink = [t for t in s["stages"] if t["role"] == "sink"][0]
print("S_STATUS=%s S_IN=%d S_WRITTEN=%d S_UNCHANGED=%d S_DROPPED=%d S_DEAD=%d S_CREATED=%d S_UPDATED=%d S_SINK_UNCHANGED=%d" % (
    s["status"], s["in"], s["written"], s["unchanged"], s["dropped"], s["dead_lettered"], sink["created"],
    sink["updated"], sink["unchanged"]))' <<<"$OUT") || fail "in != written + unchanged + dropped + dead_lettered: $OUT"
  eval "$vars"
  pass
}
