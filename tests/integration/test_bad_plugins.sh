#!/usr/bin/env bash
# Deliberately broken plugins: each must give a one-line error naming the plugin file and the problem, and the host
# must survive every fault it can (exceptions, error codes, a hang ended by the call timeout).
source "$(dirname "$0")/lib.sh"
: "${CONFLUX_TEST_PLUGIN_DIR:?set by CTest}"

pipeline() {  # pipeline NAME PLUGIN CONFIG_JSON [EXTRA_SETTINGS]
  cat >"$1.yaml" <<YAML
version: 1
pipeline: $1
settings:
  plugin_dirs: ["$CONFLUX_TEST_PLUGIN_DIR"]
  call_timeout_seconds: 2
  retries: 1
  ${4:-}
sources:
  - name: src
    plugin: $2
    config: $3
sink:
  name: out
  plugin: jsonl
  config: {path: out-$1.jsonl}
YAML
}

# One error line naming the plugin file and the problem, and a non-zero exit.
expect_one_line_error() {  # expect_one_line_error FILE_FRAGMENT PROBLEM
  local lines
  lines=$(grep -c "^error: " <<<"$ERR" || true)
  [ "$lines" -eq 1 ] || fail "expected exactly one error line, got $lines: $ERR"
  expect_err "$1"
  expect_err "$2"
  [ "$CODE" -ne 0 ] || fail "expected a non-zero exit"
}

pipeline missing missing_symbol '{}'
run_conflux run missing.yaml
expect_one_line_error "conflux-missing_symbol.so" "missing entry symbol 'conflux_plugin_abi_version'"
expect_code 2

pipeline major wrong_major '{}'
run_conflux run major.yaml
expect_one_line_error "conflux-wrong_major.so" "built for plugin ABI 2.0, but this host speaks ABI 1.2"

pipeline minor newer_minor '{}'
run_conflux run minor.yaml
expect_one_line_error "conflux-newer_minor.so" "newer than this host's 1.2"

# An old plugin with a smaller conflux_plugin and conflux_field must load and run.
pipeline old old_struct '{count: 2500}'
run_conflux run old.yaml --json
expect_code 0
expect_eq "$(summary_field written)" "2500" "old plugin records written"
expect_eq "$(wc -l <out-old.jsonl)" "2500" "old plugin output lines"
grep -q '{"n":2499,"label":"row 2499"}' out-old.jsonl || fail "old plugin output is wrong: $(tail -1 out-old.jsonl)"
pass

pipeline schema faulty '{fault: explode}'
run_conflux run schema.yaml
expect_one_line_error "conflux-faulty.so" "schema.yaml:11:21:"
expect_err "config"
expect_code 2

pipeline throws faulty '{fault: throw}'
run_conflux run throws.yaml
expect_one_line_error "conflux-faulty.so" "unhandled exception: boom: the connector hit a bug"
expect_code 1

pipeline throws_unknown faulty '{fault: throw_unknown}'
run_conflux run throws_unknown.yaml
expect_one_line_error "conflux-faulty.so" "unhandled non-standard exception"

pipeline raw throws_raw '{}'
run_conflux run raw.yaml
expect_one_line_error "conflux-throws_raw.so" "threw a C++ exception across the plugin ABI"

pipeline config_error faulty '{fault: error_config}'
run_conflux run config_error.yaml
expect_one_line_error "conflux-faulty.so" "fix the configuration): api token rejected by the platform (HTTP 401)"

pipeline retry faulty '{fault: error_retry}'
run_conflux run retry.yaml
expect_one_line_error "conflux-faulty.so" "platform answered 503"
grep -q "attempt 1 of 2" <<<"$ERR" || fail "a retryable error should be retried before failing: $ERR"
pass

# JSON values: kept compact whatever whitespace the plugin used; text that is not JSON is the plugin's error.
pipeline spaced_json faulty '{fault: spaced_json}'
run_conflux run spaced_json.yaml --json
expect_code 0
grep -q '^{"n":0,"tags":\["a",{"b":1}\]}$' out-spaced_json.jsonl || fail "JSON value not kept compact: $(head -1 out-spaced_json.jsonl)"
pass
pipeline bad_json faulty '{fault: bad_json}'
run_conflux run bad_json.yaml
expect_one_line_error "conflux-faulty.so" "CONFLUX_VALUE_JSON text that is not a JSON array or object"
expect_code 1

pipeline hang faulty '{fault: hang}'
start=$(date +%s)
run_conflux run hang.yaml
elapsed=$(( $(date +%s) - start ))
expect_one_line_error "conflux-faulty.so" "did not return within 2 s"
[ "$elapsed" -lt 30 ] || fail "a hung plugin should end the run at its timeout, took ${elapsed}s"
pass
expect_code 1

# The host lists every plugin, broken ones with their error, and keeps going.
run_conflux plugins list --plugin-dir "$CONFLUX_TEST_PLUGIN_DIR"
expect_code 0
expect_out "old_struct	0.9.0	source	ABI 1.0"
expect_out "wrong_major	ERROR"
done_ok
