#!/usr/bin/env bash
# The hubspot connector end to end against the fake HubSpot (conflux-fake-server --dialect hubspot, loopback):
# files -> HubSpot with the example pipeline, the sink ledger on a full re-read, incremental reads back with the
# hubspot source (ties at page boundaries, resume), a wrong token, 429 and 5xx bursts, the fake's own rolling
# limit, a per-record refusal dead-lettered, and the daily quota stopping a run.
source "$(dirname "$0")/lib.sh"
: "${CONFLUX_BUILD_DIR:?set by CTest}"
FAKE="$CONFLUX_BUILD_DIR/tests/support/fake_server/conflux-fake-server"
[ -x "$FAKE" ] || fail "conflux-fake-server not built at $FAKE"

TOKEN=pat-na1-fake-7f3c9e21
# start_fake NAME JSON: starts a fake HubSpot with data JSON; sets <NAME>_BASE. Killed by lib.sh's trap.
start_fake() {
  echo "$2" >"$1.json"
  "$FAKE" --dialect hubspot --data "$1.json" >"$1.port" 2>"$1.err" &
  BACKGROUND_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$1.port" ] && break; sleep 0.05; done
  local port
  port=$(head -1 "$1.port")
  [[ "$port" =~ ^[0-9]+$ ]] || fail "conflux-fake-server printed no port: $(cat "$1.port" "$1.err")"
  printf -v "${1}_BASE" 'http://127.0.0.1:%s' "$port"
}
# api BASE METHOD PATH [BODY]: "<status> <body>" with the right token.
api() {
  python3 - "$1" "$2" "$3" "${4:-}" "$TOKEN" <<'PY'
import sys, urllib.request, urllib.error
base, method, path, body, token = sys.argv[1:6]
req = urllib.request.Request(base + path, data=body.encode() if body else None, method=method,
                             headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
}
# all_contacts BASE: every contact the fake holds, one JSON object per line, paging with limit/after.
all_contacts() {
  python3 - "$1" "$TOKEN" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1:3]
after = None
while True:
    url = base + "/crm/v3/objects/contacts?limit=100" + ("&after=" + after if after else "")
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    page = json.loads(urllib.request.urlopen(req).read())
    for r in page["results"]:
        print(json.dumps(r))
    after = page.get("paging", {}).get("next", {}).get("after")
    if not after:
        break
PY
}
fake_stat() { api "$1" GET /__stats | cut -d' ' -f2- | python3 -c 'import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"; }
balanced() {
  python3 -c '
import json,sys; s=json.loads(sys.stdin.read())
assert s["in"] == s["written"] + s["unchanged"] + s["dropped"] + s["dead_lettered"], s
print(s["written"])' <<<"$OUT" || fail "in != written + unchanged + dropped + dead_lettered: $OUT"
}

start_fake HS "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"}}"
export HUBSPOT_TOKEN=$TOKEN HUBSPOT_BASE_URL=$HS_BASE

