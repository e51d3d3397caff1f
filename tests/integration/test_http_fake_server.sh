#!/usr/bin/env bash
# The fake platform server as a process (conflux-fake-server) and a real `conflux run` through the host's HTTP
# client: a plugin pages through the server with http_request, resumes from its cursor, and a daily-quota 429 stops
# the run with one clear error while earlier batches stay committed.
source "$(dirname "$0")/lib.sh"
: "${CONFLUX_TEST_PLUGIN_DIR:?set by CTest}"
: "${CONFLUX_BUILD_DIR:?set by CTest}"
FAKE="$CONFLUX_BUILD_DIR/tests/support/fake_server/conflux-fake-server"
[ -x "$FAKE" ] || fail "conflux-fake-server not built at $FAKE"

TOKEN=fake-bearer-token-7788
cat >data.json <<JSON
{"auth": {"type": "bearer", "token": "$TOKEN"}, "page_size": 2,
 "collections": {"contacts": [
   {"id": "1", "properties": {"email": "a@x.io"}, "updated_at": "2024-01-01T00:00:00Z"},
   {"id": "2", "properties": {"email": "b@x.io"}, "updated_at": "2024-02-01T00:00:00Z"},
   {"id": "3", "properties": {"email": "c@x.io"}, "updated_at": "2024-03-01T00:00:00Z"},
   {"id": "4", "properties": {"email": "d@x.io"}, "updated_at": "2024-04-01T00:00:00Z"},
   {"id": "5", "properties": {"email": "e@x.io"}, "updated_at": "2024-05-01T00:00:00Z"}]}}
JSON

"$FAKE" --data data.json >port.txt 2>fake.err &
BACKGROUND_PIDS+=($!)
for _ in $(seq 100); do [ -s port.txt ] && break; sleep 0.05; done
PORT=$(head -1 port.txt)
[[ "$PORT" =~ ^[0-9]+$ ]] || fail "conflux-fake-server printed no port: $(cat port.txt fake.err)"
BASE="http://127.0.0.1:$PORT"

# http METHOD PATH [BODY]: prints "<status> <body>"; always with the bearer token.
http() {
  python3 - "$1" "$BASE$2" "${3:-}" "$TOKEN" <<'PY'
import sys, urllib.request, urllib.error
method, url, body, token = sys.argv[1:5]
req = urllib.request.Request(url, data=body.encode() if body else None, method=method,
                             headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(), "retry-after=" + str(e.headers.get("Retry-After")))
PY
}

# The server on its own: auth, cursor paging, faults from the control endpoint, upserts that stay.
python3 -c "import urllib.request as u; u.urlopen('$BASE/api/contacts')" 2>/dev/null && fail "no token must be refused"
OUT=$(http GET "/api/contacts")
grep -q '^200 ' <<<"$OUT" || fail "listing failed: $OUT"
CURSOR=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read().split(" ",1)[1])["paging"]["next"]["after"])' <<<"$OUT")
OUT=$(http GET "/api/contacts?after=$CURSOR")
grep -q '"id":"3"' <<<"$OUT" || fail "the second page should start at id 3: $OUT"
pass
OUT=$(http POST /__faults '{"type":"429","count":1,"retry_after":"7"}')
grep -q '^200 ' <<<"$OUT" || fail "adding a fault failed: $OUT"
OUT=$(http GET "/api/contacts")
grep -q '^429 .*retry-after=7' <<<"$OUT" || fail "the injected 429 did not come: $OUT"
OUT=$(http GET "/api/contacts?updated_since=2024-04-15T00:00:00Z")
grep -q '"total":1' <<<"$OUT" || fail "modified-since should leave one record: $OUT"
pass

# A real run: the http_source test plugin reads through the host's client into JSONL, two records per batch.
cat >pipeline.yaml <<YAML
version: 1
pipeline: http
settings:
  plugin_dirs: ["$CONFLUX_TEST_PLUGIN_DIR"]
  batch_size: 2
  retries: 0
sources:
  - name: api
    plugin: http_source
    config: {base_url: "$BASE", token: "\${env:FAKE_TOKEN}"}
sink:
  name: out
  plugin: jsonl
  config: {path: out.jsonl}
YAML
export FAKE_TOKEN=$TOKEN
CONFLUX_LOG_LEVEL=debug run_conflux run pipeline.yaml --json
expect_code 0
expect_eq "$(summary_field written)" "5" "records written by the first run"
expect_err "GET $BASE/api/contacts?limit=2 -> 200"
grep -q "$TOKEN" <<<"$ERR" && fail "the token reached the log: $ERR"
pass

# New records and a daily quota exhausted on the next request: the run stops cleanly (exit 75), nothing lost.
http POST /api/contacts/batch/upsert '{"inputs":[{"id":"6","properties":{"email":"f@x.io"}},{"id":"7","properties":{"email":"g@x.io"}}]}' >/dev/null
http POST /__faults '{"type":"429","count":5,"body":{"status":"error","errorType":"RATE_LIMIT","policyName":"DAILY","message":"You have reached your daily limit."}}' >/dev/null
run_conflux run pipeline.yaml --json
expect_code 75
expect_eq "$(summary_field status)" "cancelled" "status of a run stopped by the quota"
expect_eq "$(summary_field stop_reason)" "quota" "stop reason"
expect_eq "$(summary_field balanced)" "True" "balance of a run stopped by the quota"
expect_err "platform quota used up"
expect_err "daily quota"
STATS=$(http GET /__stats)
python3 -c 'import json,sys; s=json.loads(sys.stdin.read().split(" ",1)[1]); assert s["by_status"]["429"] == 2, s' <<<"$STATS" \
  || fail "the quota 429 must not be retried: $STATS"
pass

# Once the quota window turns, the next run resumes from the committed cursor and reads the new records.
http DELETE /__faults >/dev/null
run_conflux run pipeline.yaml --json
expect_code 0
grep -q '"g@x.io"' out.jsonl || fail "the resumed run did not read the new records: $(cat out.jsonl)"
pass
done_ok
