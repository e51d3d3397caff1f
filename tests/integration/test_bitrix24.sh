#!/usr/bin/env bash
# The bitrix24 connector end to end against the fake Bitrix24 (conflux-fake-server --dialect bitrix24, loopback):
# files -> Bitrix24 with the example pipeline, re-runs that send nothing, incremental reads back (ties at page
# boundaries, resume, changes), a wrong webhook secret and OAuth tokens, QUERY_LIMIT_EXCEEDED from faults and from
# the fake's own leaky bucket, 5xx, cut bodies that must not move the cursor, per-command rejections, update_only /
# insert_only / field rules, leads and deals with contact links. Every run balances, against what the fake holds,
# and no output ever shows the webhook secret.
source "$(dirname "$0")/lib.sh"
: "${CONFLUX_BUILD_DIR:?set by CTest}"
FAKE="$CONFLUX_BUILD_DIR/tests/support/fake_server/conflux-fake-server"
[ -x "$FAKE" ] || fail "conflux-fake-server not built at $FAKE"

SECRET=x7k2abc9def0ghij   # the shape of a Bitrix24 webhook code
# start_fake NAME JSON: starts a fake Bitrix24 with data JSON; sets <NAME>_BASE. Killed by lib.sh's trap.
start_fake() {
  echo "$2" >"$1.json"
  "$FAKE" --dialect bitrix24 --data "$1.json" >"$1.port" 2>"$1.err" &
  BACKGROUND_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$1.port" ] && break; sleep 0.05; done
  local port
  port=$(head -1 "$1.port")
  [[ "$port" =~ ^[0-9]+$ ]] || fail "conflux-fake-server printed no port: $(cat "$1.port" "$1.err")"
  printf -v "${1}_BASE" 'http://127.0.0.1:%s' "$port"
}
# b24.py: the test's HTTP client (one python start per call: the helpers below).
cat >b24.py <<'PY'
import json, sys, urllib.request, urllib.error
def send(url, body=None, method="POST"):
    req = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
cmd, base = sys.argv[1:3]
if cmd == "call":      # call BASE METHOD BODY SECRET
    method, body, secret = sys.argv[3:6]
    print(*send(f"{base}/rest/1/{secret}/{method}.json", body or "{}"))
elif cmd == "control":  # control BASE METHOD PATH [BODY]
    print(send(base + sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None, sys.argv[3])[1])
elif cmd == "stat":     # stat BASE EXPR: EXPR over the /__stats object s
    s = json.loads(send(base + "/__stats", None, "GET")[1])
    print(eval(sys.argv[3]))
elif cmd == "items":    # items BASE ENTITY SECRET: every item, paging with start / next
    entity, secret, start = sys.argv[3], sys.argv[4], 0
    while True:
        body = json.dumps({"order": {"ID": "ASC"}, "select": ["*", "UF_*", "EMAIL", "PHONE"], "start": start})
        page = json.loads(send(f"{base}/rest/1/{secret}/crm.{entity}.list.json", body)[1])
        for item in page["result"]:
            print(json.dumps(item, ensure_ascii=False))
        if "next" not in page:
            break
        start = page["next"]
PY
# b24 BASE METHOD [JSON] [SECRET]: calls a method through the webhook; prints "<status> <body>".
b24() { python3 b24.py call "$1" "$2" "${3:-}" "${4:-$SECRET}"; }
# control BASE METHOD PATH [BODY]: the fake's control endpoints (/__faults, /__stats).
control() { python3 b24.py control "$@"; }
fake_stat() { python3 b24.py stat "$1" "$2"; }
# all_items BASE ENTITY: every item the fake holds, one JSON object per line.
all_items() { python3 b24.py items "$1" "$2" "$SECRET"; }
balanced() {
  python3 -c '
import json,sys; s=json.loads(sys.stdin.read())
assert s["in"] == s["written"] + s["unchanged"] + s["dropped"] + s["dead_lettered"], s
print(s["written"])' <<<"$OUT" || fail "in != written + unchanged + dropped + dead_lettered: $OUT"
}
# run_b24 ARGS...: run_conflux, then check that no output shows the webhook secret.
run_b24() {
  run_conflux "$@"
  if grep -q "$SECRET" <<<"$OUT$ERR"; then fail "the webhook secret reached the output: $ERR"; fi
  pass
}
cursors() { run_conflux state show "$1"; sed -n '/^cursors:/,/^recent runs:/p' <<<"$OUT"; }

