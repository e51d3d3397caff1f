#!/usr/bin/env bash
# The amocrm connector end to end against the fake amoCRM (conflux-fake-server --dialect amocrm, loopback): files ->
# amoCRM with the example pipeline, re-runs that send nothing (the sink ledger, then the sink's own lookup),
# incremental reads back (ties within a second, resume), a wrong token, 429 / 5xx bursts and the fake's own 7/s
# limit shared by a source and a sink, a truncated body that must not move the cursor, per-item validation errors
# dead-lettered and replayed, update_only / insert_only / field rules, leads both ways, and mirror refused. Every run
# balances, and what the fake holds is what the summaries say.
source "$(dirname "$0")/lib.sh"
: "${CONFLUX_BUILD_DIR:?set by CTest}"

TOKEN=amo-longlived-fake-3f9c1e77
LEAD_FIELDS='"custom_fields": {"leads": [{"id": 200100, "name": "External ID", "code": "EXTERNAL_ID", "type": "text"}]}'
amo_fake() {  # amo_fake NAME [OPTIONS_JSON_MEMBERS] [COLLECTIONS_JSON]: a fake amoCRM account accepting $TOKEN
  start_fake_server amocrm "$1" "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"},
    \"amocrm\": {$LEAD_FIELDS${2:+, $2}}${3:+, \"collections\": $3}}"
}
api() { fake_request "$1" "$2" "$3" "${4:-}" "$TOKEN"; }
# all_entities BASE KIND: every entity the fake holds, one JSON object per line, paging with page/limit.
all_entities() {
  python3 - "$1" "$2" "$TOKEN" <<'PY'
import json, sys, urllib.request
base, kind, token = sys.argv[1:4]
page = 1
while True:
    req = urllib.request.Request("%s/api/v4/%s?limit=250&page=%d&with=contacts" % (base, kind, page),
                                 headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req) as r:
        if r.status == 204:
            break
        body = json.loads(r.read())
    for e in body["_embedded"][kind]:
        print(json.dumps(e, ensure_ascii=False))
    if "next" not in body["_links"]:
        break
    page += 1
PY
}
# amo_contact EMAIL EXPR: a Python expression over the contact of $AMO_BASE holding EMAIL (`e`, None when there is
# none); `values(CODE)` joins the values of one custom field with commas.
amo_contact() {
  python3 - "$AMO_BASE" "$TOKEN" "$1" "$2" <<'PY'
import json, sys, urllib.parse, urllib.request
base, token, email, expr = sys.argv[1:5]
req = urllib.request.Request(base + "/api/v4/contacts?limit=250&query=" + urllib.parse.quote(email),
                             headers={"Authorization": "Bearer " + token})
with urllib.request.urlopen(req) as r:
    items = json.loads(r.read())["_embedded"]["contacts"] if r.status == 200 else []
e = next((c for c in items for f in (c["custom_fields_values"] or []) if f["field_code"] == "EMAIL"
          for v in f["values"] if v["value"].lower() == email.lower()), None)
def values(code):
    return ",".join(v["value"] for f in (e["custom_fields_values"] or []) if f["field_code"] == code for v in f["values"])
print(eval(expr))
PY
}

amo_fake AMO
export AMOCRM_TOKEN=$TOKEN AMOCRM_BASE_URL=$AMO_BASE

