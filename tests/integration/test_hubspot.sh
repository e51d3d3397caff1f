#!/usr/bin/env bash
# The hubspot connector end to end against the fake HubSpot (conflux-fake-server --dialect hubspot, loopback):
# files -> HubSpot with the example pipeline, the sink ledger on a full re-read, incremental reads back with the
# hubspot source (ties at page boundaries, resume), a wrong token, 429 and 5xx bursts, the fake's own rolling
# limit, a per-record refusal dead-lettered, the daily quota stopping a run, associations between companies,
# contacts and deals (written, refused, replayed, read back), the sync modes and field rules, the search limit, and
# mirror deletes.
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
# What the fake holds, read through its own API (hs.py below): `hs.py api BASE METHOD PATH [BODY]` prints
# "<status> <body>"; `hs.py objects BASE TYPE` every object of TYPE, one JSON object per line (paging with
# limit/after); `hs.py props BASE TYPE KEY VALUE:PROPERTY,...` for each VALUE the properties of the object whose KEY
# is VALUE, joined by "/" ("None" when it has no value, "-" when there is no such object); `hs.py links BASE FROM FROM_KEY
# TO TO_KEY` the associations FROM -> TO as one JSON object {FROM_KEY value: [TO_KEY values, sorted]} (objects
# without associations left out); `hs.py stat BASE EXPR...` Python expressions over the fake's /__stats as `s`,
# joined by "/".
cat >hs.py <<'PY_END'
import json, sys, time, urllib.request, urllib.error
TOKEN = "pat-na1-fake-7f3c9e21"
def call(base, method, path, body=None):
    # A 429 of the fake's rolling limit (the run just before may have used the window up) is waited out, as any
    # client of HubSpot must: the test's own reads and writes are not what it measures.
    for attempt in range(20):
        req = urllib.request.Request(base + path, data=body.encode() if body else None, method=method,
                                     headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            if e.code != 429 or path.startswith("/__") or "DAILY" in text or attempt == 19:
                return e.code, text
            time.sleep(float(e.headers.get("Retry-After") or 1))
def objects(base, kind):
    out, after = [], None
    while True:
        status, text = call(base, "GET", "/crm/v3/objects/%s?limit=100%s" % (kind, "&after=" + after if after else ""))
        assert status == 200, (status, text)
        page = json.loads(text)
        out += page["results"]
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            return out
def links(base, frm, frm_key, to, to_key):
    sources = objects(base, frm)
    names = {o["id"]: o["properties"].get(to_key) for o in objects(base, to)}
    found = {}
    for i in range(0, len(sources), 100):
        chunk = sources[i:i + 100]
        status, text = call(base, "POST", "/crm/v4/associations/%s/%s/batch/read" % (frm, to),
                            json.dumps({"inputs": [{"id": o["id"]} for o in chunk]}))
        assert status in (200, 207), (status, text)
        key = {o["id"]: o["properties"].get(frm_key) for o in chunk}
        for r in json.loads(text)["results"]:
            found[key[r["from"]["id"]]] = sorted(names[t["toObjectId"]] for t in r["to"])
    return found
if __name__ == "__main__":
    cmd, base = sys.argv[1], sys.argv[2]
    if cmd == "api":
        print(*call(*sys.argv[2:6]))
    elif cmd == "stat":
        s = json.loads(call(base, "GET", "/__stats")[1])
        print("/".join(str(eval(e)) for e in sys.argv[3:]))
    elif cmd == "objects":
        for o in objects(base, sys.argv[3]):
            print(json.dumps(o))
    elif cmd == "props":
        kind, key = sys.argv[3:5]
        held = {o["properties"].get(key): o["properties"] for o in objects(base, kind)}
        out = []
        for spec in sys.argv[5:]:
            value, names = spec.split(":")
            out.append("/".join(str(held[value].get(n)) for n in names.split(",")) if value in held else "-")
        print(" ".join(out))
    elif cmd == "links":
        print(json.dumps(links(base, *sys.argv[3:7]), sort_keys=True))
PY_END
api() { python3 hs.py api "$@"; }
all_contacts() { python3 hs.py objects "$1" contacts; }
links() { python3 hs.py links "$@"; }
fake_stat() { python3 hs.py stat "$@"; }  # fake_stat BASE EXPR...
# tally FIELD...: checks the balance of the last `run --json` summary and prints the FIELDs joined by "/"; a field
# is a summary value, or sink.NAME for a counter of the sink's stage.
tally() {
  python3 -c '
import json,sys; s=json.loads(sys.stdin.read())
assert s["in"] == s["written"] + s["unchanged"] + s["dropped"] + s["dead_lettered"], s
sink = [t for t in s["stages"] if t["role"] == "sink"][0]
print("/".join(str(sink[f[5:]] if f.startswith("sink.") else s[f]) for f in sys.argv[1:]))' "$@" <<<"$OUT" ||
    fail "in != written + unchanged + dropped + dead_lettered: $OUT"
}
# expect_summary FIELD=VALUE...: the last `run --json` summary balances and has these values (fields as in tally).
expect_summary() {
  local fields=() values=()
  for pair in "$@"; do fields+=("${pair%%=*}"); values+=("${pair#*=}"); done
  expect_eq "$(tally "${fields[@]}")" "$(IFS=/; echo "${values[*]}")" "summary ${fields[*]}"
}

# Searches are unlimited on this fake and unpaced in read.yaml, to keep the test fast; section 12 covers the search
# limit.
start_fake HS "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"}, \"hubspot\": {\"search_rate_limit_requests\": 0}}"
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
# Lookups by a unique property (207 OBJECT_NOT_FOUND for what it does not hold), associations that validate both
# ids, and archive (204) taking the object's associations with it.
OUT=$(api "$HS_BASE" POST /crm/v3/objects/deals/batch/read '{"idProperty":"dealname","properties":["amount"],"inputs":[{"id":"d1"},{"id":"nope"}]}')
grep -q '^207 .*"category":"OBJECT_NOT_FOUND","context":{"ids":\["nope"\]}' <<<"$OUT" || fail "batch read: $OUT"
grep -q '"amount":"10"' <<<"$OUT" || fail "batch read: $OUT"
d1=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1].split(" ",1)[1])["results"][0]["id"])' "$OUT")
OUT=$(api "$HS_BASE" POST /crm/v3/objects/contacts/batch/upsert '{"inputs":[{"id":"assoc@x.io","idProperty":"email","properties":{}}]}')
c1=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1].split(" ",1)[1])["results"][0]["id"])' "$OUT")
OUT=$(api "$HS_BASE" POST /crm/v4/associations/deals/contacts/batch/associate/default \
  "{\"inputs\":[{\"from\":{\"id\":\"$d1\"},\"to\":{\"id\":\"$c1\"}},{\"from\":{\"id\":\"$d1\"},\"to\":{\"id\":\"999999\"}}]}")
