#!/usr/bin/env bash
# The built-in rest source end to end with the shipped YAML-only examples (configs/rest/) against the fake
# Mailchimp and CallRail dialects (conflux-fake-server, loopback): validate and discover, full then incremental
# reads into the local CRM and a JSONL file, 429 with Retry-After, a truncated and a cut body that never move the
# cursor, a wrong key as one clear error, a bad config with file:line:col, and the balance of every run.
source "$(dirname "$0")/lib.sh"
: "${CONFLUX_BUILD_DIR:?set by CTest}"
FAKE="$CONFLUX_BUILD_DIR/tests/support/fake_server/conflux-fake-server"
[ -x "$FAKE" ] || fail "conflux-fake-server not built at $FAKE"

# start_fake NAME DIALECT DATA_FILE: starts a fake server; sets <NAME>_BASE. Killed by lib.sh's trap.
start_fake() {
  "$FAKE" --dialect "$2" --data "$3" >"$1.port" 2>"$1.err" &
  BACKGROUND_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$1.port" ] && break; sleep 0.05; done
  local port
  port=$(head -1 "$1.port")
  [[ "$port" =~ ^[0-9]+$ ]] || fail "conflux-fake-server printed no port: $(cat "$1.port" "$1.err")"
  printf -v "${1}_BASE" 'http://127.0.0.1:%s' "$port"
}
# http METHOD URL [BODY] [HEADER]: "<status> <body>".
http() {
  python3 - "$@" <<'PY'
import sys, urllib.request, urllib.error
method, url = sys.argv[1:3]
body = sys.argv[3] if len(sys.argv) > 3 else ""
headers = {"Content-Type": "application/json"}
if len(sys.argv) > 4:
    name, value = sys.argv[4].split(": ", 1)
    headers[name] = value
req = urllib.request.Request(url, data=body.encode() if body else None, method=method, headers=headers)
try:
    with urllib.request.urlopen(req) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
}
# fake_stat BASE EXPR: EXPR over the fake's counters `s` (GET /__stats), e.g. 's["by_status"]["429"]'.
fake_stat() {
  python3 -c 'import json,sys,urllib.request; s=json.load(urllib.request.urlopen(sys.argv[1] + "/__stats")); print(eval(sys.argv[2]))' "$1" "$2"
}
# expect_summary NAME=VALUE...: the last `run --json` summary balances (in = written + unchanged + dropped +
# dead_lettered) and has these values.
expect_summary() {
  python3 -c '
import json,sys; s=json.loads(sys.stdin.read())
assert s["in"] == s["written"] + s["unchanged"] + s["dropped"] + s["dead_lettered"], "unbalanced"
for pair in sys.argv[1:]:
    k, v = pair.split("=")
    assert str(s[k]) == v, "%s is %s, expected %s" % (k, s[k], v)' "$@" <<<"$OUT" || fail "summary: expected $*: $OUT"
  pass
}
cursor_of() { run_conflux state show "$1"; grep -F "$2" <<<"$OUT" | sed 's/  (.*//' || true; }

cp -r "$CONFLUX_SOURCE_DIR/configs/rest" rest