start_fake B24 "{\"bitrix24\": {\"webhook_secret\": \"$SECRET\", \"tokens\": [\"oauth-good-token-1\"],
  \"expired_tokens\": [\"oauth-old-token-0\"], \"bucket_burst\": 1000, \"bucket_drain\": 100}}"
export BITRIX24_WEBHOOK_URL=$B24_BASE/rest/1/$SECRET

# 0. The fake on its own: Bitrix24's error bodies, 50-row pages with start / next / total, batch and its limit,
# multi-field updates, deletes and e-mail validation.
python3 - "$B24_BASE" "$SECRET" <<'PY' || fail "the fake Bitrix24 does not behave like the documented API"
import json, sys, urllib.request, urllib.error
base, secret = sys.argv[1:3]
def call(method, body, path=None):
    where = f"1/{secret}/" if path is None else path
    req = urllib.request.Request(f"{base}/rest/{where}{method}.json", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
status, body = call("crm.contact.list", {}, "1/wrongsecret0000000/")
assert status == 401 and body["error"] == "INVALID_CREDENTIALS" and body["error_description"], (status, body)
status, body = call("crm.contact.list", {"auth": "oauth-old-token-0"}, "")
assert status == 401 and body["error"] == "expired_token", (status, body)
status, body = call("crm.contact.list", {}, "")
assert status == 401 and body["error"] == "NO_AUTH_FOUND", (status, body)
# 51 commands: the 51st is refused; the 50 adds run.
cmd = {"c%02d" % i: "crm.deal.add?fields[TITLE]=d%d&fields[ORIGIN_ID]=x%d" % (i, i) for i in range(51)}
status, body = call("batch", {"halt": 0, "cmd": cmd})
assert status == 200 and body["result"]["result_error"]["c50"]["error"] == "ERROR_BATCH_LENGTH_EXCEEDED", body
assert len(body["result"]["result"]) == 50 and isinstance(body["result"]["result"]["c00"], int), body
status, page = call("crm.deal.list", {"order": {"ID": "ASC"}, "start": 0, "select": ["ID"]})
assert len(page["result"]) == 50 and "next" not in page and page["total"] == 50, page
call("crm.deal.add", {"fields": {"TITLE": "d51"}})
status, page = call("crm.deal.list", {"order": {"ID": "ASC"}, "start": 0, "select": ["ID"]})
assert len(page["result"]) == 50 and page["next"] == 50 and page["total"] == 51, page
status, page = call("crm.deal.list", {"order": {"ID": "ASC"}, "start": 50, "select": ["ID"]})
assert [r["ID"] for r in page["result"]] == ["51"] and "next" not in page, page
status, page = call("crm.deal.list", {"start": -1, "select": ["ID"]})
assert len(page["result"]) == 50 and "next" not in page and page["total"] == 0, page
status, page = call("crm.deal.list", {"filter": {">ID": 49}, "order": {"ID": "DESC"}, "select": ["ID", "STAGE_SEMANTIC_ID"]})
assert [r["ID"] for r in page["result"]] == ["51", "50"] and page["result"][0]["STAGE_SEMANTIC_ID"] == "P", page
call("batch", {"cmd": {"d%02d" % i: "crm.deal.delete?id=%d" % i for i in range(1, 51)}})
call("crm.deal.delete", {"id": 51})
status, body = call("crm.deal.delete", {"id": 51})
assert status == 400 and body["error_description"] == "Not found", body
assert call("crm.deal.list", {})[1]["result"] == []
# Multi-fields: an entry with ID is replaced, one without is added; filters match any entry, e-mails in any case.
status, body = call("crm.contact.add", {"fields": {"NAME": "Multi", "EMAIL": [{"VALUE": "m1@x.io", "VALUE_TYPE": "WORK"}]}})
cid = body["result"]
entry = call("crm.contact.get", {"id": cid})[1]["result"]["EMAIL"][0]["ID"]
call("crm.contact.update", {"id": cid, "fields": {"EMAIL": [{"ID": entry, "VALUE": "m2@x.io"}, {"VALUE": "m3@x.io", "VALUE_TYPE": "HOME"}]}})
page = call("crm.contact.list", {"filter": {"EMAIL": "M2@x.io"}, "select": ["ID", "EMAIL"]})[1]
assert [e["VALUE"] for e in page["result"][0]["EMAIL"]] == ["m2@x.io", "m3@x.io"], page
found = call("crm.duplicate.findbycomm", {"type": "EMAIL", "values": ["m3@x.io"], "entity_type": "CONTACT"})[1]
assert found["result"] == {"CONTACT": [cid]}, found
status, body = call("crm.contact.add", {"fields": {"EMAIL": [{"VALUE": "not-an-email"}]}})
assert status == 400 and body["error"] == "ERROR_CORE", body
call("crm.contact.delete", {"id": cid})
PY
pass

# 1. Files -> Bitrix24 with the example pipeline. What the fake holds is what the summary says was written. The
# request log (debug) is on: no line may show the webhook secret.
cp -r "$CONFLUX_SOURCE_DIR/configs/demo" demo
cp -r "$CONFLUX_SOURCE_DIR/configs/bitrix24" bitrix24
P=bitrix24/files_to_bitrix24.yaml
CONFLUX_LOG_LEVEL=debug run_b24 run $P --json
expect_code 0
expect_eq "$(summary_field status)" "succeeded" "files -> bitrix24 status"
grep -q '/rest/1/\*\*\*/batch.json -> 200' <<<"$ERR" || fail "the request log shows no batch call: $(grep -m3 POST <<<"$ERR")"
written=$(balanced)
[ "$written" -gt 100 ] || fail "only $written contacts written: $OUT"
expect_eq "$(sink_field created)" "$written" "contacts created in an empty portal"
all_items "$B24_BASE" contact >held.jsonl
expect_eq "$(wc -l <held.jsonl)" "$written" "contacts the fake holds"
python3 - <<'PY' || fail "stored contacts are not what the sink should send: $(head -3 held.jsonl)"
import json
emails = set()
for line in open("held.jsonl"):
    c = json.loads(line)
    work = [e for e in c["EMAIL"] if e["VALUE_TYPE"] == "WORK"]
    assert len(work) == 1 and work[0]["VALUE"] == work[0]["VALUE"].lower(), c
    assert c["ORIGINATOR_ID"] in ("meta_lead_ads", "mailchimp", "calltouch", "amocrm"), c
    assert not any(k.islower() for k in c), c  # only Bitrix24 field names were stored
    for p in c.get("PHONE", []):
        assert p["VALUE"].startswith("+") and p["VALUE_TYPE"] == "WORK", c
    emails.add(work[0]["VALUE"])
assert len(emails) > 100
PY
grep -q '"NAME": "Иван"' held.jsonl || fail "Cyrillic names did not arrive: $(head -3 held.jsonl)"
grep -q '"UTM_SOURCE": "' held.jsonl || fail "no UTM field arrived: $(head -3 held.jsonl)"
dead=$(summary_field dead_lettered)
run_conflux dlq list $P --stage bitrix24 --json
expect_out "has no 'email' (match_key)"
pass

# 2. Re-runs send nothing: after a cursor reset the sink ledger knows every record (no request at all); without the
# ledger the sink's own lookup finds every contact as it is (lookups only, no write).
requests_before=$(fake_stat "$B24_BASE" 's["requests"]')
run_b24 state reset $P
run_b24 run $P --json
expect_code 0
balanced >/dev/null
expect_eq "$(summary_field written)" "0" "records written by a re-read"
expect_eq "$(sink_field unchanged)" "$written" "records the ledger kept from being sent"
expect_eq "$(fake_stat "$B24_BASE" 's["requests"]')" "$requests_before" "requests on a re-read with the ledger"
python3 - $P <<'PY' >bitrix24/noledger.yaml
import sys
text = open(sys.argv[1]).read().replace(".conflux/state.db", ".conflux/noledger.db")
print(text.replace("  sync:\n    key: email", "  sync:\n    key: email\n    skip_unchanged: false"), end="")
PY
grep -q 'skip_unchanged: false' bitrix24/noledger.yaml || fail "could not turn the ledger off"
run_b24 run bitrix24/noledger.yaml --json
expect_code 0
balanced >/dev/null
expect_eq "$(summary_field written)" "0" "records written without the ledger"
expect_eq "$(sink_field unchanged)" "$written" "records the lookup found unchanged"
lookups=$(((written + dead + 49) / 50))
requests=$(($(fake_stat "$B24_BASE" 's["requests"]') - requests_before))
[ "$requests" -le "$lookups" ] || fail "$requests requests for $written unchanged records (at most $lookups lookups)"
all_items "$B24_BASE" contact | cmp -s - held.jsonl || fail "the fake's contacts changed on a re-run"

# 3. Read contacts back incrementally, 7 per batch: batches end inside runs of equal DATE_MODIFY (a batch of adds
# stamps 50 contacts within a second). First 10 records (--limit), then the rest; then exactly what changed.
cat >read.yaml <<YAML
version: 1
pipeline: read_back
settings: {batch_size: 7}
state: {path: .conflux/read.db}
sources:
  - name: b24
    plugin: bitrix24
    streams: [contacts]
    config: {webhook_url: "\${env:BITRIX24_WEBHOOK_URL}", select: [ORIGINATOR_ID]}
sink:
  name: out
  plugin: jsonl
  config: {path: read.jsonl, mode: append}
YAML
run_b24 run read.yaml --limit 10 --json
expect_code 0
expect_eq "$(summary_field in)" "10" "records read with --limit 10"
run_b24 run read.yaml --json
expect_code 0
expect_eq "$(($(summary_field in) + 10))" "$written" "records read over both runs"
# check_read_back TWICE: read.jsonl holds every contact the fake holds, each once, except the ids in TWICE (changed
# after they were read), which appear exactly twice.
check_read_back() {
  python3 - "$1" <<'PY' || fail "read-back differs from what the fake holds"
import collections, json, sys
held = {json.loads(l)["ID"]: json.loads(l) for l in open("held.jsonl")}
rows = [json.loads(l) for l in open("read.jsonl")]
twice = set(json.loads(sys.argv[1]))
counts = collections.Counter(r["source_id"] for r in rows)
for r in rows:
    assert counts[r["source_id"]] == (2 if r["source_id"] in twice else 1), ("duplicate or missing", r)
assert set(counts) == set(held), (len(counts), len(held))
last = {}
for r in rows:
    last[r["source_id"]] = r
for i, r in last.items():
    work = [e["VALUE"] for e in held[i]["EMAIL"] if e["VALUE_TYPE"] == "WORK"][0]
    assert r["email"] == work and r["source"] == "bitrix24" and r.get("ORIGINATOR_ID") == held[i].get("ORIGINATOR_ID"), r
    assert r["updated_at"].endswith("Z") and r["created_at"].endswith("Z"), r
PY
  pass
}
check_read_back '[]'
run_b24 run read.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "0" "records read when nothing changed"
sleep 1  # the changes below get a DATE_MODIFY after every second read so far
IVAN=$(grep '"NAME": "Иван"' held.jsonl | head -1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["ID"])')
b24 "$B24_BASE" batch "{\"cmd\":{\"a\":\"crm.contact.add?fields[NAME]=N1&fields[EMAIL][0][VALUE]=new1@x.io\",
  \"b\":\"crm.contact.add?fields[NAME]=N2&fields[EMAIL][0][VALUE]=new2@x.io\",
  \"c\":\"crm.contact.update?id=$IVAN&fields[LAST_NAME]=Petrov-Vodkin\"}}" >/dev/null
sleep 1.1  # the source reads a second once it is over
run_b24 run read.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "3" "records read after three changes"
all_items "$B24_BASE" contact >held.jsonl
check_read_back "[\"$IVAN\"]"
grep -qE '"last_name": ?"Petrov-Vodkin"' read.jsonl || fail "the change was not read"

# 4. A wrong webhook secret: one clear configuration error, exit 1, exactly one request (401 is never retried), and
# neither secret in the output. OAuth: an expired token likewise; a good one reads.
before401=$(fake_stat "$B24_BASE" 's["by_status"].get("401", 0)')
BITRIX24_WEBHOOK_URL=$B24_BASE/rest/1/wrongsecret0000000 run_b24 run read.yaml --json
expect_code 1
expect_err "fix the configuration"
expect_err "INVALID_CREDENTIALS"
expect_err "check webhook_url"
grep -q "wrongsecret0000000" <<<"$ERR$OUT" && fail "the wrong secret reached the output: $ERR"
expect_eq "$(fake_stat "$B24_BASE" 's["by_status"].get("401", 0)')" "$((before401 + 1))" "401 responses to a wrong secret"
cat >oauth.yaml <<YAML
version: 1
pipeline: read_oauth
state: {path: .conflux/oauth.db}
sources:
  - name: b24
    plugin: bitrix24
    streams: [contacts]
    config: {portal_url: "$B24_BASE", access_token: "\${env:B24_TOKEN}"}
sink:
  name: out
  plugin: jsonl
  config: {path: oauth.jsonl}
YAML
B24_TOKEN=oauth-old-token-0 run_b24 run oauth.yaml --json
expect_code 1
expect_err "expired_token"
expect_err "check access_token"
grep -q "oauth-old-token-0" <<<"$ERR$OUT" && fail "the token reached the output: $ERR"
B24_TOKEN=oauth-good-token-1 run_b24 run oauth.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "$((written + 2))" "contacts read with an OAuth token"

# 5. QUERY_LIMIT_EXCEEDED: (a) injected 503s with Bitrix24's body, on a fresh portal: every contact is written once;
# (b) the fake's own leaky bucket (burst 4, 4 per second) under a pipeline that declares 100 per second: the host
# meets 503s, backs off, and still writes every contact once.
QLE='{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}'
for mode in faults bucket; do
  if [ $mode = faults ]; then
    start_fake QLE "{\"bitrix24\": {\"webhook_secret\": \"$SECRET\", \"bucket_burst\": 0},
      \"faults\": [{\"type\":\"5xx\",\"status\":503,\"count\":4,\"path\":\"/rest/\",\"body\":$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$QLE")}]}"
  else
    start_fake QLE "{\"bitrix24\": {\"webhook_secret\": \"$SECRET\", \"bucket_burst\": 4, \"bucket_drain\": 4}}"
  fi
  rm -rf qle && mkdir qle && cp -r bitrix24 demo qle/ && rm -rf qle/bitrix24/.conflux
  sed -i 's/    batch_size: 50/    batch_size: 20\n    rate_limit: 100\n    rate_burst: 100/' qle/$P
  BITRIX24_WEBHOOK_URL=$QLE_BASE/rest/1/$SECRET run_b24 run qle/$P --json
  expect_code 0
  balanced >/dev/null
  expect_eq "$(summary_field written)" "$written" "contacts written through QUERY_LIMIT_EXCEEDED ($mode)"
  expect_eq "$(all_items "$QLE_BASE" contact | wc -l)" "$written" "contacts the fake holds after 503s ($mode)"
  got503=$(fake_stat "$QLE_BASE" 's["by_status"].get("503", 0)')
  if [ $mode = faults ]; then expect_eq "$got503" "4" "injected 503s received"; else
    [ "$got503" -gt 0 ] || fail "the leaky bucket never answered 503"; fi
  grep -q -- "-> 503" <<<"$ERR" || fail "the request log shows no 503: $ERR"
