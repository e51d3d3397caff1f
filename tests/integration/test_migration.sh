#!/usr/bin/env bash
# The amoCRM -> Bitrix24 migration example (configs/migration/) end to end, against the fake amoCRM and the fake
# Bitrix24 (loopback): an account of contacts and leads in amoCRM's shapes, step 1 (contacts) then step 2 (leads).
# Every amoCRM contact and lead arrives exactly once, with its phones in E.164, its e-mail cleaned, its stage mapped
# and each lead linked to its migrated contact; re-runs send nothing; changes made in amoCRM after the migration
# follow with the next runs; and every run balances.
source "$(dirname "$0")/lib.sh"
: "${CONFLUX_BUILD_DIR:?set by CTest}"

TOKEN=amo-longlived-fake-3f9c1e77
SECRET=x7k2abc9def0ghij   # the shape of a Bitrix24 webhook code

# The amoCRM account: 120 contacts (Cyrillic names, national phone formats, e-mails in mixed case, some with no
# e-mail, one name-only, one with a number that is no phone, one with a bad e-mail) and 60 leads on the account's
# pipeline stages, each with a main contact (one without), some with tracking fields. Written in the fake's store
# shape (what amoCRM's API shows), as if made in amoCRM over two days.
python3 - <<'PY'
import json
first = ["Пётр", "Анна", "Иван", "Мария", "Сергей", "Ольга", "Дмитрий", "Елена", "Алексей", "Наталья"]
last = ["Иванов", "Смирнова", "Кузнецов", "Попова", "Васильев", "Петрова", "Соколов", "Михайлова"]
def field(fid, name, code, ftype, values):
    return {"field_id": fid, "field_name": name, "field_code": code, "field_type": ftype, "values": values}
def multi(fid, name, code, enums, entries):
    return field(fid, name, code, "multitext",
                 [{"value": v, "enum_id": fid * 10 + enums.index(e), "enum_code": e} for v, e in entries])