# The fake on its own: HubSpot's 401 body, paging, search, batch upsert with 207 per-input errors, 400 over 100.
OUT=$(python3 -c "import urllib.request as u, urllib.error as e
try: u.urlopen(u.Request('$HS_BASE/crm/v3/objects/contacts', headers={'Authorization': 'Bearer nope'}))
except e.HTTPError as x: print(x.code, x.read().decode())")
grep -q '^401 .*"category":"INVALID_AUTHENTICATION"' <<<"$OUT" || fail "wrong token: $OUT"
grep -q '"correlationId"' <<<"$OUT" || fail "401 body lacks correlationId: $OUT"
OUT=$(api "$HS_BASE" POST /crm/v3/objects/deals/batch/upsert \
  "{\"inputs\":[$(python3 -c 'print(",".join("{\"id\":\"d%d\",\"idProperty\":\"dealname\",\"properties\":{\"dealname\":\"d%d\"}}" % (i, i) for i in range(101)))')]}")
grep -q '^400 .*Batch input limit' <<<"$OUT" || fail "101 inputs must be refused: $OUT"
OUT=$(api "$HS_BASE" POST /crm/v3/objects/deals/batch/upsert \
  '{"inputs":[{"id":"d1","idProperty":"dealname","properties":{"dealname":"d1","amount":"10"}},{"id":"d2","idProperty":"dealname","properties":{"amount":5}}]}')
grep -q '^207 ' <<<"$OUT" || fail "a non-string value must be a 207 per-input error: $OUT"
grep -q '"new":true' <<<"$OUT" || fail "the valid input must be created: $OUT"
OUT=$(api "$HS_BASE" POST /crm/v3/objects/deals/search \
  '{"filterGroups":[{"filters":[{"propertyName":"hs_lastmodifieddate","operator":"GTE","value":"0"}]}],"sorts":[{"propertyName":"hs_lastmodifieddate","direction":"ASCENDING"}],"limit":1}')
grep -q '^200 .*"total":1' <<<"$OUT" || fail "search: $OUT"
pass

# 1. Files -> HubSpot with the example pipeline. What the fake holds is what the summary says was written.
cp -r "$CONFLUX_SOURCE_DIR/configs/demo" demo
cp -r "$CONFLUX_SOURCE_DIR/configs/hubspot" hubspot
P=hubspot/files_to_hubspot.yaml
run_conflux run $P --json
expect_code 0
expect_eq "$(summary_field status)" "succeeded" "files -> hubspot status"
written=$(balanced)
[ "$written" -gt 100 ] || fail "only $written contacts written: $OUT"
expect_eq "$(sink_field created)" "$written" "contacts created in an empty portal"
all_contacts "$HS_BASE" >held.jsonl
expect_eq "$(wc -l <held.jsonl)" "$written" "contacts the fake holds"
python3 - <<'PY' || fail "stored contacts are not what the sink should send: $(head -3 held.jsonl)"
import json
emails = set()
for line in open("held.jsonl"):
    p = json.loads(line)["properties"]
    assert p["email"] == p["email"].lower() and "@" in p["email"], p
    assert all(isinstance(v, str) for v in p.values()), p
    assert not ({"first_name", "source", "created_at"} & set(p)), p  # only HubSpot property names were sent
    emails.add(p["email"])
assert len(emails) > 100
PY
grep -q '"email": "ivan.petrov@example.com"' held.jsonl || fail "Ivan Petrov did not arrive: $(head -3 held.jsonl)"
dead=$(summary_field dead_lettered)
run_conflux dlq list $P --stage hubspot --json
expect_out "has no 'email' (id_property)"
pass

# 2. A full re-read after a cursor reset sends nothing: the sink ledger knows every record HubSpot holds.
requests_before=$(fake_stat "$HS_BASE" 's["requests"]')
run_conflux state reset $P
expect_code 0
run_conflux run $P --json
expect_code 0
balanced >/dev/null
expect_eq "$(summary_field written)" "0" "records written by a re-read"
expect_eq "$(sink_field unchanged)" "$written" "records the ledger kept from being sent again"
expect_eq "$(fake_stat "$HS_BASE" 's["requests"]')" "$requests_before" "requests to HubSpot on a re-read"

# 3. Read contacts back incrementally: 7 per batch, so batches end inside runs of equal lastmodifieddate (a batch
# upsert stamps its 100 records within a few milliseconds). First 10 records (--limit), then the rest.
cat >read.yaml <<YAML
version: 1
pipeline: read_back
settings: {batch_size: 7}
state: {path: .conflux/read.db}
sources:
  - name: hs
    plugin: hubspot
    streams: [contacts]
    config: {base_url: "\${env:HUBSPOT_BASE_URL}", access_token: "\${env:HUBSPOT_TOKEN}",
             properties: [email, firstname, lastname]}
sink:
  name: out
  plugin: jsonl
  config: {path: read.jsonl, mode: append}
YAML
run_conflux run read.yaml --limit 10 --json
expect_code 0
expect_eq "$(summary_field in)" "10" "records read with --limit 10"
run_conflux run read.yaml --json
expect_code 0
expect_eq "$(($(summary_field in) + 10))" "$written" "records read over both runs"
# check_read_back TWICE: read.jsonl holds every contact the fake holds, each once, except the emails in TWICE
# (changed after they were read), which appear exactly twice.
check_read_back() {
  python3 - "$1" <<'PY' || fail "read-back differs from what the fake holds"
import collections, json, sys
held = {json.loads(l)["id"]: json.loads(l) for l in open("held.jsonl")}
rows = [json.loads(l) for l in open("read.jsonl")]
twice = set(json.loads(sys.argv[1]))
counts = collections.Counter(r["id"] for r in rows)
for r in rows:
    assert counts[r["id"]] == (2 if r["email"] in twice else 1), ("duplicate or missing", r)
assert set(counts) == set(held), (len(counts), len(held))
for r in rows:
    if r["id"] in held:
        assert r["email"] == held[r["id"]]["properties"]["email"], r
    assert r["lastmodifieddate"] and r["updatedAt"] and r["archived"] is False, r
PY
  pass
}
check_read_back '[]'
run_conflux run read.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "0" "records read when nothing changed"
# Two new contacts and one changed: exactly those three are read next; the changed one appears twice in the file.
api "$HS_BASE" POST /crm/v3/objects/contacts/batch/upsert \
  '{"inputs":[{"id":"new1@x.io","idProperty":"email","properties":{"firstname":"N1"}},{"id":"new2@x.io","idProperty":"email","properties":{"firstname":"N2"}},{"id":"ivan.petrov@example.com","idProperty":"email","properties":{"lastname":"Petrov-Vodkin"}}]}' >/dev/null
run_conflux run read.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "3" "records read after three changes"
all_contacts "$HS_BASE" >held.jsonl
check_read_back '["ivan.petrov@example.com"]'

# 4. A wrong token: one clear configuration error, exit 1, and exactly one request (401 is never retried).
before401=$(fake_stat "$HS_BASE" 's["by_status"].get("401", 0)')
HUBSPOT_TOKEN=pat-na1-wrong-token run_conflux run read.yaml --json
expect_code 1
expect_err "fix the configuration"
expect_err "INVALID_AUTHENTICATION"
expect_err "check access_token"
grep -q "pat-na1-wrong-token" <<<"$ERR$OUT" && fail "the token reached the output: $ERR"
expect_eq "$(fake_stat "$HS_BASE" 's["by_status"].get("401", 0)')" "$((before401 + 1))" "401 responses to a wrong token"

# 5. Bursts of 429 (HubSpot's TEN_SECONDLY_ROLLING body, Retry-After 1) and of 5xx on the upserts: the host retries
# and every record is still written. A separate copy of the pipeline has its own state and ledger.
mkdir burst && cp -r hubspot demo burst/ && rm -rf burst/hubspot/.conflux
before429=$(fake_stat "$HS_BASE" 's["by_status"].get("429", 0)')
api "$HS_BASE" POST /__faults '{"faults":[
  {"type":"429","count":3,"path":"/crm/v3/objects/contacts/batch/upsert","retry_after":"1",
   "body":"{\"status\":\"error\",\"message\":\"You have reached your ten_secondly_rolling limit.\",\"errorType\":\"RATE_LIMIT\",\"correlationId\":\"c1\",\"policyName\":\"TEN_SECONDLY_ROLLING\"}"},
  {"type":"5xx","count":2,"status":502,"path":"/crm/v3/objects/contacts/batch/upsert"}]}' >/dev/null