done

# 6. 5xx: a burst of 502 on reads is retried; a persistent one fails the run with exit 1 and the cursor where it was.
# retries: 0 keeps the failing run short: the host's own attempts (5, with back-off) are what is being tested.
sed -e 's/read_back/read_5xx/' -e 's/read.jsonl/r5xx.jsonl/' -e 's/read.db/r5xx.db/' -e 's/batch_size: 7}/batch_size: 7, retries: 0}/' \
  read.yaml >r5xx.yaml
run_b24 run r5xx.yaml --limit 20 --json
expect_code 0
before=$(cursors r5xx.yaml)
control "$B24_BASE" POST /__faults '{"type":"5xx","status":502,"count":5,"path":"/rest/"}' >/dev/null
run_b24 run r5xx.yaml --json
expect_code 1
expect_err "server error"
expect_err "gave up after 5 attempts"
expect_eq "$(cursors r5xx.yaml)" "$before" "cursor after a failed run"
expect_eq "$(fake_stat "$B24_BASE" 's["pending_faults"]')" "0" "502s left unused"
control "$B24_BASE" DELETE /__faults >/dev/null
control "$B24_BASE" POST /__faults '{"type":"5xx","status":502,"count":2,"path":"/rest/"}' >/dev/null
run_b24 run r5xx.yaml --json
expect_code 0
expect_eq "$(($(summary_field in) + 20))" "$((written + 2))" "records read after 502 bursts"