# 0. The fake on its own: amoCRM's 401 problem body, 204 for an empty list, a write refused whole with per-item
# validation errors (nothing stored), and at most 250 entities per write.
OUT=$(fake_request "$AMO_BASE" GET /api/v4/contacts "" wrong-token)
grep -q '^401 .*"title":"Unauthorized"' <<<"$OUT" || fail "wrong token: $OUT"
grep -q '"type":"https://httpstatus.es/401"' <<<"$OUT" || fail "401 body is not a problem body: $OUT"
expect_eq "$(api "$AMO_BASE" GET /api/v4/contacts)" "204 " "an empty list"
OUT=$(api "$AMO_BASE" POST /api/v4/contacts '[{"name":"A","request_id":"a"},{"name":"B","request_id":"b","custom_fields_values":[{"field_code":"EMAIL","values":[{"value":"not-mail","enum_code":"WORK"}]}]}]')
grep -q '^400 .*"validation-errors":\[{"errors":\[{"code":"InvalidEmail"' <<<"$OUT" || fail "bad e-mail: $OUT"
grep -q '"request_id":"b"' <<<"$OUT" || fail "the error must name request_id b: $OUT"
expect_eq "$(api "$AMO_BASE" GET /api/v4/contacts)" "204 " "nothing stored by a refused write"
OUT=$(api "$AMO_BASE" POST /api/v4/contacts "$(python3 -c 'import json; print(json.dumps([{"name": str(i)} for i in range(251)]))')")
grep -q '^400 .*At most 250' <<<"$OUT" || fail "251 entities must be refused: $OUT"
pass

# 1. Files -> amoCRM with the example pipeline. What the fake holds is what the summary says was written, and the
# client kept to 7 requests per second.
cp -r "$CONFLUX_SOURCE_DIR/configs/demo" demo
cp -r "$CONFLUX_SOURCE_DIR/configs/amocrm" amocrm
P=amocrm/files_to_amocrm.yaml
run_conflux run $P --json
expect_code 0
read_summary
expect_eq "$S_STATUS" "succeeded" "files -> amocrm status"
written=$S_WRITTEN
[ "$written" -gt 100 ] || fail "only $written contacts written: $OUT"
expect_eq "$S_CREATED" "$written" "contacts created in an empty account"
all_entities "$AMO_BASE" contacts >held.jsonl
expect_eq "$(wc -l <held.jsonl)" "$written" "contacts the fake holds"
python3 - <<'PY' || fail "stored contacts are not what the sink should send: $(head -3 held.jsonl)"
import json
emails = set()
for line in open("held.jsonl"):
    e = json.loads(line)
    fields = {f["field_code"]: f["values"] for f in e["custom_fields_values"]}
    mail = fields["EMAIL"][0]
    assert mail["enum_code"] == "WORK" and mail["value"] == mail["value"].lower() and "@" in mail["value"], e
    for phone in fields.get("PHONE", []):
        assert phone["value"].startswith("+") and phone["enum_code"] in ("MOB", "WORK"), e
    emails.add(mail["value"])
assert len(emails) > 100
PY
ivan_id=$(amo_contact ivan.petrov@example.com 'e["id"] if e else ""')
[ -n "$ivan_id" ] || fail "Ivan Petrov did not arrive"
run_conflux dlq list $P --stage to_amocrm --json
expect_out "has no 'email' (match_key)"
run_conflux check $P
expect_code 0
run_conflux discover amocrm/amocrm_to_files.yaml
expect_code 0
expect_out "contact_source_id"
expect_out "phone_secondary"
expect_eq "$(fake_stat "$AMO_BASE" 's["by_status"].get("429", 0) <= 2')" "True" "429s while pacing at 7/s"
pass