grep -q '^200 .*"numErrors":1' <<<"$OUT" || fail "an association to a missing contact must be a per-input error: $OUT"
OUT=$(api "$HS_BASE" POST /crm/v4/associations/contacts/deals/batch/read "{\"inputs\":[{\"id\":\"$c1\"}]}")
grep -q "^200 .*\"toObjectId\":\"$d1\"" <<<"$OUT" || fail "associations are kept in both directions: $OUT"
OUT=$(api "$HS_BASE" POST /crm/v3/objects/deals/batch/archive "{\"inputs\":[{\"id\":\"$d1\"}]}")
grep -q '^204 ' <<<"$OUT" || fail "archive: $OUT"
OUT=$(api "$HS_BASE" POST /crm/v4/associations/contacts/deals/batch/read "{\"inputs\":[{\"id\":\"$c1\"}]}")
grep -q '^207 .*NO_ASSOCIATIONS_FOUND' <<<"$OUT" || fail "an archived deal keeps no associations: $OUT"
OUT=$(api "$HS_BASE" POST /crm/v3/objects/contacts/batch/archive "{\"inputs\":[{\"id\":\"$c1\"}]}")
pass

# 1. Files -> HubSpot with the example pipeline. What the fake holds is what the summary says was written.
cp -r "$CONFLUX_SOURCE_DIR/configs/demo" demo
cp -r "$CONFLUX_SOURCE_DIR/configs/hubspot" hubspot
P=hubspot/files_to_hubspot.yaml
run_conflux run $P --json
expect_code 0
IFS=/ read -r status written created dead <<<"$(tally status written sink.created dead_lettered)"
expect_eq "$status" "succeeded" "files -> hubspot status"
[ "$written" -gt 100 ] || fail "only $written contacts written: $OUT"
expect_eq "$created" "$written" "contacts created in an empty portal"
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
run_conflux dlq list $P --stage hubspot --json
expect_out "has no 'email' (id_property)"
pass