# 7. Cut bodies: a body cut below its Content-Length is retried by the host; a clean 200 with cut JSON by the
# plugin call. More cut answers than retries fail the run without moving the cursor; the next run loses nothing.
sed -e 's/read_back/read_cut/' -e 's/read.jsonl/cut.jsonl/' -e 's/read.db/cut.db/' read.yaml >cut.yaml
run_b24 run cut.yaml --limit 15 --json
expect_code 0
before=$(cursors cut.yaml)
control "$B24_BASE" POST /__faults '{"faults":[{"type":"truncate","count":2,"path":"/rest/"},{"type":"cut_json","count":4,"path":"/rest/"}]}' >/dev/null
run_b24 run cut.yaml --json
expect_code 1
expect_err "not a JSON object"
expect_eq "$(cursors cut.yaml)" "$before" "cursor after cut responses"
expect_eq "$(fake_stat "$B24_BASE" 's["pending_faults"]')" "0" "cut-body faults left unused"
run_b24 run cut.yaml --json
expect_code 0
python3 - "$((written + 2))" <<'PY' || fail "cut bodies lost or repeated records"
import collections, json, sys
ids = collections.Counter(json.loads(l)["source_id"] for l in open("cut.jsonl"))
assert len(ids) == int(sys.argv[1]) and max(ids.values()) == 1, (len(ids), ids.most_common(2))
PY
pass