# 2. A full re-read after a cursor reset sends nothing: the sink ledger knows every contact amoCRM holds.
requests_before=$(fake_stat "$AMO_BASE" 's["requests"]')
run_conflux state reset $P
run_conflux run $P --json
expect_code 0
read_summary
expect_eq "$S_WRITTEN" "0" "records written by a re-read"
expect_eq "$S_SINK_UNCHANGED" "$written" "records the ledger kept from being sent again"
expect_eq "$(fake_stat "$AMO_BASE" 's["requests"]')" "$requests_before" "requests to amoCRM on a re-read"
# Without the ledger, the sink's own lookup finds every contact equal: reads only, no POST or PATCH.
sed -e '/^  sync:/,$d' -e 's/pipeline: files_to_amocrm/pipeline: no_ledger/' -e 's#.conflux/state.db#.conflux/no_ledger.db#' $P >amocrm/no_ledger.yaml
writes_before=$(fake_stat "$AMO_BASE" 's["by_method"].get("POST", 0) + s["by_method"].get("PATCH", 0)')
run_conflux run amocrm/no_ledger.yaml --json
expect_code 0
read_summary
expect_eq "$S_SINK_UNCHANGED" "$written" "contacts found equal by the sink's lookup"
expect_eq "$(fake_stat "$AMO_BASE" 's["by_method"].get("POST", 0) + s["by_method"].get("PATCH", 0)')" "$writes_before" "writes by an idempotent re-run"
expect_eq "$(all_entities "$AMO_BASE" contacts | wc -l)" "$written" "contacts after the re-runs"

# 3. Read contacts back incrementally: 25 per batch, so batches end inside runs of equal updated_at (amoCRM's times
# are seconds, and one POST stamps up to 250 contacts with one). First 10 records (--limit), then the rest.
cat >read.yaml <<YAML
version: 1
pipeline: read_back
settings: {batch_size: 25}
state: {path: .conflux/read.db}
sources:
  - name: amo
    plugin: amocrm
    streams: [contacts]
    config: {base_url: "\${env:AMOCRM_BASE_URL}", access_token: "\${env:AMOCRM_TOKEN}"}
sink:
  name: out
  plugin: jsonl
  config: {path: read.jsonl, mode: append}
YAML
run_conflux run read.yaml --limit 10 --json
expect_code 0
read_summary
expect_eq "$S_IN" "10" "records read with --limit 10"
run_conflux run read.yaml --json
expect_code 0
read_summary
expect_eq "$((S_IN + 10))" "$written" "records read over both runs"
# check_read_back TWICE: read.jsonl holds every contact the fake holds, each once, except the ids in TWICE (changed
# after they were read), which appear exactly twice; every record is a unified contact.
check_read_back() {
  python3 - "$1" <<'PY' || fail "read-back differs from what the fake holds"
import collections, json, sys
held = {str(json.loads(l)["id"]): json.loads(l) for l in open("held.jsonl")}
rows = [json.loads(l) for l in open("read.jsonl")]
twice = set(json.loads(sys.argv[1]))
counts = collections.Counter(r["source_id"] for r in rows)
for r in rows:
    assert counts[r["source_id"]] == (2 if r["source_id"] in twice else 1), ("duplicate or missing", r)
    assert r["source"] == "amocrm" and r["updated_at"].endswith("Z") and r["created_at"].endswith("Z"), r
    assert all(v is not None for v in r.values()), r
assert set(counts) == set(held), (len(counts), len(held))
for r in rows:
    e = held[r["source_id"]]
    mails = [v["value"] for f in e["custom_fields_values"] if f["field_code"] == "EMAIL" for v in f["values"]]
    assert r["email"] == mails[0] and [m["value"] for m in r["emails"]] == mails, (r, e)
PY
  pass
}
all_entities "$AMO_BASE" contacts >held.jsonl
check_read_back '[]'
run_conflux run read.yaml --json
expect_code 0
read_summary
expect_eq "$S_IN" "0" "records read when nothing changed"
# Two new contacts and one changed: exactly those three are read next; the changed one appears twice in the file.
api "$AMO_BASE" POST /api/v4/contacts '[{"name":"New One","custom_fields_values":[{"field_code":"EMAIL","values":[{"value":"new1@x.io"}]}]},{"name":"New Two","custom_fields_values":[{"field_code":"EMAIL","values":[{"value":"new2@x.io"}]},{"field_code":"PHONE","values":[{"value":"8 (912) 000-11-22","enum_code":"WORK"},{"value":"+7 495 000-00-00","enum_code":"FAX"}]}]}]' >/dev/null
api "$AMO_BASE" PATCH /api/v4/contacts "[{\"id\":$ivan_id,\"last_name\":\"Petrov-Vodkin\"}]" >/dev/null
sleep 1  # the source leaves the server's current second for the next read
run_conflux run read.yaml --json
expect_code 0
read_summary
expect_eq "$S_IN" "3" "records read after three changes"
all_entities "$AMO_BASE" contacts >held.jsonl
check_read_back "[\"$ivan_id\"]"
grep -q '"phone_secondary": *"+7 495 000-00-00"' read.jsonl || fail "the second phone must be phone_secondary: $(tail -2 read.jsonl)"
grep -q '"phones": *\[{"value": *"8 (912) 000-11-22", *"type": *"WORK"}' read.jsonl || fail "phones keep their types: $(tail -2 read.jsonl)"
written=$((written + 2))

