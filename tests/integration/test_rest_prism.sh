#!/usr/bin/env bash
# The shipped Mailchimp example (configs/rest/mailchimp_members.yaml, unchanged) against Prism serving an OpenAPI
# description of the operation it calls (tests/specs/mailchimp-list-members.openapi.yaml), with --errors: Prism
# answers any request the description does not allow (a missing credential, count above 1000, an unknown sort
# field) with an error instead of data; then against Mailchimp's published description when this machine has it.
# Prism is stateless, so this test makes bounded reads only; paging to the end,
# incremental runs and 429s are tested against the stateful fake (test_rest_source.sh).
#
# Prism comes from the npm registry (@stoplight/prism-cli, pinned) into a cache outside the repository
# ($CONFLUX_PRISM_DIR, default ~/.cache/conflux/prism-5.14.2), installed on first use. The test is skipped (exit
# 77) only when npm is missing or the registry cannot be reached.
source "$(dirname "$0")/lib.sh"

PRISM_VERSION=5.14.2
PRISM_DIR=${CONFLUX_PRISM_DIR:-${HOME:-/tmp}/.cache/conflux/prism-$PRISM_VERSION}
PRISM="$PRISM_DIR/node_modules/.bin/prism"
if [ ! -x "$PRISM" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "SKIP [$TEST_NAME]: npm is not installed, so Prism cannot be installed (apt-get install npm)"
    exit 77
  fi
  mkdir -p "$PRISM_DIR"
  if ! (cd "$PRISM_DIR" && npm install --no-audit --no-fund --loglevel=error "@stoplight/prism-cli@$PRISM_VERSION" \
        >"$WORK/npm.log" 2>&1); then
    if ! npm ping >/dev/null 2>&1; then
      echo "SKIP [$TEST_NAME]: the npm registry is unreachable, so Prism cannot be installed: $(tail -3 "$WORK/npm.log")"
      exit 77
    fi
    fail "npm install @stoplight/prism-cli@$PRISM_VERSION failed: $(tail -20 "$WORK/npm.log")"
  fi
fi
[ -x "$PRISM" ] || fail "no prism at $PRISM after npm install"

SPEC="$CONFLUX_SOURCE_DIR/tests/specs/mailchimp-list-members.openapi.yaml"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PRISM" mock -h 127.0.0.1 -p "$PORT" --errors "$SPEC" >prism.log 2>&1 &
BACKGROUND_PIDS+=($!)
BASE=http://127.0.0.1:$PORT
# wait_for_prism URL LOG: up to 30 s, as Prism's first start after an install compiles a lot of JavaScript.
wait_for_prism() {
  python3 - "$1" <<'PY' || fail "Prism did not start: $(tail -20 "$2")"
import sys, time, urllib.request, urllib.error
for _ in range(300):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)  # any HTTP answer means it serves
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
}
wait_for_prism "$BASE/3.0/lists/x/members" prism.log

cp -r "$CONFLUX_SOURCE_DIR/configs/rest" rest
export MAILCHIMP_BASE_URL=$BASE/3.0 MAILCHIMP_API_KEY=0123456789abcdef0123456789abcdef-us6 MAILCHIMP_LIST_ID=a1b2c3d4e5
P=rest/mailchimp_members.yaml

# The example's requests are ones the description allows: Prism answers with its example page (two members, a
# short page, so the offset paginator stops), and both land in the local CRM.
run_conflux check $P
expect_code 0
run_conflux run $P --json
expect_code 0
expect_eq "$(summary_field in)" "2" "members read from Prism"
expect_eq "$(summary_field written)" "2" "members written"
run_conflux crm show $P --key ann.lee@example.com
expect_out '"first_name": "Ann"'
grep -q "get /3.0/lists/a1b2c3d4e5/members" prism.log || fail "Prism saw no request: $(tail -20 prism.log)"
# The next run sends since_last_changed from the committed cursor: a date-time the description accepts (Prism
# would answer 422 to anything else). The request log line (debug) shows the URL.
CONFLUX_LOG_LEVEL=debug run_conflux run $P --json
expect_code 0
expect_err "since_last_changed=2024-02-02T11%3A30%3A00%2B00%3A00"

# Requests the description refuses are errors, not data: no credential, and a page size over Mailchimp's 1000.
sed 's/  *auth: {type: basic.*$/      auth: {type: none}/' $P >rest/no_auth.yaml
run_conflux run rest/no_auth.yaml
expect_code 1
expect_err "authentication failed (HTTP 401)"
sed 's/page_size: 500/page_size: 5000/' $P >rest/big_pages.yaml
run_conflux run rest/big_pages.yaml
expect_code 1
expect_err "HTTP 422"

# The same example against Mailchimp's published Marketing API description (the project's shared specs,
# mailchimp/marketing.prism.json: Ballerina's OpenAPI 3 conversion of Mailchimp's Swagger, servable by Prism), when
# this machine has it: $CONFLUX_SPECS_DIR, else ../shared/specs next to the source tree, else /work/shared/specs.
# Its example member has the e-mail "string", which the example's email stage dead-letters: the point here is that
# every request the example sends is one the published description accepts, and the ones it must not send are not.
PUBLISHED=""
for dir in "${CONFLUX_SPECS_DIR:-}" "$CONFLUX_SOURCE_DIR/../shared/specs" /work/shared/specs; do
  if [ -n "$dir" ] && [ -f "$dir/mailchimp/marketing.prism.json" ]; then PUBLISHED="$dir/mailchimp/marketing.prism.json"; break; fi
done
if [ -z "$PUBLISHED" ]; then
  echo "$TEST_NAME: Mailchimp's published description not found (set CONFLUX_SPECS_DIR); only the own description was used"
  done_ok
  exit 0
fi
PORT2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PRISM" mock -h 127.0.0.1 -p "$PORT2" --errors "$PUBLISHED" >prism_published.log 2>&1 &
BACKGROUND_PIDS+=($!)
wait_for_prism "http://127.0.0.1:$PORT2/3.0/lists/x/members" prism_published.log
export MAILCHIMP_BASE_URL=http://127.0.0.1:$PORT2/3.0
run_conflux state reset $P
CONFLUX_LOG_LEVEL=debug run_conflux run $P --json
expect_code 0
read_summary
expect_eq "$S_IN $S_DEAD" "1 1" "the published example's member: read, and dead-lettered for its e-mail 'string'"
grep -q "get /3.0/lists/a1b2c3d4e5/members" prism_published.log || fail "Prism saw no request: $(tail -20 prism_published.log)"
if grep -q "Request terminated with error\|violation" prism_published.log; then
  fail "the published description refused a request: $(grep -m3 'violation\|error' prism_published.log)"
fi
pass
run_conflux run rest/no_auth.yaml
expect_code 1
expect_err "authentication failed (HTTP 401)"
run_conflux run rest/big_pages.yaml
expect_code 1
expect_err "HTTP 422"
done_ok
