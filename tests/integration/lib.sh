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