# 2. A full re-read after a cursor reset sends nothing: the sink ledger knows every record HubSpot holds.
requests_before=$(fake_stat "$HS_BASE" 's["requests"]')
run_conflux state reset $P
expect_code 0
run_conflux run $P --json
expect_code 0
expect_summary written=0 sink.unchanged=$written  # the ledger kept every record from being sent again
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
             properties: [email, firstname, lastname], search_rate_limit: 100}
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
  '{"inputs":[{"id":"new1@x.io","idProperty":"email","properties":{"firstname":"N1"}},{"id":"new2@x.io","idProperty":"email","properties":{"firstname":"N2"}},{"id":"ivan.petrov@example.com","idProperty":"email","properties":{"lastname":"Petrov-Vodkin"}}]}' >upsert.txt
grep -q '^200 ' upsert.txt || fail "the test's own upsert of three contacts: $(cat upsert.txt)"
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
expect_summary written=$written dead_lettered=$dead  # through 429 and 5xx bursts
expect_eq "$(fake_stat "$HS_BASE" 's["by_status"].get("429", 0)' 's["by_status"].get("502", 0)' 's["pending_faults"]')" \
  "$((before429 + 3))/2/0" "429s and 502s received, faults left unused"

# 6. The fake's own rolling limit (10 requests per second here): its 429s with Retry-After are honoured, and a
# read of every contact, 7 per request, still completes without loss.
start_fake SLOW "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"},
  \"hubspot\": {\"rate_limit_requests\": 10, \"rate_limit_window_ms\": 1000, \"search_rate_limit_requests\": 0},
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
expect_summary written=2 dead_lettered=2  # written next to refused ones, which are dead-lettered
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
expect_summary written=2 dead_lettered=2  # the same outcomes after splitting the refused request
expect_eq "$(fake_stat "$SMALL_BASE" 's["by_status"].get("400", 0)' 's["by_status"].get("207", 0) + s["by_status"].get("200", 0)')" \
  "1/2" "whole-request refusals / split requests"

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