run_conflux run burst/$P --json
expect_code 0
balanced >/dev/null
expect_eq "$(summary_field written)" "$written" "records written through 429 and 5xx bursts"
expect_eq "$(summary_field dead_lettered)" "$dead" "dead letters with bursts"
expect_eq "$(fake_stat "$HS_BASE" 's["by_status"].get("429", 0)')" "$((before429 + 3))" "429 responses received"
expect_eq "$(fake_stat "$HS_BASE" 's["by_status"].get("502", 0)')" "2" "502 responses received"
expect_eq "$(fake_stat "$HS_BASE" 's["pending_faults"]')" "0" "faults left unused"

# 6. The fake's own rolling limit (10 requests per second here): its 429s with Retry-After are honoured, and a
# read of every contact, 7 per request, still completes without loss.
start_fake SLOW "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"},
  \"hubspot\": {\"rate_limit_requests\": 10, \"rate_limit_window_ms\": 1000},
  \"collections\": {\"contacts\": $(python3 -c 'import json; print(json.dumps([{"id": str(i), "properties": {"email": "p%d@x.io" % i}, "updated_at": 1700000000000 + i // 10} for i in range(1, 141)]))')}}"
sed -e 's/read_back/read_slow/' -e 's/read.jsonl/slow.jsonl/' -e 's/read.db/slow.db/' read.yaml >slow.yaml
HUBSPOT_BASE_URL=$SLOW_BASE run_conflux run slow.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "140" "records read under the rolling limit"
expect_eq "$(python3 -c 'import json; print(len({json.loads(l)["id"] for l in open("slow.jsonl")}))')" "140" "distinct records read"
[ "$(fake_stat "$SLOW_BASE" 's["by_status"].get("429", 0)')" -gt 0 ] || fail "the rolling limit never answered 429"
pass