# ---------------------------------------------------------------------------------------------------------------
# Mailchimp list members -> local CRM (configs/rest/mailchimp_members.yaml, unchanged)
MC_KEY=0123456789abcdef0123456789abcdef-us6
LIST=a1b2c3d4e5
python3 - "$LIST" "$MC_KEY" >mailchimp.json <<'PY'
import json, sys
list_id, key = sys.argv[1:3]
members = []
for i in range(1, 1201):
    email = "member%04d@example.com" % i
    status = "subscribed"
    if i == 17: email = "not-an-address"          # the email stage rejects it
    if i == 29: status = "zombie"                 # the record schema rejects it
    members.append({"id": str(i), "updated_at": "2024-02-01T%02d:%02d:%02dZ" % (i // 3600, i // 60 % 60, i % 60),
                    "properties": {"email_address": email, "status": status,
                                   "merge_fields": {"FNAME": "First%d" % i, "LNAME": "Last%d" % i, "PHONE": ""}}})
print(json.dumps({"auth": {"password": key}, "collections": {list_id: members}}))
PY
start_fake MC mailchimp mailchimp.json
export MAILCHIMP_BASE_URL=$MC_BASE/3.0 MAILCHIMP_API_KEY=$MC_KEY MAILCHIMP_LIST_ID=$LIST
P=rest/mailchimp_members.yaml
AUTH="Authorization: Basic $(printf 'any:%s' "$MC_KEY" | base64 -w0)"
# put_member EMAIL FNAME: Mailchimp's add-or-update by subscriber hash.
put_member() {
  local hash
  hash=$(printf '%s' "$1" | tr 'A-Z' 'a-z' | md5sum | cut -d' ' -f1)
  OUT=$(http PUT "$MAILCHIMP_BASE_URL/lists/$LIST/members/$hash" \
    "{\"email_address\":\"$1\",\"status_if_new\":\"subscribed\",\"merge_fields\":{\"FNAME\":\"$2\"}}" "$AUTH")
  grep -q '^200 ' <<<"$OUT" || fail "PUT member $1: $OUT"
}

# The fake on its own: Mailchimp's 401 problem body, count above 1000, strictly-after since_last_changed.
OUT=$(http GET "$MAILCHIMP_BASE_URL/lists/$LIST/members" "" "Authorization: Basic $(printf 'any:nope' | base64 -w0)")
grep -q '^401 .*"title":"API Key Invalid"' <<<"$OUT" || fail "wrong key: $OUT"
OUT=$(http GET "$MAILCHIMP_BASE_URL/lists/$LIST/members?count=1001" "" "$AUTH")
grep -q '^400 ' <<<"$OUT" || fail "count 1001 must be refused: $OUT"
OUT=$(http GET "$MAILCHIMP_BASE_URL/lists/$LIST/members?since_last_changed=2024-02-01T00:19:59%2B00:00" "" "$AUTH")
grep -q '"total_items":1' <<<"$OUT" || fail "since_last_changed must be strictly after: $OUT"
pass

# validate and discover: the example is YAML only, and its stream is discoverable without a request.
run_conflux validate $P
expect_code 0
requests_before=$(fake_stat "$MC_BASE" 's["requests"]')
run_conflux discover $P
expect_code 0
python3 -c '
import json,sys; c=json.loads(sys.stdin.read())["mailchimp"]["streams"][0]
assert c["name"] == "members" and c["primary_key"] == ["email"], c
assert c["fields"]["email"] == "string" and c["fields"]["first_name"] == "any", c
assert c["incremental"]["request_param"] == "since_last_changed", c' <<<"$OUT" || fail "discover: $OUT"
expect_eq "$(fake_stat "$MC_BASE" 's["requests"]')" "$requests_before" "requests made by discover"
run_conflux check $P
expect_code 0
expect_out "ok     source mailchimp"

# 1. The first run reads every member (3 pages of 500) into the local CRM.

http POST "$MC_BASE/__reset" >/dev/null
run_conflux run $P --json
expect_code 0
expect_summary in=1200 written=1198 dead_lettered=2  # one bad address, one bad status dead-lettered
expect_eq "$(fake_stat "$MC_BASE" 's["by_status"]["200"]')" "3" "pages requested"
run_conflux crm count $P
expect_eq "$OUT" "1198" "contacts in the local CRM"
run_conflux crm show $P --key member0005@example.com
expect_out '"first_name": "First5"'
expect_out '"source": "mailchimp"'
run_conflux dlq list $P
expect_out "does not match the stream's schema"
expect_out "invalid address 'not-an-address'"
first_cursor=$(cursor_of $P "mailchimp/members")
grep -q '"since":"2024-02-01T00:20:00+00:00"' <<<"$first_cursor" || fail "cursor after the first run: $first_cursor"

# 2. Incremental: three members change and one is added; the next run reads exactly those four.
put_member member0002@example.com Changed2
put_member member0500@example.com Changed500
put_member member1200@example.com Changed1200
put_member newcomer@example.com New
run_conflux run $P --json
expect_code 0
expect_summary in=4 written=4  # exactly the changed and the new members
run_conflux crm show $P --key member0500@example.com
expect_out '"first_name": "Changed500"'
run_conflux crm count $P
expect_eq "$OUT" "1199" "contacts after the incremental run"
run_conflux run $P --json
expect_code 0
expect_summary in=0  # nothing changed

# 3. 429 with Retry-After: the run waits as told, then reads the change.
put_member member0003@example.com Changed3
http POST "$MC_BASE/__faults" '{"type":"429","count":2,"retry_after":"1","path":"/3.0/lists"}' >/dev/null
started=$(date +%s%N)
run_conflux run $P --json
took_ms=$((($(date +%s%N) - started) / 1000000))
expect_code 0
expect_summary in=1 written=1  # after two 429s
[ "$took_ms" -ge 2000 ] || fail "two 429s with Retry-After: 1 were waited out in ${took_ms} ms"
pass
expect_eq "$(fake_stat "$MC_BASE" 's["by_status"]["429"]')" "2" "429s served"

# 4. A truncated body (Content-Length not met) is retried by the client; a cut JSON body that keeps coming back
#    fails the run, emits nothing of the page and leaves the cursor where it was.
put_member member0004@example.com Changed4
put_member member0006@example.com Changed6
before=$(cursor_of $P "mailchimp/members")
http POST "$MC_BASE/__faults" '{"type":"cut_json","count":10,"path":"/3.0/lists"}' >/dev/null
run_conflux run $P --json
expect_code 1
expect_err "not valid JSON"
expect_err "the cursor stays where it was"
expect_eq "$(cursor_of $P "mailchimp/members")" "$before" "cursor after a run that met only cut bodies"
run_conflux crm show $P --key member0004@example.com
expect_out '"first_name": "First4"'
http DELETE "$MC_BASE/__faults" >/dev/null
http POST "$MC_BASE/__faults" '{"type":"truncate","count":1,"path":"/3.0/lists"}' >/dev/null
run_conflux run $P --json
expect_code 0
expect_summary in=2 written=2  # once the bodies are whole
run_conflux crm show $P --key member0004@example.com
expect_out '"first_name": "Changed4"'

# 5. A wrong API key: one clear authentication error, no retries, the cursor unchanged.
before=$(cursor_of $P "mailchimp/members")
put_member member0007@example.com Changed7
http POST "$MC_BASE/__reset" >/dev/null
MAILCHIMP_API_KEY=wrong-key-us6 run_conflux run $P
expect_code 1
expect_eq "$(grep -c '^error:' <<<"$ERR")" "1" "error lines for a wrong key"
expect_err "authentication failed (HTTP 401): check \`auth\` in this source's config"
expect_err "API Key Invalid"
grep -q "wrong-key-us6" <<<"$ERR$OUT" && fail "the key reached the output: $ERR"
expect_eq "$(fake_stat "$MC_BASE" 's["by_status"]["401"]')" "1" "requests with the wrong key"
expect_eq "$(cursor_of $P "mailchimp/members")" "$before" "cursor after the auth failure"

# 6. A bad rest config: every problem with file:line:col, caught by validate before any request.
sed -e 's/record_selector: \/members/record_selector: members/' -e 's/type: offset,/type: ofset,/' \
  -e 's/request_param: since_last_changed/request_parm: since_last_changed/' $P >rest/bad.yaml
run_conflux validate rest/bad.yaml
expect_code 2
expect_err "bad.yaml:30:28: Failed to match regex"                        # record_selector is not a pointer
expect_err "bad.yaml:31:29: unknown paginator type 'ofset' (did you mean 'offset'?)"
expect_err "bad.yaml:32:53: unknown key 'request_parm' in incremental (did you mean 'request_param'?)"

# ---------------------------------------------------------------------------------------------------------------
# CallRail calls -> calls.jsonl (configs/rest/callrail_calls.yaml, unchanged)
CR_KEY=cr-test-key-9b2e
ACCOUNT=ACC8154748ae6bd4e278a7cddd38a662f4f
python3 - "$ACCOUNT" "$CR_KEY" >callrail.json <<'PY'
import json, sys
account, key = sys.argv[1:3]
calls = []
for i in range(1, 601):
    minutes = i * 7
    call = {"answered": i % 3 != 0, "customer_name": "Caller %d" % i, "customer_phone_number": "+1212234%04d" % i,
            "direction": "inbound", "duration": i % 300, "tracking_phone_number": "+14045550100",
            "source": "Google Ads", "start_time": "2024-03-%02dT%02d:%02d:00.000-05:00" % (1 + minutes // 1440, minutes // 60 % 24, minutes % 60)}
    if i == 42: call["duration"] = -5                      # the record schema rejects it
    calls.append({"id": "CAL%06d" % i, "properties": call})
print(json.dumps({"auth": {"key": key}, "collections": {account: calls}}))
PY
start_fake CR callrail callrail.json
export CALLRAIL_BASE_URL=$CR_BASE/v3 CALLRAIL_API_KEY=$CR_KEY CALLRAIL_ACCOUNT_ID=$ACCOUNT
C=rest/callrail_calls.yaml
OUT=$(http GET "$CALLRAIL_BASE_URL/a/$ACCOUNT/calls.json?per_page=251" "" "Authorization: Token token=\"$CR_KEY\"")
grep -q '^400 ' <<<"$OUT" || fail "per_page 251 must be refused: $OUT"
OUT=$(http GET "$CALLRAIL_BASE_URL/a/$ACCOUNT/calls.json" "" "Authorization: Token token=\"nope\"")
grep -q '^401 ' <<<"$OUT" || fail "wrong token: $OUT"

run_conflux validate $C
expect_code 0
run_conflux run $C --json
expect_code 0
expect_summary in=600 written=599 dead_lettered=1  # a negative duration is dead-lettered
expect_eq "$(wc -l <rest/calls.jsonl)" "599" "lines in calls.jsonl"
expect_eq "$(fake_stat "$CR_BASE" 's["by_status"]["200"]')" "3" "pages requested (250 + 250 + 100)"
grep -q '"phone":"+12122340001"' rest/calls.jsonl || fail "calls.jsonl: $(head -2 rest/calls.jsonl)"

# Five calls arrive; start_date is inclusive, so the newest call already read comes again and the ledger keeps it
# out of the file.
http POST "$CR_BASE/__store" "{\"$ACCOUNT\": [$(python3 -c '
import json
print(",".join(json.dumps({"id": "CAL9%05d" % i, "properties": {"direction": "outbound", "duration": 30, "answered": True,
      "customer_phone_number": "+1646234%04d" % i, "start_time": "2024-03-05T%02d:00:00.000-05:00" % (10 + i)}}) for i in range(5)))')]}" >/dev/null
run_conflux run $C --json
expect_code 0
expect_summary in=6 written=5 unchanged=1  # the newest call of the last run is read again, not written
expect_eq "$(wc -l <rest/calls.jsonl)" "604" "lines in calls.jsonl after the incremental run"
CALLRAIL_API_KEY=wrong run_conflux run $C
expect_code 1
expect_err "authentication failed (HTTP 401)"

done_ok