# 9. Associations. Companies (by domain), then contacts naming their company, then deals naming their contact and
# company: each written record is associated with the partner its field names, in one lookup and one associate
# request per batch. A partner HubSpot does not hold, and an association HubSpot refuses, dead-letter the record
# (which HubSpot holds, without the association); a replay once the partner exists completes it.
start_fake ASSOC "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"}, \"hubspot\": {\"search_rate_limit_requests\": 0}}"
export HUBSPOT_BASE_URL=$ASSOC_BASE
# sink_pipeline NAME OBJECT ID_PROPERTY [EXTRA]: NAME.yaml reading NAME.jsonl into OBJECT; EXTRA is more sink config.
sink_pipeline() {
  cat >"$1.yaml" <<YAML
version: 1
pipeline: $1
state: {path: .conflux/$1.db}
sources:
  - name: file
    plugin: jsonl
    config: {path: $1.jsonl}
sink:
  name: hubspot
  plugin: hubspot
  config: {base_url: "\${env:HUBSPOT_BASE_URL}", access_token: "\${env:HUBSPOT_TOKEN}", object: $2, id_property: $3${4:-}}
  sync: {key: $3}
YAML
}
cat >companies.jsonl <<'JSONL'
{"domain":"acme.io","name":"Acme"}
{"domain":"globex.io","name":"Globex"}
JSONL
sink_pipeline companies companies domain
run_conflux run companies.yaml --json
expect_code 0
expect_summary sink.created=2
cat >contacts.jsonl <<'JSONL'
{"email":"ann@acme.io","firstname":"Ann","company_domain":"acme.io"}
{"email":"bob@globex.io","firstname":"Bob","company_domain":"globex.io"}
{"email":"cat@acme.io","firstname":"Cat","company_domain":"acme.io"}
{"email":"dan@initech.io","firstname":"Dan","company_domain":"initech.io"}
{"email":"eve@x.io","firstname":"Eve"}
JSONL
sink_pipeline contacts contacts email ",
          associations: [{to: companies, field: company_domain, id_property: domain}]"
run_conflux run contacts.yaml --json
expect_code 0
expect_summary written=4 dead_lettered=1  # written and associated / whose company HubSpot does not hold
run_conflux dlq list contacts.yaml --json
expect_out "HubSpot holds no company with domain 'initech.io' (field company_domain); write the companies first"
# The fake holds all five contacts (Dan without a company), none with company_domain as a property.
python3 hs.py objects "$ASSOC_BASE" contacts >held.jsonl
expect_eq "$(wc -l <held.jsonl)" "5" "contacts the fake holds"
grep -q company_domain held.jsonl && fail "the association field was sent as a property: $(cat held.jsonl)"
expect_eq "$(links "$ASSOC_BASE" contacts email companies domain)" \
  '{"ann@acme.io": ["acme.io"], "bob@globex.io": ["globex.io"], "cat@acme.io": ["acme.io"]}' "contact -> company associations"
expect_eq "$(links "$ASSOC_BASE" companies domain contacts email)" \
  '{"acme.io": ["ann@acme.io", "cat@acme.io"], "globex.io": ["bob@globex.io"]}' "company -> contact associations"
expect_eq "$(fake_stat "$ASSOC_BASE" 'sum(s["by_path"]["POST /crm/v3/objects/companies/batch/read"].values())' \
                         'sum(s["by_path"]["POST /crm/v4/associations/contacts/companies/batch/associate/default"].values())')" \
  "1/1" "company lookups and associate requests (one each per batch)"
# Initech arrives; replaying the dead letter associates Dan.
echo '{"domain":"initech.io","name":"Initech"}' >>companies.jsonl
run_conflux run companies.yaml --json
expect_summary sink.created=1
run_conflux dlq replay contacts.yaml
expect_code 0
expect_eq "$(links "$ASSOC_BASE" contacts email companies domain | python3 -c 'import json,sys; print(json.load(sys.stdin)["dan@initech.io"])')" \
  "['initech.io']" "Dan's company after the replay"
run_conflux dlq list contacts.yaml --json
expect_eq "$OUT" "" "dead letters left after the replay"

# Deals name a contact (by e-mail, compared case-insensitively) and a company. Every second deal -> contact input
# fails (a partial_batch fault): that deal is dead-lettered with HubSpot's error and gets no company either.
cat >deals.jsonl <<'JSONL'
{"dealname":"d-ann","amount":"100","contact_email":"ann@acme.io","company_domain":"acme.io"}
{"dealname":"d-bob","amount":"200","contact_email":"BOB@globex.io","company_domain":"globex.io"}
{"dealname":"d-eve","amount":"300","contact_email":"eve@x.io"}
JSONL
sink_pipeline deals deals dealname ",
          associations: [{to: contacts, field: contact_email}, {to: companies, field: company_domain, id_property: domain}]"
