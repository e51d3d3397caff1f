#!/usr/bin/env bash
# The salesforce connector end to end against the fake Salesforce (conflux-fake-server --dialect salesforce,
# loopback): files -> Salesforce with the example pipeline, the sink ledger on a full re-read, incremental SOQL reads
# back (ties of one collection request at page and batch boundaries, resume), a wrong token, 429/5xx bursts and cut
# bodies, an expired query locator, per-record refusals dead-lettered (and a malformed record split out of a
# whole-request 400), the sync modes and field rules, mirror deletes, and the org's daily limit stopping a run.
source "$(dirname "$0")/lib.sh"
: "${CONFLUX_BUILD_DIR:?set by CTest}"
FAKE="$CONFLUX_BUILD_DIR/tests/support/fake_server/conflux-fake-server"
[ -x "$FAKE" ] || fail "conflux-fake-server not built at $FAKE"
# The checks below start python3 a few hundred times: call the interpreter itself, not a version-manager shim.
PATH="$(dirname "$(python3 -c 'import sys; print(sys.executable)')"):$PATH"

TOKEN='00D5g000004xYzA!AQ4AQFakeSessionToken.7f3c9e21'
V=/services/data/v60.0
# start_fake NAME JSON: starts a fake Salesforce with data JSON; sets <NAME>_BASE. Killed by lib.sh's trap.
start_fake() {
  echo "$2" >"$1.json"
  "$FAKE" --dialect salesforce --data "$1.json" >"$1.port" 2>"$1.err" &
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
# soql BASE QUERY: every record the query returns, one JSON object per line, following nextRecordsUrl.
soql() {
  python3 - "$1" "$2" "$TOKEN" <<'PY'
import json, sys, urllib.parse, urllib.request
base, query, token = sys.argv[1:4]
url = base + "/services/data/v60.0/query?q=" + urllib.parse.quote(query)
while url:
    page = json.loads(urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer " + token})).read())
    for r in page["records"]:
        r.pop("attributes")
        print(json.dumps(r))
    url = None if page["done"] else base + page["nextRecordsUrl"]
PY
}
contacts() { soql "$1" "SELECT Id, External_Id__c, FirstName, LastName, Email, Phone, SystemModstamp FROM Contact"; }
# upsert BASE OBJECT RECORDS_JSON: one sObject Collections upsert by External_Id__c; prints the result array.
upsert() {
  api "$1" PATCH "$V/composite/sobjects/$2/External_Id__c" \
    "{\"allOrNone\":false,\"records\":$(python3 -c 'import json,sys; print(json.dumps([dict(r, attributes={"type": sys.argv[1]}) for r in json.loads(sys.argv[2])]))' "$2" "$3")}"
}
fake_stat() { api "$1" GET /__stats | cut -d' ' -f2- | python3 -c 'import json,sys; s=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"; }
balanced() {
  python3 -c '
import json,sys; s=json.loads(sys.stdin.read())
assert s["in"] == s["written"] + s["unchanged"] + s["dropped"] + s["dead_lettered"], s
print(s["written"])' <<<"$OUT" || fail "in != written + unchanged + dropped + dead_lettered: $OUT"
}
# contact_field BASE EXT FIELD: a field of the contact with that external id ("None" when null, "" when absent).
contact_field() {
  soql "$1" "SELECT $3 FROM Contact WHERE External_Id__c = '$2'" | python3 -c 'import json,sys; rows=[json.loads(l) for l in sys.stdin]; print(rows[0][sys.argv[1]] if rows else "")' "$3"
}

# Pages of 5 records: every read crosses nextRecordsUrl pages, and the sink's lookups page too.
start_fake SF "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"}, \"salesforce\": {\"query_batch_size\": 5}}"
export SALESFORCE_TOKEN=$TOKEN SALESFORCE_INSTANCE_URL=$SF_BASE

# The fake on its own: Salesforce's 401 array, the 200-record limit, per-item results, a whole-request 400, SOQL
# errors, paging by nextRecordsUrl, the usage header.
OUT=$(python3 -c "import urllib.request as u, urllib.error as e
try: u.urlopen(u.Request('$SF_BASE$V/query?q=SELECT+Id+FROM+Contact', headers={'Authorization': 'Bearer nope'}))
except e.HTTPError as x: print(x.code, x.read().decode())")
expect_eq "$OUT" '401 [{"errorCode":"INVALID_SESSION_ID","message":"Session expired or invalid"}]' "401 body"
OUT=$(upsert "$SF_BASE" Lead "$(python3 -c 'import json; print(json.dumps([{"External_Id__c": "l%d" % i, "LastName": "L", "Company": "C"} for i in range(201)]))')")
grep -q '^400 .*EXCEEDED_ID_LIMIT' <<<"$OUT" || fail "201 records must be refused: $OUT"
OUT=$(upsert "$SF_BASE" Lead '[{"External_Id__c":"l1","LastName":"One","Company":"Acme"},{"External_Id__c":"l2","LastName":"Two"},{"External_Id__c":"l3","LastName":"Three","Company":"Acme","Email":"x"}]')
python3 - "$OUT" <<'PY' || fail "per-item results: $OUT"
import json, sys
status, body = sys.argv[1].split(" ", 1)
r = json.loads(body)
assert status == "200" and len(r) == 3, r
assert r[0]["success"] and r[0]["created"] and r[0]["id"].startswith("00Q") and len(r[0]["id"]) == 18, r[0]
assert r[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING" and r[1]["errors"][0]["fields"] == ["Company"], r[1]
assert r[2]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS", r[2]
PY
OUT=$(upsert "$SF_BASE" Lead '[{"External_Id__c":"l1","LastName":"One","Company":"Acme","HasOptedOutOfEmail":"maybe"}]')
grep -q '^400 .*JSON_PARSER_ERROR' <<<"$OUT" || fail "a boolean field given 'maybe' must refuse the request: $OUT"
OUT=$(api "$SF_BASE" GET "$V/query?q=SELECT+Id,+Nickname+FROM+Lead")
grep -q '^400 .*INVALID_FIELD.*No such column .Nickname.' <<<"$OUT" || fail "unknown field: $OUT"
OUT=$(api "$SF_BASE" GET "$V/query?q=SELECT+Id+FROM+Lead+WHERE+LastName+=+'a'+AND+Company+=+'b'+OR+Email+=+null")
grep -q '^400 .*MALFORMED_QUERY' <<<"$OUT" || fail "AND/OR without parentheses: $OUT"
OUT=$(api "$SF_BASE" PATCH "$V/composite/sobjects/Lead/Email" '{"records":[]}')
grep -q '^404 .*NOT_FOUND.*external ID field' <<<"$OUT" || fail "Email is not an external id: $OUT"
upsert "$SF_BASE" Lead "$(python3 -c 'import json; print(json.dumps([{"External_Id__c": "p%02d" % i, "LastName": "P", "Company": "C"} for i in range(12)]))')" >/dev/null
expect_eq "$(soql "$SF_BASE" "SELECT Id FROM Lead WHERE External_Id__c > 'p' ORDER BY SystemModstamp, Id" | wc -l)" "12" "leads read over three pages"
expect_eq "$(soql "$SF_BASE" "SELECT Id FROM Lead WHERE External_Id__c IN ('p01', 'P02', 'zz')" | wc -l)" "2" "IN matches external ids case-insensitively"
python3 -c "import urllib.request as u; r = u.urlopen(u.Request('$SF_BASE$V/sobjects/Contact/describe', headers={'Authorization': 'Bearer $TOKEN'})); print(r.headers['Sforce-Limit-Info'])" | grep -q '^api-usage=[0-9]*/100000$' || fail "Sforce-Limit-Info missing"
pass

# 1. Files -> Salesforce with the example pipeline. What the fake holds is what the summary says was written.
cp -r "$CONFLUX_SOURCE_DIR/configs/demo" demo
cp -r "$CONFLUX_SOURCE_DIR/configs/salesforce" salesforce
P=salesforce/files_to_salesforce.yaml
run_conflux check $P
expect_code 0
run_conflux run $P --json
expect_code 0
expect_eq "$(summary_field status)" "succeeded" "files -> salesforce status"
written=$(balanced)
[ "$written" -gt 100 ] || fail "only $written contacts written: $OUT"
expect_eq "$(sink_field created)" "$written" "contacts created in an empty org"
contacts "$SF_BASE" >held.jsonl
expect_eq "$(wc -l <held.jsonl)" "$written" "contacts the fake holds"
python3 - <<'PY' || fail "stored contacts are not what the sink should send: $(head -3 held.jsonl)"
import json
keys = set()
for line in open("held.jsonl"):
    c = json.loads(line)
    assert c["External_Id__c"] == c["Email"] and c["Email"] == c["Email"].lower() and "@" in c["Email"], c
    assert c["LastName"], c
    assert c["Id"].startswith("003") and len(c["Id"]) == 18, c
    keys.add(c["External_Id__c"])
assert len(keys) > 100
PY
grep -q '"External_Id__c": "ivan.petrov@example.com"' held.jsonl || fail "Ivan Petrov did not arrive: $(head -3 held.jsonl)"
dead=$(summary_field dead_lettered)
run_conflux dlq list $P --stage salesforce --json
expect_out "has no 'External_Id__c' (external_id_field)"
pass

# Contacts with an e-mail but no name are refused by Salesforce itself (LastName is required).
run_conflux state results $P --outcome rejected
refused=$(grep -c 'REQUIRED_FIELD_MISSING: Required fields are missing: \[LastName\] (fields: LastName)' <<<"$OUT" || true)
[ "$refused" -gt 0 ] || fail "no record was refused by Salesforce: $OUT"

# 2. A full re-read after a cursor reset sends nothing Salesforce holds: the sink ledger knows every record it
# accepted. Only the records it refused (no ledger entry) are sent again, and refused again.
patches_before=$(fake_stat "$SF_BASE" 's["by_method"]["PATCH"]')
gets_before=$(fake_stat "$SF_BASE" 's["by_method"]["GET"]')
run_conflux state reset $P
expect_code 0
run_conflux run $P --json
expect_code 0
balanced >/dev/null
expect_eq "$(summary_field written)" "0" "records written by a re-read"
expect_eq "$(sink_field unchanged)" "$written" "records the ledger kept from being sent again"
expect_eq "$(summary_field dead_lettered)" "$dead" "records dead-lettered by a re-read"
patches=$(($(fake_stat "$SF_BASE" 's["by_method"]["PATCH"]') - patches_before))
[ "$patches" -ge 1 ] && [ "$patches" -le "$refused" ] || fail "$patches upserts on a re-read for $refused refused records"
expect_eq "$(fake_stat "$SF_BASE" 's["by_method"]["GET"]')" "$gets_before" "queries on a re-read"
expect_eq "$(contacts "$SF_BASE" | wc -l)" "$written" "contacts held after the re-read"

# 3. Read contacts back incrementally: 7 per batch over pages of 5, and every collection request stamped its 200
# records with one SystemModstamp, so batches and pages end inside ties. First 10 records (--limit), then the rest.
cat >read.yaml <<YAML
version: 1
pipeline: read_back
settings: {batch_size: 7}
state: {path: .conflux/read.db}
sources:
  - name: sf
    plugin: salesforce
    streams: [Contact]
    config: {instance_url: "\${env:SALESFORCE_INSTANCE_URL}", access_token: "\${env:SALESFORCE_TOKEN}",
             select: {Contact: [External_Id__c, FirstName, LastName, Email]}}
sink:
  name: out
  plugin: jsonl
  config: {path: read.jsonl, mode: append}
YAML
run_conflux check read.yaml
expect_code 0
run_conflux run read.yaml --limit 10 --json
expect_code 0
expect_eq "$(summary_field in)" "10" "records read with --limit 10"
run_conflux run read.yaml --json
expect_code 0
expect_eq "$(($(summary_field in) + 10))" "$written" "records read over both runs"
# check_read_back FILE TWICE: FILE holds every contact the fake holds, each once, except the external ids in TWICE
# (changed after they were read), which appear exactly twice.
check_read_back() {
  python3 - "$1" "$2" <<'PY' || fail "read-back $1 differs from what the fake holds"
import collections, json, sys
held = {json.loads(l)["Id"]: json.loads(l) for l in open("held.jsonl")}
rows = [json.loads(l) for l in open(sys.argv[1])]
twice = set(json.loads(sys.argv[2]))
counts = collections.Counter(r["Id"] for r in rows)
for r in rows:
    assert counts[r["Id"]] == (2 if r["External_Id__c"] in twice else 1), ("duplicate or missing", r)
    assert set(r) == {"Id", "External_Id__c", "FirstName", "LastName", "Email", "SystemModstamp"}, r
    assert r["SystemModstamp"].endswith("+0000"), r
assert set(counts) == set(held), (len(counts), len(held))
for r in rows:
    assert r["External_Id__c"] == held[r["Id"]]["External_Id__c"], r
PY
  pass
}
check_read_back read.jsonl '[]'
run_conflux run read.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "0" "records read when nothing changed"
# Two new contacts and one changed: exactly those three are read next; the changed one appears twice in the file.
upsert "$SF_BASE" Contact '[{"External_Id__c":"new1@x.io","LastName":"N1"},{"External_Id__c":"new2@x.io","LastName":"N2"},{"External_Id__c":"ivan.petrov@example.com","LastName":"Petrov-Vodkin"}]' >/dev/null
run_conflux run read.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "3" "records read after three changes"
contacts "$SF_BASE" >held.jsonl
check_read_back read.jsonl '["ivan.petrov@example.com"]'

# A Salesforce that keeps failing (503 on every attempt of the host) fails the run with the cursor where it was:
# the next run reads the change. settings.retries 0: the host's own five attempts, no retry of the plugin call.
upsert "$SF_BASE" Contact '[{"External_Id__c":"new1@x.io","LastName":"N1-changed"}]' >/dev/null
api "$SF_BASE" POST /__faults "{\"type\":\"5xx\",\"count\":5,\"status\":503,\"path\":\"$V/query\"}" >/dev/null
sed -e 's/batch_size: 7}/batch_size: 7, retries: 0}/' read.yaml >down.yaml
run_conflux run down.yaml --json
expect_code 1
expect_err "HTTP 503"
expect_eq "$(fake_stat "$SF_BASE" 's["pending_faults"]')" "0" "503s used up by the host's attempts"
run_conflux run read.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "1" "records read after the failed run"
contacts "$SF_BASE" >held.jsonl
check_read_back read.jsonl '["ivan.petrov@example.com", "new1@x.io"]'

# 4. A wrong token: one clear configuration error, exit 1, and exactly one request (401 is never retried).
before401=$(fake_stat "$SF_BASE" 's["by_status"].get("401", 0)')
SALESFORCE_TOKEN=00Dwrong-token-1234 run_conflux run read.yaml --json
expect_code 1
expect_err "fix the configuration"
expect_err "INVALID_SESSION_ID: Session expired or invalid"
expect_err "check access_token"
grep -q "00Dwrong-token-1234" <<<"$ERR$OUT" && fail "the token reached the output: $ERR"
expect_eq "$(fake_stat "$SF_BASE" 's["by_status"].get("401", 0)')" "$((before401 + 1))" "401 responses to a wrong token"

# 5. Bursts: 429 (Retry-After 1) and 5xx on the upserts; 503, a connection cut mid-body and a clean 200 with cut
# JSON on the query pages. The host and the plugin retry; every record is still written and read exactly once. The
# copies of the pipelines have their own state and ledger.
mkdir burst && cp -r salesforce demo burst/ && rm -rf burst/salesforce/.conflux
before429=$(fake_stat "$SF_BASE" 's["by_status"].get("429", 0)')
api "$SF_BASE" POST /__faults "{\"faults\":[
  {\"type\":\"429\",\"count\":3,\"path\":\"$V/composite/sobjects\",\"retry_after\":\"1\"},
  {\"type\":\"5xx\",\"count\":2,\"status\":502,\"path\":\"$V/composite/sobjects\"}]}" >/dev/null
run_conflux run burst/$P --json
expect_code 0
balanced >/dev/null
expect_eq "$(summary_field written)" "$written" "records written through 429 and 5xx bursts"
expect_eq "$(sink_field updated)" "$written" "records Salesforce already held are updates"
expect_eq "$(summary_field dead_lettered)" "$dead" "dead letters with bursts"
expect_eq "$(fake_stat "$SF_BASE" 's["by_status"].get("429", 0)')" "$((before429 + 3))" "429 responses received"
expect_eq "$(fake_stat "$SF_BASE" 's["by_status"].get("502", 0)')" "2" "502 responses received"
expect_eq "$(fake_stat "$SF_BASE" 's["pending_faults"]')" "0" "faults left unused"
expect_eq "$(contacts "$SF_BASE" | wc -l)" "$((written + 2))" "contacts held after the burst run"
api "$SF_BASE" POST /__faults "{\"faults\":[
  {\"type\":\"5xx\",\"count\":2,\"status\":503,\"path\":\"$V/query\"},
  {\"type\":\"truncate\",\"count\":1,\"path\":\"$V/query/\"},
  {\"type\":\"cut_json\",\"count\":1,\"path\":\"$V/query/\"}]}" >/dev/null
sed -e 's/read_back/read_burst/' -e 's/read.jsonl/burst.jsonl/' -e 's/read.db/burst.db/' read.yaml >burst.yaml
run_conflux run burst.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "$((written + 2))" "records read through 503s and cut bodies"
expect_eq "$(fake_stat "$SF_BASE" 's["pending_faults"]')" "0" "query faults left unused"
contacts "$SF_BASE" >held.jsonl
check_read_back burst.jsonl '[]'

# An expired query locator (INVALID_QUERY_LOCATOR on a nextRecordsUrl) restarts the query from the cursor.
api "$SF_BASE" POST /__faults "{\"type\":\"5xx\",\"count\":1,\"status\":400,\"path\":\"$V/query/\",
  \"body\":\"[{\\\"message\\\":\\\"invalid query locator\\\",\\\"errorCode\\\":\\\"INVALID_QUERY_LOCATOR\\\"}]\"}" >/dev/null
sed -e 's/read_back/read_locator/' -e 's/read.jsonl/locator.jsonl/' -e 's/read.db/locator.db/' read.yaml >locator.yaml
run_conflux run locator.yaml --json
expect_code 0
expect_err "query locator of Contact expired"
expect_eq "$(fake_stat "$SF_BASE" 's["pending_faults"]')" "0" "locator fault used"
check_read_back locator.jsonl '[]'

# 6. Records Salesforce refuses are dead-lettered with its statusCode and message; the others of the same request
# are written and the run succeeds. A value it cannot even parse (a boolean field given "yes") makes it refuse the
# whole request with 400: the sink splits the request until that record stands alone.
cat >few.jsonl <<'JSONL'
{"External_Id__c":"good1@x.io","LastName":"One","Email":"good1@x.io","Title":"CTO"}
{"External_Id__c":"bad-email@x.io","LastName":"Bad","Email":"not-an-email"}
{"External_Id__c":"nolast@x.io","FirstName":"NoLast"}
{"FirstName":"NoKey","LastName":"K"}
{"External_Id__c":"optout@x.io","LastName":"Opt","HasOptedOutOfEmail":"yes"}
{"External_Id__c":"Good2@X.io","LastName":"Two","DoNotCall":true,"SystemModstamp":"2020-01-01T00:00:00.000+0000"}
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
  name: salesforce
  plugin: salesforce
  config: {instance_url: "\${env:SALESFORCE_INSTANCE_URL}", access_token: "\${env:SALESFORCE_TOKEN}",
           object: Contact, external_id_field: External_Id__c}
  sync: {key: External_Id__c}
YAML
before400=$(fake_stat "$SF_BASE" 's["by_status"].get("400", 0)')
run_conflux run few.yaml --json
expect_code 0
balanced >/dev/null
expect_eq "$(summary_field written)" "2" "records written next to refused ones"
expect_eq "$(summary_field dead_lettered)" "4" "refused records dead-lettered"
[ "$(fake_stat "$SF_BASE" 's["by_status"].get("400", 0)')" -gt "$before400" ] || fail "no whole-request 400 was split"
run_conflux dlq list few.yaml --json
expect_code 0
expect_out "INVALID_EMAIL_ADDRESS: Email: invalid email address: not-an-email (fields: Email)"
expect_out "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName)"
expect_out "JSON_PARSER_ERROR: Cannot deserialize instance of boolean"
expect_out "has no 'External_Id__c'"
expect_eq "$(contact_field "$SF_BASE" good2@x.io DoNotCall)" "True" "booleans are sent as booleans"
expect_eq "$(contact_field "$SF_BASE" good1@x.io Title)" "CTO" "good1 stored"
expect_eq "$(contact_field "$SF_BASE" optout@x.io Id)" "" "the unparsable record was not stored"

# A record refused for a transient reason (UNABLE_TO_LOCK_ROW under a partial_batch fault) is dead-lettered, and a
# replay of the sink's dead letters writes it.
cat >lock.jsonl <<'JSONL'
{"External_Id__c":"lock1@x.io","LastName":"L1"}
{"External_Id__c":"lock2@x.io","LastName":"L2"}
{"External_Id__c":"lock3@x.io","LastName":"L3"}
{"External_Id__c":"lock4@x.io","LastName":"L4"}
JSONL
sed -e 's/few/lock/g' few.yaml >lock.yaml
api "$SF_BASE" POST /__faults "{\"type\":\"partial_batch\",\"count\":1,\"fail_every\":2,\"path\":\"$V/composite/sobjects\"}" >/dev/null
run_conflux run lock.yaml --json
expect_code 0
expect_eq "$(summary_field written)" "2" "records written beside locked rows"
expect_eq "$(summary_field dead_lettered)" "2" "locked rows dead-lettered"
run_conflux dlq list lock.yaml --json
expect_out "UNABLE_TO_LOCK_ROW"
run_conflux dlq replay lock.yaml --stage salesforce
expect_code 0
expect_eq "$(soql "$SF_BASE" "SELECT Id FROM Contact WHERE External_Id__c IN ('lock1@x.io', 'lock2@x.io', 'lock3@x.io', 'lock4@x.io')" | wc -l)" "4" "locked rows written by the replay"
run_conflux dlq list lock.yaml --json
expect_eq "$OUT" "" "dead letters left after the replay"
pass

# 7. Sync modes and field rules, on their own org: one batched lookup (SOQL IN) per batch, then one upsert.
start_fake MODES "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"}}"
upsert "$MODES_BASE" Contact '[{"External_Id__c":"a@x.io","LastName":"A","FirstName":"Ann","Phone":"+111"},{"External_Id__c":"b@x.io","LastName":"B","FirstName":"Bob"}]' >/dev/null
# modes_run NAME MODE_AND_FIELDS RECORDS...: a jsonl -> salesforce run against MODES with that sink config.
modes_run() {
  local name=$1 extra=$2
  shift 2
  printf '%s\n' "$@" >"$name.jsonl"
  cat >"$name.yaml" <<YAML
version: 1
pipeline: $name
state: {path: .conflux/$name.db}
sources:
  - name: file
    plugin: jsonl
    config: {path: $name.jsonl}
sink:
  name: salesforce
  plugin: salesforce
  config: {instance_url: "$MODES_BASE", access_token: "\${env:SALESFORCE_TOKEN}",
           object: Contact, external_id_field: External_Id__c, $extra}
  sync: {key: External_Id__c}
YAML
  api "$MODES_BASE" POST /__reset >/dev/null
  run_conflux run "$name.yaml" --json
  expect_code 0
  balanced >/dev/null
}
# update_only: the held contact is updated, the unknown one rejected naming update_only; nothing is created.
modes_run update 'mode: update_only' '{"External_Id__c":"A@X.io","LastName":"A2"}' '{"External_Id__c":"nobody@x.io","LastName":"N"}'
expect_eq "$(sink_field updated)" "1" "updated by update_only"
expect_eq "$(summary_field dead_lettered)" "1" "unknown contact rejected by update_only"
expect_eq "$(fake_stat "$MODES_BASE" 's["by_method"]')" "{'GET': 1, 'PATCH': 1}" "one lookup and one upsert"
run_conflux state results update.yaml --outcome rejected
expect_out "no Salesforce Contact has this External_Id__c and the sink's mode is update_only"
expect_eq "$(contact_field "$MODES_BASE" a@x.io LastName)" "A2" "LastName after update_only"
expect_eq "$(soql "$MODES_BASE" "SELECT Id FROM Contact" | wc -l)" "2" "contacts after update_only"
# insert_only: the held contact is unchanged (not sent), the new one created.
modes_run insert 'mode: insert_only' '{"External_Id__c":"a@x.io","LastName":"ShouldNotChange"}' '{"External_Id__c":"c@x.io","LastName":"C"}'
expect_eq "$(sink_field unchanged)" "1" "held contact left alone by insert_only"
expect_eq "$(sink_field created)" "1" "new contact created by insert_only"
expect_eq "$(contact_field "$MODES_BASE" a@x.io LastName)" "A2" "LastName after insert_only"
# Field rules: FirstName never (kept from creation), Phone only_if_empty (filled only where blank).
modes_run rules 'fields: {FirstName: never, Phone: only_if_empty}' \
  '{"External_Id__c":"a@x.io","LastName":"A3","FirstName":"Anna","Phone":"+999"}' \
  '{"External_Id__c":"b@x.io","LastName":"B","FirstName":"Bobby","Phone":"+222"}' \
  '{"External_Id__c":"d@x.io","LastName":"D","FirstName":"Dee","Phone":"+444"}'
expect_eq "$(sink_field updated)" "2" "contacts updated under field rules"
expect_eq "$(sink_field created)" "1" "contact created under field rules"
expect_eq "$(fake_stat "$MODES_BASE" 's["by_method"]')" "{'GET': 1, 'PATCH': 1}" "one lookup and one upsert under rules"
expect_eq "$(contact_field "$MODES_BASE" a@x.io FirstName)" "Ann" "a never field is kept"
expect_eq "$(contact_field "$MODES_BASE" a@x.io Phone)" "+111" "an only_if_empty field is not overwritten"
expect_eq "$(contact_field "$MODES_BASE" a@x.io LastName)" "A3" "an overwrite field is written"
expect_eq "$(contact_field "$MODES_BASE" b@x.io Phone)" "+222" "an only_if_empty field fills a blank"
expect_eq "$(contact_field "$MODES_BASE" b@x.io FirstName)" "Bob" "a never field is kept (b)"
expect_eq "$(contact_field "$MODES_BASE" d@x.io FirstName)" "Dee" "never fields are sent on create"
# A rule on a field the object lacks is found by conflux check and, at run time, by the lookup.
sed -e 's/Phone: only_if_empty/Nickname: only_if_empty/' rules.yaml >badrule.yaml
run_conflux check badrule.yaml
expect_code 1
expect_out "fields: Contact has no field Nickname"
pass

# 8. Mirror: contacts that left the source are deleted in Salesforce (ABI 1.2 delete_batch): one lookup by
# external id finds their Ids, one sObject Collections DELETE removes them. One was deleted in Salesforce already:
# unchanged. A refused delete fails the run and is tried again by the next mirror run.
start_fake MIRROR "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"}}"
people() {  # people N...: a CSV with one contact per argument
  echo "External_Id__c,LastName" >people.csv
  for n in "$@"; do echo "m$n@x.io,Person $n"; done >>people.csv
}
cat >mirror.yaml <<YAML
version: 1
pipeline: mirror
state: {path: .conflux/mirror.db}
sources:
  - name: people
    plugin: csv
    config: {path: people.csv}
sink:
  name: salesforce
  plugin: salesforce
  config: {instance_url: "$MIRROR_BASE", access_token: "\${env:SALESFORCE_TOKEN}",
           object: Contact, external_id_field: External_Id__c}
  sync: {key: External_Id__c, mirror: true}
YAML
mirror_held() { soql "$MIRROR_BASE" "SELECT External_Id__c FROM Contact ORDER BY External_Id__c" | python3 -c 'import json,sys; print(" ".join(json.loads(l)["External_Id__c"] for l in sys.stdin))'; }
people 1 2 3 4 5
run_conflux run mirror.yaml --json
expect_code 0
expect_eq "$(sink_field created)" "5" "contacts created by the first mirror run"
# m3 is deleted in Salesforce directly; m2, m3 and m4 leave the source; m6 joins it.
m3=$(soql "$MIRROR_BASE" "SELECT Id FROM Contact WHERE External_Id__c = 'm3@x.io'" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["Id"])')
api "$MIRROR_BASE" DELETE "$V/composite/sobjects?ids=$m3" | grep -q '^200 .*"success":true' || fail "direct delete of m3"
people 1 5 6
api "$MIRROR_BASE" POST /__reset >/dev/null
run_conflux run mirror.yaml --json
expect_code 0
balanced >/dev/null
expect_eq "$(sink_field created)" "1" "contact created by the mirror run"
expect_eq "$(sink_field unchanged)" "2" "contacts the ledger kept from being sent"
expect_eq "$(sink_field deleted)" "2" "contacts deleted because they left the source"
expect_eq "$(fake_stat "$MIRROR_BASE" 's["by_method"]')" "{'DELETE': 1, 'GET': 1, 'PATCH': 1}" "requests of the mirror run"
expect_eq "$(mirror_held)" "m1@x.io m5@x.io m6@x.io" "contacts held after the mirror run"
# A delete Salesforce refuses (a locked row) fails the run; the next mirror run deletes it.
people 1 6
api "$MIRROR_BASE" POST /__faults '{"type":"partial_batch","count":1,"fail_every":1,"method":"DELETE"}' >/dev/null
run_conflux run mirror.yaml --json
expect_code 1
expect_err "UNABLE_TO_LOCK_ROW: unable to obtain exclusive access to this record"
expect_eq "$(mirror_held)" "m1@x.io m5@x.io m6@x.io" "contacts held after a refused delete"
run_conflux run mirror.yaml --json
expect_code 0
expect_eq "$(sink_field deleted)" "1" "the refused delete goes through on the next run"
expect_eq "$(mirror_held)" "m1@x.io m6@x.io" "contacts held after the mirror runs"
pass

# 9. The org's daily limit: after 4 requests the fake answers 403 REQUEST_LIMIT_EXCEEDED. The run stops with the
# host's quota status (exit 75, cancelled, stop_reason quota), not retried, and the batches read before it stay
# committed. The plugin warned when 90 % of the allocation was used.
start_fake QUOTA "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"}, \"salesforce\": {\"daily_limit\": 4, \"query_batch_size\": 7},
  \"collections\": {\"Contact\": $(python3 -c 'import json; print(json.dumps([{"id": "0035g%010dAAA" % i, "properties": {"LastName": "Q%d" % i, "External_Id__c": "q%d@x.io" % i}, "updated_at": 1700000000000 + i // 3} for i in range(1, 41)]))')}}"
sed -e 's/read_back/read_quota/' -e 's/read.jsonl/quota.jsonl/' -e 's/read.db/quota.db/' read.yaml >quota.yaml
SALESFORCE_INSTANCE_URL=$QUOTA_BASE run_conflux run quota.yaml --json
expect_code 75
expect_eq "$(summary_field stop_reason)" "quota" "stop reason of the quota run"
expect_err "platform quota used up"
expect_err "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded."
expect_err "has used 4 of its 4 API requests"
# Four pages of 7 were read (the query and three nextRecordsUrl pages) and committed batch by batch.
expect_eq "$(wc -l <quota.jsonl)" "28" "records committed before the limit"
expect_eq "$(fake_stat "$QUOTA_BASE" 's["by_status"].get("403", 0)')" "1" "limit answers (never retried)"
python3 - <<'PY' || fail "quota read-back is not the first 28 in (SystemModstamp, Id) order"
import json
rows = [json.loads(l) for l in open("quota.jsonl")]
assert [r["Id"] for r in rows] == ["0035g%010dAAA" % i for i in range(1, 29)], [r["Id"] for r in rows]
PY
done_ok