# 4. A wrong token: one clear configuration error, exit 1, and exactly one request (401 is never retried).
before401=$(fake_stat "$AMO_BASE" 's["by_status"].get("401", 0)')
AMOCRM_TOKEN=amo-wrong-token-00000 run_conflux run read.yaml --json
expect_code 1
expect_err "fix the configuration"
expect_err "Unauthorized"
expect_err "check access_token"
grep -q "amo-wrong-token-00000" <<<"$ERR$OUT" && fail "the token reached the output: $ERR"
expect_eq "$(fake_stat "$AMO_BASE" 's["by_status"].get("401", 0)')" "$((before401 + 1))" "401 responses to a wrong token"

# 5. Bursts of 429 and 5xx: on the creates (a 429 is sent again; a 502 is not, the call is retried and its lookup
# finds nothing created) and on the lookups. Every contact arrives once, in a second account.
amo_fake BURST
mkdir burst && cp -r amocrm demo burst/ && rm -rf burst/amocrm/.conflux
fake_request "$BURST_BASE" POST /__faults '{"faults":[
  {"type":"429","count":2,"path":"/api/v4/contacts","method":"POST"},
  {"type":"5xx","count":2,"status":502,"path":"/api/v4/contacts","method":"POST"},
  {"type":"5xx","count":3,"status":503,"path":"/api/v4/contacts","method":"GET"}]}' >/dev/null
AMOCRM_BASE_URL=$BURST_BASE run_conflux run burst/$P --json
expect_code 0
read_summary
expect_eq "$S_CREATED" "$((written - 2))" "contacts created through 429 and 5xx bursts"
expect_eq "$(all_entities "$BURST_BASE" contacts | wc -l)" "$((written - 2))" "contacts the burst account holds (no duplicates)"
expect_eq "$(fake_stat "$BURST_BASE" '(s["pending_faults"], s["by_status"].get("502", 0))')" "(0, 2)" \
  "faults left unused and 502 responses received"

# The fake's own limit, lowered to 1 per second with Retry-After: its 429s are honoured and a read of every contact,
# 25 per request and 10 per second of updated_at, completes without loss.
amo_fake SLOW '"rate_limit_requests": 1, "retry_after": "1"' \
  "{\"contacts\": $(python3 -c 'import json; print(json.dumps([{"id": str(i), "properties": {"name": "P%d" % i, "custom_fields_values": [{"field_id": 100001, "field_code": "EMAIL", "field_type": "multitext", "values": [{"value": "p%d@x.io" % i, "enum_code": "WORK"}]}]}, "updated_at": 1700000000000 + (i // 10) * 1000} for i in range(1, 43)]))')}"
sed -e 's/read_back/read_slow/' -e 's/read.jsonl/slow.jsonl/' -e 's/read.db/slow.db/' read.yaml >slow.yaml
AMOCRM_BASE_URL=$SLOW_BASE run_conflux run slow.yaml --json
expect_code 0
read_summary
expect_eq "$S_IN" "42" "records read under the fake's limit"
expect_eq "$(python3 -c 'import json; print(len({json.loads(l)["source_id"] for l in open("slow.jsonl")}))')" "42" "distinct records read"
[ "$(fake_stat "$SLOW_BASE" 's["by_status"].get("429", 0)')" -gt 0 ] || fail "the fake's limit never answered 429"