api "$ASSOC_BASE" POST /__faults \
  '{"type":"partial_batch","fail_every":2,"path":"/crm/v4/associations/deals/contacts/batch/associate/default"}' >/dev/null
run_conflux run deals.yaml --json
expect_code 0
expect_summary written=2 dead_lettered=1  # written and associated / whose association failed
run_conflux dlq list deals.yaml --json
expect_out "was written (HubSpot id"
expect_out "injected failure of this input (VALIDATION_ERROR)"
expect_eq "$(python3 hs.py objects "$ASSOC_BASE" deals | wc -l)" "3" "deals the fake holds"
expect_eq "$(links "$ASSOC_BASE" deals dealname contacts email)" \
  '{"d-ann": ["ann@acme.io"], "d-eve": ["eve@x.io"]}' "deal -> contact associations"
expect_eq "$(links "$ASSOC_BASE" deals dealname companies domain)" '{"d-ann": ["acme.io"]}' "deal -> company associations"
run_conflux dlq replay deals.yaml
expect_code 0
expect_eq "$(links "$ASSOC_BASE" deals dealname contacts email)" \
  '{"d-ann": ["ann@acme.io"], "d-bob": ["bob@globex.io"], "d-eve": ["eve@x.io"]}' "deal -> contact after the replay"
expect_eq "$(links "$ASSOC_BASE" deals dealname companies domain)" \
  '{"d-ann": ["acme.io"], "d-bob": ["globex.io"]}' "deal -> company after the replay"

# 10. The source reads the associations back (read_associations): associated_<type> holds the partners' ids.
cat >assoc_read.yaml <<YAML
version: 1
pipeline: assoc_read
state: {path: .conflux/assoc_read.db}
sources:
  - name: hs
    plugin: hubspot
    streams: [contacts, deals]
    config: {base_url: "\${env:HUBSPOT_BASE_URL}", access_token: "\${env:HUBSPOT_TOKEN}", search_rate_limit: 100,
             properties: [email, dealname], read_associations: [companies, contacts, deals]}
sink:
  name: out
  plugin: jsonl
  config: {path: assoc_read.jsonl}
YAML
run_conflux run assoc_read.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "8" "contacts and deals read with their associations"
cat >check_read.py <<'PY_END'
import json, sys
import hs
base = sys.argv[1]
keys = {"companies": "domain", "contacts": "email", "deals": "dealname"}
objects = {kind: {o["id"]: o["properties"] for o in hs.objects(base, kind)} for kind in keys}
rows = [json.loads(l) for l in open("assoc_read.jsonl")]
assert len(rows) == 8, rows
for kind in ("contacts", "deals"):
    for to in keys:
        if to == kind:
            continue
        links = hs.links(base, kind, keys[kind], to, keys[to])
        for r in rows:
            if ("lastmodifieddate" in r) != (kind == "contacts"):  # contacts carry lastmodifieddate, deals hs_...
                continue
            got = sorted(objects[to][i][keys[to]] for i in r["associated_" + to])
            assert got == links.get(objects[kind][r["id"]][keys[kind]], []), (r, to, links)
ann = [r for r in rows if r.get("email") == "ann@acme.io"][0]
assert len(ann["associated_companies"]) == 1 and len(ann["associated_deals"]) == 1, ann
assert "associated_contacts" not in ann, ann
PY_END
python3 check_read.py "$ASSOC_BASE" || fail "associations read back differ from the fake's: $(cat assoc_read.jsonl)"
pass