# 7. A record HubSpot refuses (invalid e-mail: a 207 per-input error) and one without an e-mail are dead-lettered
# with their reasons; the others of the same request are written and the run succeeds.
cat >few.jsonl <<'JSONL'
{"email":"good1@x.io","firstname":"G1","age":41}
{"email":"not-an-email","firstname":"Bad"}
{"firstname":"NoMail"}
{"email":"Good2@X.io","firstname":"G2","vip":true}
JSONL
cat >few.yaml <<YAML
version: 1
pipeline: few
state: {path: .conflux/few.db}
sources:
  - name: file
    plugin: jsonl
    config: {path: few.jsonl}
sink:
  name: hubspot
  plugin: hubspot
  config: {base_url: "\${env:HUBSPOT_BASE_URL}", access_token: "\${env:HUBSPOT_TOKEN}", object: contacts}
  sync: {key: email}
YAML
run_conflux run few.yaml --json
expect_code 0
balanced >/dev/null
expect_eq "$(summary_field written)" "2" "records written next to refused ones"
expect_eq "$(summary_field dead_lettered)" "2" "refused records dead-lettered"
run_conflux dlq list few.yaml --json
expect_code 0
expect_out "INVALID_EMAIL"
expect_out "has no 'email'"
OUT=$(all_contacts "$HS_BASE" | grep good)
grep -q '"email": "good2@x.io"' <<<"$OUT" || fail "Good2 was not stored lower-cased: $OUT"
grep -q '"age": "41"' <<<"$OUT" || fail "numbers must be sent as strings: $OUT"
grep -q '"vip": "true"' <<<"$OUT" || fail "booleans must be sent as strings: $OUT"
pass

# A 400 refusing a whole request is split until the records stand alone: a fake that takes 2 inputs per request
# refuses the sink's request of 3; the halves go through, with the same outcomes as above.
start_fake SMALL "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"}, \"hubspot\": {\"max_batch\": 2}}"
sed -e 's/few.db/small.db/' few.yaml >small.yaml
HUBSPOT_BASE_URL=$SMALL_BASE run_conflux run small.yaml --json
expect_code 0
expect_eq "$(summary_field written)" "2" "records written after splitting a refused request"
expect_eq "$(summary_field dead_lettered)" "2" "records dead-lettered after splitting"
expect_eq "$(fake_stat "$SMALL_BASE" 's["by_status"].get("400", 0)')" "1" "whole-request refusals"
expect_eq "$(fake_stat "$SMALL_BASE" 's["by_status"].get("207", 0) + s["by_status"].get("200", 0)')" "2" "split requests"

# 8. The daily quota: after 3 requests the fake answers 429 DAILY. The run stops with the host's quota error
# (exit 75, status cancelled with stop_reason quota), not retried, and the batches read before it stay committed.
start_fake QUOTA "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"}, \"hubspot\": {\"daily_limit\": 3},
  \"collections\": {\"contacts\": $(python3 -c 'import json; print(json.dumps([{"id": str(i), "properties": {"email": "q%d@x.io" % i}, "updated_at": 1700000000000 + i} for i in range(1, 41)]))')}}"
sed -e 's/read_back/read_quota/' -e 's/read.jsonl/quota.jsonl/' -e 's/read.db/quota.db/' read.yaml >quota.yaml
HUBSPOT_BASE_URL=$QUOTA_BASE run_conflux run quota.yaml --json
expect_code 75
expect_eq "$(summary_field stop_reason)" "quota" "stop reason of the quota run"
expect_err "platform quota used up"
expect_err "DAILY"
# Three searches of 7: the first emits 7, each later one re-reads the cursor's own record (filter GTE its time)
# and skips it, so 7 + 6 + 6.
expect_eq "$(wc -l <quota.jsonl)" "19" "records committed before the quota ran out"
expect_eq "$(fake_stat "$QUOTA_BASE" 's["by_status"].get("429", 0)')" "1" "daily-quota 429s (never retried)"
done_ok