# A source and a sink of one account in one pipeline share its 7/s bucket: reading contacts while the sink looks
# them up (all unchanged) stays within amoCRM's limit.
cat >shared.yaml <<YAML
version: 1
pipeline: shared
settings: {batch_size: 25}
state: {path: .conflux/shared.db}
sources:
  - name: amo
    plugin: amocrm
    streams: [contacts]
    config: {base_url: "\${env:AMOCRM_BASE_URL}", access_token: "\${env:AMOCRM_TOKEN}"}
sink:
  name: back
  plugin: amocrm
  config: {base_url: "\${env:AMOCRM_BASE_URL}", access_token: "\${env:AMOCRM_TOKEN}"}
YAML
fake_request "$AMO_BASE" POST /__reset >/dev/null
run_conflux run shared.yaml --json
expect_code 0
read_summary
expect_eq "$S_SINK_UNCHANGED" "$S_IN" "contacts read and found unchanged"
expect_eq "$(fake_stat "$AMO_BASE" 's["max_requests_in_1s"] <= 8 and s["by_status"].get("429", 0) <= 1')" "True" \
  "requests per second of a source and a sink sharing the account's bucket: $(fake_stat "$AMO_BASE" 's')"

# 6. A body cut short never moves the cursor: a run whose reads all arrive cut (valid Content-Length, half the JSON)
# fails with the cursor where it was; the next run, with one connection cut mid-body that the host retries, resumes
# and reads the rest exactly once.
sed -e 's/read_back/read_cut/' -e 's/read.jsonl/cut.jsonl/' -e 's/read.db/cut.db/' read.yaml >cut.yaml
run_conflux run cut.yaml --limit 7 --json
expect_code 0
run_conflux state show cut.yaml
cursor_before=$(grep 'amo/contacts' <<<"$OUT")
[ -n "$cursor_before" ] || fail "no cursor after the first run: $OUT"
fake_request "$AMO_BASE" POST /__faults '{"type":"cut_json","count":20,"path":"/api/v4/contacts","method":"GET"}' >/dev/null
run_conflux run cut.yaml --json
expect_code 1
expect_err "truncated?"
run_conflux state show cut.yaml
expect_eq "$(grep 'amo/contacts' <<<"$OUT")" "$cursor_before" "cursor after a run of cut bodies"
fake_request "$AMO_BASE" DELETE /__faults >/dev/null
fake_request "$AMO_BASE" POST /__faults '{"type":"truncate","count":1,"path":"/api/v4/contacts","method":"GET"}' >/dev/null
run_conflux run cut.yaml --json
expect_code 0
read_summary
expect_eq "$((S_IN + 7))" "$written" "records read after the cut run"
expect_eq "$(python3 -c 'import collections,json; c=collections.Counter(json.loads(l)["source_id"] for l in open("cut.jsonl")); print(len(c), max(c.values()))')" "$written 1" "distinct records and most copies of one"
expect_eq "$(fake_stat "$AMO_BASE" 's["pending_faults"]')" "0" "the truncated body was retried"

# 7. Per-item refusals: amoCRM refuses a request whole when one entity is invalid; the sink dead-letters that one
# with amoCRM's detail and sends the others again. A record without an e-mail never leaves the sink.
cat >few.jsonl <<'JSONL'
{"email":"good1@x.io","first_name":"G1","last_name":"One"}
{"email":"not-an-email","first_name":"Bad"}
{"first_name":"NoMail","phone":"+79120000000"}
{"email":"Good2@X.io","full_name":"Good Two","job_title":"CTO","owner":"7000002"}
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
  name: amocrm
  plugin: amocrm
  config: {base_url: "\${env:AMOCRM_BASE_URL}", access_token: "\${env:AMOCRM_TOKEN}"}
  sync: {key: email}