# 11. Sync modes and field rules, each with one lookup (batch read by e-mail) per batch.
lookups() {
  fake_stat "$ASSOC_BASE" 'sum(s["by_path"].get("POST /crm/v3/objects/contacts/batch/read", {}).values())'
}
contacts() { python3 hs.py props "$ASSOC_BASE" contacts email "$@"; }  # contacts EMAIL:PROPERTY,...
# update_only: Ann is updated; Zed, whom HubSpot does not hold, is dead-lettered naming update_only, not created.
cat >upd.jsonl <<'JSONL'
{"email":"ann@acme.io","lastname":"Anders"}
{"email":"zed@x.io","lastname":"Zed"}
JSONL
sink_pipeline upd contacts email ", mode: update_only"
before=$(lookups)
run_conflux run upd.yaml --json
expect_code 0
expect_summary sink.updated=1 dead_lettered=1
run_conflux dlq list upd.yaml --json
expect_out "HubSpot holds no contact with this email and the sink's mode is update_only"
expect_eq "$(contacts ann@acme.io:lastname zed@x.io:email)" "Anders -" "Ann's lastname, and no Zed, after update_only"
expect_eq "$(lookups)" "$((before + 1))" "lookups for one batch"
# insert_only: Ann is held, so unchanged (her firstname stays); Fay is created.
cat >ins.jsonl <<'JSONL'
{"email":"ann@acme.io","firstname":"Annabel"}
{"email":"fay@x.io","firstname":"Fay"}
JSONL
sink_pipeline ins contacts email ", mode: insert_only"
run_conflux run ins.yaml --json
expect_code 0
expect_summary sink.unchanged=1 sink.created=1
expect_eq "$(contacts ann@acme.io:firstname fay@x.io:firstname)" "Ann Fay" "Ann and Fay after insert_only"
# Field rules: firstname and jobtitle only_if_empty, hs_lead_status never. Bob keeps his firstname, gets a jobtitle
# and no lead status; Gus is new and gets all three; Cat, with only a never field, is unchanged and not sent; Eve's
# lifecyclestage (overwrite) is written.
cat >rules.jsonl <<'JSONL'
{"email":"bob@globex.io","firstname":"Robert","jobtitle":"CEO","hs_lead_status":"NEW"}
{"email":"gus@x.io","firstname":"Gus","jobtitle":"CTO","hs_lead_status":"NEW"}
{"email":"cat@acme.io","hs_lead_status":"OPEN"}
{"email":"eve@x.io","lifecyclestage":"lead"}
JSONL
sink_pipeline rules contacts email ",
          fields: {firstname: only_if_empty, jobtitle: only_if_empty, hs_lead_status: never, lifecyclestage: overwrite}"
before=$(lookups)
run_conflux run rules.yaml --json
expect_code 0
expect_summary sink.updated=2 sink.created=1 sink.unchanged=1  # updated Bob, Eve; created Gus; unchanged Cat
expect_eq "$(lookups)" "$((before + 1))" "lookups for one batch"
expect_eq "$(contacts bob@globex.io:firstname,jobtitle,hs_lead_status gus@x.io:firstname,jobtitle,hs_lead_status \
              cat@acme.io:hs_lead_status eve@x.io:lifecyclestage)" \
  "Bob/CEO/None Gus/CTO/NEW None lead" "Bob, Gus, Cat and Eve after the field rules"
# The fake holds the five contacts of section 9, Fay and Gus.
expect_eq "$(python3 hs.py objects "$ASSOC_BASE" contacts | wc -l)" "7" "contacts the fake holds after the sync modes"

# 12. The search limit (5 per second per token on the fake, as HubSpot documents). A burst of searches gets 429s
# with policyName SECONDLY and Retry-After; the source's own pacing (4 per second by default, through the host's
# hubspot-search bucket) reads 30 contacts in 5-record pages without a single one, and takes the time that costs.
start_fake SEARCH "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"},
  \"collections\": {\"contacts\": $(python3 -c 'import json; print(json.dumps([{"id": str(i), "properties": {"email": "s%d@x.io" % i}, "updated_at": 1700000000000 + i} for i in range(1, 31)]))')}}"