# 8. Per-command rejections: Bitrix24 refuses an invalid e-mail (ERROR_CORE in result_error) and the sink refuses a
# record without one; the others of the same batch are written. Then a partial_batch fault fails every second
# lookup command of a batch: those records are dead-lettered with Bitrix24's error, the rest are written.
cat >few.jsonl <<'JSONL'
{"email":"good1@x.io","first_name":"G1","source":"test","source_id":"f1","tags":["vip"]}
{"email":"not-an-email","first_name":"Bad"}
{"first_name":"NoMail"}
{"email":"Good2@X.io","first_name":"G2","utm_source":"google","UF_CRM_LOYALTY":"gold"}
JSONL
# A literal webhook URL (not a ${env:..} secret): the host still masks its code in the debug request log.
cat >few.yaml <<YAML
version: 1
pipeline: few
state: {path: .conflux/few.db}
sources:
  - name: file
    plugin: jsonl
    config: {path: few.jsonl}
sink:
  name: bitrix24
  plugin: bitrix24
  config: {webhook_url: "$B24_BASE/rest/1/$SECRET", entity: contact}
  sync: {key: email}
YAML
run_b24 check few.yaml
expect_code 0
run_b24 discover read.yaml
expect_code 0
expect_out "leads"
expect_out "email_secondary"
CONFLUX_LOG_LEVEL=debug run_b24 run few.yaml --json
expect_code 0
grep -q "/rest/1/\*\*\*/batch.json -> 200" <<<"$ERR" || fail "the request log does not show the masked webhook: $(grep -m3 POST <<<"$ERR")"
balanced >/dev/null
expect_eq "$(summary_field written)" "2" "records written next to refused ones"
expect_eq "$(summary_field dead_lettered)" "2" "refused records dead-lettered"
expect_err "field 'tags' has no Bitrix24 contact mapping"
run_b24 dlq list few.yaml --json
expect_out "ERROR_CORE"
expect_out "has no 'email' (match_key)"
OUT=$(all_items "$B24_BASE" contact | grep -i good)
grep -q '"VALUE": "Good2@X.io"' <<<"$OUT" || fail "Good2 was not stored: $OUT"
grep -q '"UF_CRM_LOYALTY": "gold"' <<<"$OUT" || fail "a Bitrix24 field was not passed through: $OUT"
grep -q '"ORIGIN_ID": "f1"' <<<"$OUT" || fail "source_id did not become ORIGIN_ID: $OUT"
cat >partial.jsonl <<'JSONL'
{"email":"p1@x.io","first_name":"P1"}
{"email":"p2@x.io","first_name":"P2"}
{"email":"p3@x.io","first_name":"P3"}
{"email":"p4@x.io","first_name":"P4"}
JSONL
sed -e 's/few/partial/g' few.yaml >partial.yaml
control "$B24_BASE" POST /__faults '{"type":"partial_batch","fail_every":2,"count":1,"path":"/rest/"}' >/dev/null
run_b24 run partial.yaml --json
expect_code 0
balanced >/dev/null
expect_eq "$(summary_field written)" "2" "records written next to failed lookups"
expect_eq "$(summary_field dead_lettered)" "2" "records whose lookup failed"
run_b24 dlq list partial.yaml --json
expect_out "injected failure of this command"
expect_eq "$(all_items "$B24_BASE" contact | grep -c '"p[0-9]@x.io"')" "2" "partial contacts the fake holds"