YAML
run_conflux run few.yaml --json
expect_code 0
read_summary
expect_eq "$S_WRITTEN $S_DEAD" "2 2" "records written next to refused ones, and refused ones dead-lettered"
run_conflux dlq list few.yaml --json
expect_out "This value is not a valid email address. (InvalidEmail at custom_fields_values.0.values.0.value)"
expect_out "has no 'email'"
expect_eq "$(amo_contact good2@x.io 'values("EMAIL"), values("POSITION"), e["responsible_user_id"], e["name"]')" \
  "('good2@x.io', 'CTO', 7000002, 'Good Two')" "Good2: e-mail lower-cased, job_title as POSITION, owner, name"
# Injected failures of every second entity: dead-lettered, then replayed once the fault is gone.
cat >more.jsonl <<'JSONL'
{"email":"m1@x.io","first_name":"M1"}
{"email":"m2@x.io","first_name":"M2"}
{"email":"m3@x.io","first_name":"M3"}
{"email":"m4@x.io","first_name":"M4"}
JSONL
sed -e 's/few/more/g' few.yaml >more.yaml
fake_request "$AMO_BASE" POST /__faults '{"type":"partial_batch","count":1,"fail_every":2,"path":"/api/v4/contacts","method":"POST"}' >/dev/null
run_conflux run more.yaml --json
expect_code 0
read_summary
expect_eq "$S_WRITTEN $S_DEAD" "2 2" "records written next to injected failures, and those dead-lettered"
run_conflux dlq list more.yaml --json
expect_out "Injected failure of this entity. (InjectedFailure at name)"
run_conflux dlq replay more.yaml
expect_code 0
expect_eq "$(all_entities "$AMO_BASE" contacts | grep -o '"m[0-9]@x.io"' | sort | uniq -c | tr -s ' ' | tr '\n' ';')" \
  " 1 \"m1@x.io\"; 1 \"m2@x.io\"; 1 \"m3@x.io\"; 1 \"m4@x.io\";" "contacts m1..m4 after the replay, once each"
written=$((written + 6))

# 8. Sync modes. update_only: the unknown contact is rejected naming the mode (and replayable); insert_only: a held
# contact is left as it is; field rules: only_if_empty fills a missing phone but keeps a held one, never keeps the name.
mode_run() {  # mode_run NAME CONFIG_EXTRA JSONL: a pipeline from JSONL into the fake with extra sink config
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
  name: amocrm
  plugin: amocrm
  config: {base_url: "\${env:AMOCRM_BASE_URL}", access_token: "\${env:AMOCRM_TOKEN}", $2}
YAML
  run_conflux run "$1.yaml" --json
  expect_code 0
  read_summary
}
mode_run upd 'mode: update_only' '{"email":"good1@x.io","first_name":"G1-new"}
{"email":"nobody@x.io","first_name":"N"}'
expect_eq "$S_UPDATED $S_DEAD" "1 1" "held contact updated and unknown one rejected under update_only"
run_conflux dlq list upd.yaml
expect_out "no amoCRM contact has this email and the sink's mode is update_only"
expect_eq "$(amo_contact nobody@x.io 'e is None')" "True" "no contact created under update_only"
expect_eq "$(amo_contact good1@x.io 'e["first_name"], e["name"]')" "('G1-new', 'G1 One')" \
  "first name updated; the name, made of parts, only set on create"
mode_run ins 'mode: insert_only' '{"email":"good1@x.io","first_name":"SHOULD-NOT"}
{"email":"fresh@x.io","first_name":"F"}'
expect_eq "$S_SINK_UNCHANGED $S_CREATED" "1 1" "held contact left alone and new one created under insert_only"
expect_eq "$(amo_contact good1@x.io 'e["first_name"]')" "G1-new" "insert_only left good1 as it was"
mode_run rules1 'fields: {phone: only_if_empty, full_name: never}' '{"email":"good1@x.io","phone":"+79990000001","full_name":"Renamed"}'
expect_eq "$S_UPDATED" "1" "missing phone filled"
expect_eq "$(amo_contact good1@x.io 'values("PHONE"), e["name"]')" "('+79990000001', 'G1 One')" \
  "phone filled while empty; full_name: never kept the name"