EMAIL_ENUMS, PHONE_ENUMS = ["WORK", "PRIV", "OTHER"], ["WORK", "WORKDD", "MOB", "FAX", "HOME", "OTHER"]
t0 = 1763000000  # 2025-11-13, unix seconds
contacts, expected = [], {}
for i in range(120):
    cid = 1000001 + i
    f, l = first[i % len(first)], last[i % len(last)]
    if f.endswith("а") and not l.endswith("а"):
        l += "а"
    fields = []
    email = None
    if i % 7 != 3:
        email = f"Client.{i}@Example.ru" if i % 2 else f"client.{i}@example.ru"
        fields.append(multi(100001, "Email", "EMAIL", EMAIL_ENUMS, [((" " + email) if i % 5 == 0 else email, "WORK")]))
    n = 9120000000 + i * 101
    phones = [(f"8 ({str(n)[:3]}) {str(n)[3:6]}-{str(n)[6:8]}-{str(n)[8:]}" if i % 3 == 0 else
               f"+7 {str(n)[:3]} {str(n)[3:]}" if i % 3 == 1 else f"8{n}", "MOB")]
    if i % 10 == 4:
        phones.append((f"+7 (495) 100-{i % 100:02d}-{i % 100:02d}", "WORK"))
    if i == 50:
        phones = [("12345", "MOB")]      # not a phone number: migrates without it
    if i == 60:
        fields, email, phones = [], None, []  # name only
    if i == 70:
        fields, email = [multi(100001, "Email", "EMAIL", EMAIL_ENUMS, [("klient@@mail", "WORK")])], None
    if phones:
        fields.append(multi(100002, "Phone", "PHONE", PHONE_ENUMS, phones))
    if i % 9 == 0:
        fields.append(field(100003, "Position", "POSITION", "text", [{"value": "Менеджер"}]))
    contacts.append({"id": str(cid), "updated_at": (t0 + (i // 2) * 600) * 1000,
                     "properties": {"name": f"{f} {l}", "first_name": f, "last_name": l,
                                    "custom_fields_values": fields}})
    expected[str(cid)] = {"name": f, "last": l, "email": email.strip().lower() if email else None,
                          "phones": 0 if i in (50, 60) else len(phones), "dead": i == 70}
stages = [3300010, 3300011, 3300012, 3300013, 142, 143]
b24_status = {3300010: "NEW", 3300011: "NEW", 3300012: "IN_PROCESS", 3300013: "IN_PROCESS", 142: "CONVERTED",
              143: "JUNK"}
leads, lead_expected = [], {}
for k in range(60):
    lid = 2000001 + k
    status = stages[k % len(stages)]
    contact = 1000001 + (k * 2) % 120
    if contact == 1000001 + 70:
        contact += 1  # the dead-lettered contact has no Bitrix24 twin to link to
    props = {"name": f"Заказ №{k + 1}", "price": 1000 * (k + 1), "status_id": status, "pipeline_id": 3300001,
             "_embedded": {"contacts": [] if k == 59 else [{"id": contact, "is_main": True}]}}
    if status in (142, 143):
        props["closed_at"] = t0 + 86400 + k
    if k % 4 == 0:
        props["custom_fields_values"] = [field(200001, "UTM_SOURCE", "UTM_SOURCE", "tracking_data", [{"value": "yandex"}]),
                                         field(200003, "UTM_CAMPAIGN", "UTM_CAMPAIGN", "tracking_data",
                                               [{"value": f"autumn_{k}"}])]
    leads.append({"id": str(lid), "updated_at": (t0 + 3600 + k * 900) * 1000, "properties": props})
    lead_expected[str(lid)] = {"status": b24_status[status], "contact": None if k == 59 else str(contact),
                               "price": 1000 * (k + 1), "utm": "yandex" if k % 4 == 0 else None}
json.dump({"contacts": contacts, "leads": leads}, open("amo_collections.json", "w"), ensure_ascii=False)
json.dump({"contacts": expected, "leads": lead_expected}, open("expected.json", "w"), ensure_ascii=False)
PY
start_fake_server amocrm AMO "{\"auth\": {\"type\": \"bearer\", \"token\": \"$TOKEN\"}, \"collections\": $(cat amo_collections.json)}"
start_fake_server bitrix24 B24 "{\"bitrix24\": {\"webhook_secret\": \"$SECRET\", \"bucket_burst\": 1000, \"bucket_drain\": 100}}"
export AMOCRM_TOKEN=$TOKEN AMOCRM_BASE_URL=$AMO_BASE BITRIX24_WEBHOOK_URL=$B24_BASE/rest/1/$SECRET
cp -r "$CONFLUX_SOURCE_DIR/configs/migration" migration
CONTACTS=migration/amocrm_to_bitrix24_contacts.yaml
LEADS=migration/amocrm_to_bitrix24_leads.yaml

# b24_items ENTITY: every item the fake Bitrix24 holds, one JSON object per line (crm.<entity>.list, start / next).
b24_items() {
  python3 - "$B24_BASE/rest/1/$SECRET" "$1" <<'PY'
import json, sys, urllib.request
url, entity = sys.argv[1:3]
start = 0
while True:
    body = json.dumps({"order": {"ID": "ASC"}, "select": ["*", "EMAIL", "PHONE"], "start": start}).encode()
    req = urllib.request.Request(f"{url}/crm.{entity}.list.json", data=body, headers={"Content-Type": "application/json"})
    page = json.loads(urllib.request.urlopen(req).read())
    for item in page["result"]:
        print(json.dumps(item, ensure_ascii=False))
    if "next" not in page:
        break
    start = page["next"]
PY
}
# check_bitrix24: what the fake Bitrix24 holds is the amoCRM account, as expected.json says (with its overrides).
check_bitrix24() {
  b24_items contact >b24_contacts.jsonl
  b24_items lead >b24_leads.jsonl
  python3 - <<'PY' || fail "Bitrix24 does not hold the migrated account"
import json, re
exp = json.load(open("expected.json"))
contacts = [json.loads(l) for l in open("b24_contacts.jsonl")]
leads = [json.loads(l) for l in open("b24_leads.jsonl")]
by_origin = {}
for c in contacts:
    assert c["ORIGINATOR_ID"] == "amocrm", c
    assert c["ORIGIN_ID"] not in by_origin, ("twice", c)
    by_origin[c["ORIGIN_ID"]] = c
want = {k for k, e in exp["contacts"].items() if not e["dead"]}
assert set(by_origin) == want, (sorted(set(by_origin) ^ want))[:5]
for k in want:
    e, c = exp["contacts"][k], by_origin[k]
    assert c["NAME"] == e["name"] and c["LAST_NAME"] == e["last"], (e, c)
    mails = [m["VALUE"] for m in c.get("EMAIL") or []]
    assert mails == ([e["email"]] if e["email"] else []), (e, c)
    phones = [p["VALUE"] for p in c.get("PHONE") or []]
    assert len(phones) == e["phones"] and all(re.fullmatch(r"\+7\d{10}", p) for p in phones), (e, c)
ids = {c["ID"]: c["ORIGIN_ID"] for c in contacts}
by_lead = {l["ORIGIN_ID"]: l for l in leads}
assert set(by_lead) == set(exp["leads"]) and len(leads) == len(by_lead), len(leads)
for k, e in exp["leads"].items():
    l = by_lead[k]
    assert l["ORIGINATOR_ID"] == "amocrm" and l["STATUS_ID"] == e["status"], (e, l)
    assert float(l["OPPORTUNITY"]) == e["price"] and l["CURRENCY_ID"] == "RUB", (e, l)
    assert ids.get(l.get("CONTACT_ID") or "") == e["contact"], (e, l)
    assert (l.get("UTM_SOURCE") or None) == e["utm"], (e, l)
print(len(contacts), len(leads))
PY
  pass
}

# 1. Step 1, contacts: 119 created; the one with a bad e-mail dead-lettered with its reason.
run_conflux run $CONTACTS --json
expect_code 0
read_summary
expect_eq "$S_STATUS $S_IN $S_CREATED $S_DEAD" "succeeded 120 119 1" "contacts migrated"
run_conflux dlq list $CONTACTS --json
expect_out "invalid address 'klient@@mail'"
# 2. Step 2, leads: all 60 created, linked to the contacts step 1 wrote.
run_conflux run $LEADS --json
expect_code 0
read_summary
expect_eq "$S_STATUS $S_IN $S_CREATED $S_DEAD" "succeeded 60 60 0" "leads migrated"
check_bitrix24

# 3. Re-runs read nothing new and send nothing: amoCRM's cursor, then (after a cursor reset) the sink ledger.
before=$(fake_stat "$B24_BASE" 's["requests"]')
run_conflux run $CONTACTS --json
read_summary
expect_eq "$S_IN $S_WRITTEN" "0 0" "contacts re-run"
run_conflux state reset $LEADS
run_conflux run $LEADS --json
read_summary
expect_eq "$S_IN $S_WRITTEN $S_SINK_UNCHANGED" "60 0 60" "leads re-read after a cursor reset"
expect_eq "$(fake_stat "$B24_BASE" 's["requests"]')" "$before" "requests to Bitrix24 by the re-runs"

# 4. Work goes on in amoCRM before the cut-over: a contact renamed, a lead won, a new lead for an existing contact.
# The next runs carry exactly those.
fake_request "$AMO_BASE" PATCH /api/v4/contacts '[{"id":1000002,"first_name":"Аннушка"}]' "$TOKEN" | grep -q '^200 ' ||
  fail "PATCH contact"
fake_request "$AMO_BASE" PATCH /api/v4/leads '[{"id":2000002,"status_id":142}]' "$TOKEN" | grep -q '^200 ' || fail "PATCH lead"
fake_request "$AMO_BASE" POST /api/v4/leads '[{"name":"Заказ №61","price":500,"_embedded":{"contacts":[{"id":1000005}]}}]' \
  "$TOKEN" >new_lead.txt
grep -q '^200 ' new_lead.txt || fail "POST lead: $(cat new_lead.txt)"
new_lead=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read().split(" ",1)[1])["_embedded"]["leads"][0]["id"])' <new_lead.txt)
sleep 1  # amoCRM's updated_at is in seconds: the changes land after the last read's second
run_conflux run $CONTACTS --json
read_summary
expect_eq "$S_IN $S_UPDATED $S_CREATED" "1 1 0" "contacts after the rename"
run_conflux run $LEADS --json
read_summary
expect_eq "$S_IN $S_UPDATED $S_CREATED" "2 1 1" "leads after the changes"
python3 - "$new_lead" <<'PY'
import json, sys
exp = json.load(open("expected.json"))
exp["contacts"]["1000002"]["name"] = "Аннушка"
exp["leads"]["2000002"]["status"] = "CONVERTED"
exp["leads"][sys.argv[1]] = {"status": "NEW", "contact": "1000005", "price": 500, "utm": None}
json.dump(exp, open("expected.json", "w"), ensure_ascii=False)
PY
check_bitrix24
done_ok