# 9. Sync modes and a field rule, each in its own pipeline: update_only rejects the unknown contact and updates the
# known one; insert_only leaves the known one as it is; first_name: never and phone / last_name: only_if_empty.
mode_run() {  # mode_run NAME CONFIG_EXTRA JSONL
  printf '%s\n' "$3" >"$1.jsonl"
  cat >"$1.yaml" <<YAML
version: 1
pipeline: $1
state: {path: .conflux/$1.db}
sources:
  - name: file
    plugin: jsonl
    config: {path: $1.jsonl}
sink:
  name: bitrix24
  plugin: bitrix24
  config: {webhook_url: "\${env:BITRIX24_WEBHOOK_URL}", $2}
YAML
  run_b24 run "$1.yaml" --json
  expect_code 0
  balanced >/dev/null
}
contact_of() { all_items "$B24_BASE" contact | grep "\"$1\"" | head -1; }
mode_run upd "mode: update_only" '{"email":"good1@x.io","first_name":"G1-updated"}
{"email":"nobody@x.io","first_name":"Nobody"}'
expect_eq "$(sink_field updated)" "1" "update_only: updated"
expect_eq "$(summary_field dead_lettered)" "1" "update_only: rejected"
run_b24 dlq list upd.yaml --json
expect_out "the sink's mode is update_only"
grep -q '"NAME": "G1-updated"' <<<"$(contact_of good1@x.io)" || fail "update_only did not update: $(contact_of good1@x.io)"
[ -z "$(contact_of nobody@x.io)" ] || fail "update_only created a contact"
mode_run ins "mode: insert_only" '{"email":"good1@x.io","first_name":"G1-again"}
{"email":"fresh@x.io","first_name":"Fresh"}'
expect_eq "$(sink_field unchanged)" "1" "insert_only: unchanged"
expect_eq "$(sink_field created)" "1" "insert_only: created"
grep -q '"NAME": "G1-updated"' <<<"$(contact_of good1@x.io)" || fail "insert_only changed a contact"
mode_run rules "fields: {first_name: never, phone: only_if_empty, LAST_NAME: only_if_empty}" \
  '{"email":"good1@x.io","first_name":"Never","last_name":"Set","phone":"+79990001122"}
{"email":"fresh@x.io","first_name":"Fresh","last_name":"Kept","phone":"+79990003344"}'
expect_eq "$(sink_field updated)" "2" "field rules: updated"
OUT=$(contact_of good1@x.io)
grep -q '"NAME": "G1-updated"' <<<"$OUT" || fail "never overwritten: $OUT"
grep -q '"LAST_NAME": "Set"' <<<"$OUT" || fail "only_if_empty did not fill an empty value: $OUT"
grep -q '"VALUE": "+79990001122"' <<<"$OUT" || fail "only_if_empty did not add a phone to an empty PHONE: $OUT"
mode_run rules2 "fields: {phone: only_if_empty, last_name: only_if_empty}" \
  '{"email":"good1@x.io","last_name":"Other","phone":"+70000000000"}'