cat >burst.py <<'PY_END'
import sys, urllib.request, urllib.error
for _ in range(8):
    req = urllib.request.Request(sys.argv[1] + "/crm/v3/objects/contacts/search", data=b'{"limit":1}', method="POST",
                                 headers={"Authorization": "Bearer " + sys.argv[2], "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req).read()
        print("200")
    except urllib.error.HTTPError as e:
        print(e.code, e.headers.get("Retry-After"), e.read().decode())
PY_END
OUT=$(python3 burst.py "$SEARCH_BASE" "$TOKEN")
grep -q '^429 1 .*"policyName":"SECONDLY"' <<<"$OUT" || fail "a burst of searches must meet the search limit: $OUT"
api "$SEARCH_BASE" POST /__reset >/dev/null
sleep 1.1  # the burst's window passes
sed -e 's/read_back/read_paced/' -e 's/read.jsonl/paced.jsonl/' -e 's/read.db/paced.db/' -e 's/, search_rate_limit: 100//' \
  -e 's/batch_size: 7/batch_size: 5/' read.yaml >paced.yaml
started=$(date +%s%N)
HUBSPOT_BASE_URL=$SEARCH_BASE run_conflux run paced.yaml --json
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
expect_code 0
expect_eq "$(summary_field in)" "30" "records read at the search pace"
IFS=/ read -r searches refused <<<"$(fake_stat "$SEARCH_BASE" \
  's["by_path"]["POST /crm/v3/objects/contacts/search"].get("200", 0)' 's["by_status"].get("429", 0)')"
expect_eq "$refused" "0" "429s of a paced read"
[ "$elapsed_ms" -ge $(((searches - 1) * 250)) ] || fail "$searches searches in $elapsed_ms ms: faster than 4 per second"
pass

# 13. Mirror sync (ABI 1.2 delete_batch): contacts that left the source are archived in HubSpot, with their
# associations, by one lookup and one batch archive; one archived by hand in between counts as already gone.
cat >mirror.jsonl <<'JSONL'
{"email":"m1@x.io","company_domain":"acme.io"}
{"email":"m2@x.io","company_domain":"acme.io"}
{"email":"m3@x.io","company_domain":"acme.io"}
{"email":"m4@x.io","company_domain":"acme.io"}
JSONL
sink_pipeline mirror contacts email ",
          associations: [{to: companies, field: company_domain, id_property: domain}]"
sed -i 's/  sync: {key: email}/  sync: {key: email, mirror: true}/' mirror.yaml
run_conflux run mirror.yaml --json
expect_code 0
expect_summary sink.created=4
m4=$(contacts m4@x.io:hs_object_id)
api "$ASSOC_BASE" POST /crm/v3/objects/contacts/batch/archive "{\"inputs\":[{\"id\":\"$m4\"}]}" | grep -q '^204 ' ||
  fail "the test's own archive of m4"
printf '%s\n' '{"email":"m1@x.io","company_domain":"acme.io"}' '{"email":"m2@x.io","company_domain":"acme.io"}' \
  '{"email":"m5@x.io","company_domain":"acme.io"}' >mirror.jsonl
before=$(fake_stat "$ASSOC_BASE" 'sum(s["by_path"].get("POST /crm/v3/objects/contacts/batch/archive", {}).values())')
run_conflux run mirror.yaml --json
expect_code 0
expect_summary sink.unchanged=2 sink.created=1 deleted=1 balanced=True  # m4 was gone already: not counted
expect_eq "$(fake_stat "$ASSOC_BASE" 'sum(s["by_path"].get("POST /crm/v3/objects/contacts/batch/archive", {}).values())')" \
  "$((before + 1))" "mirror: archive requests"
expect_eq "$(links "$ASSOC_BASE" companies domain contacts email | python3 -c 'import json,sys; print(" ".join(e for e in json.load(sys.stdin)["acme.io"] if e.startswith("m")))')" \
  "m1@x.io m2@x.io m5@x.io" "mirror: acme's contacts"
expect_eq "$(python3 hs.py objects "$ASSOC_BASE" contacts | wc -l)" "10" "contacts the fake holds after the mirror run"
done_ok