mode_run rules2 'fields: {phone: only_if_empty, full_name: never}' '{"email":"good1@x.io","phone":"+79990000002","full_name":"Renamed"}'
expect_eq "$S_SINK_UNCHANGED" "1" "held phone and name kept"
expect_eq "$(amo_contact good1@x.io 'values("PHONE")')" "+79990000001" "phone kept under only_if_empty"
written=$((written + 1))

# 9. Leads: written by a key kept in a text field (EXTERNAL_ID), found again by it, and read back as unified leads
# next to the contacts with the example pipeline.
mode_run leads 'object: leads, match_key: source_id, key_field: EXTERNAL_ID' '{"source_id":"L-1","title":"Заказ 1","value":1500,"currency":"RUB","utm_source":"yandex","yclid":"777"}
{"source_id":"L-2","title":"Заказ 2","value":99.6,"status_id":"142"}
{"source_id":"L-3","title":"Заказ 3","status_id":"999"}'
expect_eq "$S_CREATED $S_DEAD" "2 1" "leads created, and the one with an unknown stage rejected"
run_conflux dlq list leads.yaml --json
expect_out "The status does not exist in the pipeline. (NotSupportedChoice at status_id)"
mode_run leads_again 'object: leads, match_key: source_id, key_field: EXTERNAL_ID, lookup: query' "$(head -2 leads.jsonl)"
expect_eq "$S_SINK_UNCHANGED" "2" "leads found by EXTERNAL_ID with a query lookup"
expect_eq "$(all_entities "$AMO_BASE" leads | wc -l)" "2" "leads the fake holds"
sleep 1  # past the second of the last writes, which the source leaves for the next read
run_conflux run amocrm/amocrm_to_files.yaml --json
expect_code 0
read_summary
python3 - "$written" <<'PY' || fail "unified records from amocrm_to_files.yaml: $(grep lead amocrm/amocrm_records.jsonl)"
import json, sys
rows = [json.loads(l) for l in open("amocrm/amocrm_records.jsonl")]
leads = {r["title"]: r for r in rows if r["record_type"] == "lead"}
contacts = [r for r in rows if r["record_type"] == "contact"]
assert leads["Заказ 1"]["value"] == 1500 and leads["Заказ 1"]["currency"] == "RUB", leads
assert leads["Заказ 1"]["status"] == "new" and leads["Заказ 1"]["source_status"] == "Первичный контакт", leads
assert leads["Заказ 1"]["utm_source"] == "yandex" and leads["Заказ 1"]["yclid"] == "777", leads
assert leads["Заказ 2"]["value"] == 100, leads  # 99.6 rounded: amoCRM prices are integers
assert leads["Заказ 2"]["status"] == "converted" and leads["Заказ 2"]["closed_at"].endswith("Z"), leads
assert leads["Заказ 1"]["custom_fields"]["EXTERNAL_ID"] == "L-1", leads
assert all(c["phone"].startswith("+") for c in contacts if "phone" in c), contacts
assert 100 < len(contacts) <= int(sys.argv[1]), len(contacts)
PY
pass

# 10. Mirror: amoCRM API v4 cannot delete contacts or leads, so the host refuses mirror for this sink.
sed -e 's/sync: {key: email}/sync: {key: email, mirror: true}/' -e 's/few.db/mirror.db/' few.yaml >mirror.yaml
run_conflux run mirror.yaml --json
expect_code 2
expect_err "sink 'amocrm' cannot delete records, so it cannot mirror"
done_ok