expect_eq "$(sink_field unchanged)" "1" "only_if_empty over held values"
OUT=$(contact_of good1@x.io)
grep -q '"+70000000000"' <<<"$OUT" && fail "only_if_empty replaced a phone: $OUT"
grep -q '"LAST_NAME": "Set"' <<<"$OUT" || fail "only_if_empty replaced a name: $OUT"

# 10. Leads and deals (what a CRM migration writes): matched by source_id (ORIGINATOR_ID + ORIGIN_ID), statuses and
# money mapped, each deal linked to the contact its contact_source_id names; read back through the deals stream.
mode_run lead_contacts "entity: contact, match_key: source_id" '{"source":"amocrm","source_id":"c1","email":"ann@amo.ru","first_name":"Ann"}'
mode_run leads "entity: lead" '{"source":"amocrm","source_id":"l1","created_at":"2024-03-01T10:00:00Z","status":"in_progress","value":1200.5,"currency":"RUB","email":"ann@amo.ru","contact_source_id":"c1"}
{"source":"amocrm","source_id":"l2","created_at":"2024-03-02T10:00:00Z","status":"bogus"}'
expect_eq "$(sink_field created)" "2" "leads created"
mode_run deals "entity: deal" '{"source":"amocrm","source_id":"d1","name":"Won deal","status":"won","amount":5000,"currency":"RUB","contact_source_id":"c1"}
{"source":"amocrm","source_id":"d2","name":"Open deal","status":"open","stage":"NO_SUCH_STAGE"}'
expect_eq "$(sink_field created)" "1" "deals created"
expect_eq "$(summary_field dead_lettered)" "1" "a deal with an unknown stage is refused"
CONTACT=$(contact_of ann@amo.ru | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["ID"])')
OUT=$(all_items "$B24_BASE" lead | grep '"ORIGIN_ID": "l1"')
grep -q '"STATUS_ID": "IN_PROCESS"' <<<"$OUT" || fail "lead status: $OUT"
grep -q '"OPPORTUNITY": "1200.50"' <<<"$OUT" || fail "lead value: $OUT"
grep -q "\"CONTACT_ID\": \"$CONTACT\"" <<<"$OUT" || fail "lead contact link: $OUT"
mode_run deals_again "entity: deal" '{"source":"amocrm","source_id":"d1","name":"Won deal","status":"won","amount":5000,"currency":"RUB","contact_source_id":"c1"}'
expect_eq "$(sink_field unchanged)" "1" "a deal written again"
cat >deals_read.yaml <<YAML
version: 1
pipeline: deals_read
state: {path: .conflux/deals_read.db}
sources:
  - name: b24
    plugin: bitrix24
    streams: [deals, leads]
    config: {webhook_url: "\${env:BITRIX24_WEBHOOK_URL}"}
sink:
  name: out
  plugin: jsonl
  config: {path: deals_out.jsonl}
YAML
sleep 1.1  # the source reads a second once it is over
run_b24 run deals_read.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "3" "deals and leads read"
python3 - "$CONTACT" <<'PY' || fail "deals read back: $(cat deals_out.jsonl)"
import json, sys
rows = [json.loads(l) for l in open("deals_out.jsonl")]
deal = [r for r in rows if r.get("name") == "Won deal"][0]
assert deal["status"] == "won" and deal["stage"] == "WON" and deal["amount"] == 5000 and deal["currency"] == "RUB", deal
assert deal["contact_source_id"] == sys.argv[1] and deal["source"] == "bitrix24", deal
lead = [r for r in rows if r.get("status") == "in_progress"][0]
assert lead["value"] == 1200.5 and lead["email"] == "ann@amo.ru" and lead["contact_source_id"] == sys.argv[1], lead
PY
pass
# 11. Mirror sync (ABI 1.2 delete_batch): contacts that left the file are deleted from Bitrix24 (crm.contact.delete
# in a batch, after a batched lookup); one deleted meanwhile by someone else counts as already gone.
people() { for n in "$@"; do echo "{\"email\":\"m$n@mirror.io\",\"first_name\":\"M$n\"}"; done >people.jsonl; }
cat >mirror.yaml <<YAML
version: 1
pipeline: mirror
state: {path: .conflux/mirror.db}
sources:
  - name: people
    plugin: jsonl
    config: {path: people.jsonl}
sink:
  name: bitrix24
  plugin: bitrix24
  config: {webhook_url: "\${env:BITRIX24_WEBHOOK_URL}", entity: contact}
  sync: {key: email, mirror: true}
YAML
mirrored() { all_items "$B24_BASE" contact | grep -o '"m[0-9]@mirror.io"' | sort | tr -d '"' | paste -sd' '; }
people 1 2 3 4
run_b24 run mirror.yaml --json
expect_code 0
expect_eq "$(sink_field created)" "4" "mirror: created"
people 1 2 5
run_b24 run mirror.yaml --json
expect_code 0
balanced >/dev/null
expect_eq "$(sink_field created)" "1" "mirror: created on the second run"
expect_eq "$(sink_field deleted)" "2" "mirror: deleted"
expect_eq "$(mirrored)" "m1@mirror.io m2@mirror.io m5@mirror.io" "contacts after the mirror run"
M2=$(all_items "$B24_BASE" contact | grep '"m2@mirror.io"' | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["ID"])')
b24 "$B24_BASE" crm.contact.delete "{\"id\":$M2}" >/dev/null
people 1 5
run_b24 run mirror.yaml --json
expect_code 0
expect_eq "$(sink_field deleted)" "0" "mirror: nothing left to delete"
expect_eq "$(mirrored)" "m1@mirror.io m5@mirror.io" "contacts after a mirror run whose record was gone"
done_ok
