#!/usr/bin/env bash
# Identity resolution from the CLI: accuracy targets on the labelled data (thresholds fixed in the committed
# configs), and a pipeline run twice (incremental) into the local CRM with stable profile ids, explain and unmerge.
source "$(dirname "$0")/lib.sh"
DATA=${CONFLUX_IDENTITY_DATA:-/work/shared/data/identity}
SRC=$CONFLUX_SOURCE_DIR

# f1_of LABEL: the F1 on the line starting with LABEL in $OUT.
f1_of() { sed -n "s/^$1 .* F1 \([0-9.]*\).*/\1/p" <<<"$OUT" | head -1; }
at_least() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$1" "$2" || fail "$3: $1 < $2"; pass; }

# --- accuracy on labelled data ---------------------------------------------------------------------------------
if [ -f "$DATA/febrl/dataset3.csv" ]; then
  run_conflux identity eval --data "$DATA/febrl/dataset3.csv" --format febrl --config "$SRC/configs/identity/febrl.yaml"
  expect_code 0
  expect_out "pair completeness"
  expect_out "b-cubed"
  at_least "$(f1_of 'pairwise (profiles)')" 0.996 "FEBRL3 pairwise F1"
  run_conflux identity eval --data "$DATA/splink/fake_1000.csv" --format splink --config "$SRC/configs/identity/fake_1000.yaml"
  expect_code 0
  at_least "$(f1_of 'pairwise (profiles)')" 0.90 "fake_1000 pairwise F1"
else
  echo "$TEST_NAME: $DATA not found, skipping the labelled-data targets" >&2
fi
python3 "$SRC/bench/identity/gen_people.py" --people 3000 --seed 11 > people_eval.csv
run_conflux identity eval --data people_eval.csv --format generic --truth person_id --config "$SRC/configs/identity/people.yaml"
expect_code 0
at_least "$(f1_of 'pairwise (profiles)')" 0.85 "generated people pairwise F1"

# --- bad input -------------------------------------------------------------------------------------------------
run_conflux identity eval --data people_eval.csv --format generic --truth nope --config "$SRC/configs/identity/people.yaml"
expect_code 2
expect_err "no column 'nope'"

# --- a pipeline run twice into the local CRM --------------------------------------------------------------------
python3 "$SRC/bench/identity/gen_people.py" --people 200 --seed 5 > all.csv
total=$(($(wc -l < all.csv) - 1))
half=$((total / 2))
head -n $((half + 1)) all.csv > people.csv
cat > pipeline.yaml <<'YAML'
version: 1
pipeline: people
state: {path: .conflux/state.db}
sources:
  - name: people
    plugin: csv
    config: {path: people.csv}
stages:
  - name: resolve
    type: identity
    schema: contact
    identifiers:
      - {field: email, type: email, blocked: [info@romashka.ru, office@vector-group.ru, sales@alfa-trade.ru, hello@brightmedia.co.uk]}
    fields:
      - {name: first_name, comparator: name, term_frequency: true}
      - {name: last_name, comparator: name, term_frequency: true}
      - {name: email, comparator: email}
      - {name: phone, comparator: phone, term_frequency: true}
      - {name: city, comparator: jaro_winkler, thresholds: [0.9]}
    blocking: [email, phone, first_name:name+last_name:name]
    survivorship:
      default: most_recent
      source_priority: [amocrm, meta_leads, mailchimp, calltouch]
      fields: {first_name: {rule: source_priority}, last_name: {rule: source_priority}}
sink: {name: crm, type: local_crm, config: {match_key: profile_id}}
YAML
# A dry run resolves and counts, but creates no state database, no identity graph and no local CRM.
run_conflux run pipeline.yaml --dry-run --json
expect_code 0
expect_eq "$(summary_field in)/$(ls -A .conflux 2>/dev/null | wc -l)/$(ls crm.db 2>/dev/null | wc -l)" "$half/0/0" \
  "records a dry run read / files it left in .conflux / CRM files"
run_conflux run pipeline.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "$half" "records read by run 1"
# graph_stats: profiles, share of profiles holding one person, share of persons held by one profile.
graph_stats() {
  python3 - <<'PY'
import collections, json, sqlite3
db = sqlite3.connect('.conflux/state.db')
profiles, persons = collections.defaultdict(set), collections.defaultdict(set)
for key, profile, record in db.execute("SELECT record_key, profile_id, record_json FROM identity_records WHERE pipeline = 'people'"):
    person = json.loads(record)['person_id']
    profiles[profile].add(person)
    persons[person].add(profile)
print(len(profiles), sum(len(v) == 1 for v in profiles.values()) / len(profiles),
      sum(len(v) == 1 for v in persons.values()) / len(persons), sum(1 for _ in db.execute("SELECT 1 FROM identity_records")))
PY
}
read -r profiles1 pure1 whole1 stored1 <<<"$(graph_stats)"
expect_eq "$stored1" "$half" "every record of run 1 belongs to a profile"
python3 - <<'PY' > ids1.txt
import sqlite3
for (p,) in sqlite3.connect('.conflux/state.db').execute("SELECT profile_id FROM identity_profiles WHERE pipeline='people' ORDER BY 1"):
    print(p)
PY
run_conflux crm count pipeline.yaml
expect_eq "$OUT" "$profiles1" "one CRM record per profile after run 1"

# Run 2 reads only the appended half and attaches it to the existing profiles; a dry run of it first changes nothing.
tail -n +$((half + 2)) all.csv >> people.csv
run_conflux run pipeline.yaml --dry-run --json
expect_code 0
expect_eq "$(summary_field in)" "$((total - half))" "records a dry run of run 2 read"
expect_eq "$(graph_stats)" "$profiles1 $pure1 $whole1 $stored1" "the graph after a dry run"
run_conflux run pipeline.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "$((total - half))" "records read by run 2"
run2_json=$OUT
read -r profiles2 pure2 whole2 stored2 <<<"$(graph_stats)"
expect_eq "$stored2" "$total" "every record of both runs belongs to exactly one profile"
at_least "$pure2" 0.95 "profiles holding one person"
at_least "$whole2" 0.90 "persons kept in one profile"
# Stable ids: every id of run 1 still exists, and an absorbed one points at an older id.
python3 - <<'PY' || fail "profile ids of run 1 are not stable"
import sqlite3
db = sqlite3.connect('.conflux/state.db')
rows = dict(((p, (s, m)) for p, s, m in db.execute("SELECT profile_id, seq, merged_into FROM identity_profiles WHERE pipeline='people'")))
for line in open('ids1.txt'):
    pid = line.strip()
    seq, merged = rows[pid]
    assert merged is None or rows[merged][0] < seq, (pid, merged)
PY
pass
# One CRM record per live profile: the golden records of profiles absorbed by a cross-run merge are deleted.
profile_counts() {  # "<live> <merged>" profiles of the graph
  python3 -c "import sqlite3; db = sqlite3.connect('.conflux/state.db'); print(*db.execute(\"SELECT sum(merged_into IS NULL), sum(merged_into IS NOT NULL) FROM identity_profiles WHERE pipeline='people'\").fetchone())"
}
read -r live2 merged2 <<<"$(profile_counts)"
run_conflux crm count pipeline.yaml
expect_eq "$OUT" "$live2" "one CRM record per live profile after run 2 ($merged2 absorbed)"
OUT=$run2_json
expect_eq "$(summary_field deleted)" "$merged2" "run 2 deleted the golden record of every profile it absorbed"
expect_eq "$(summary_field balanced)" "True" "balance of run 2"

# --- explain and unmerge ---------------------------------------------------------------------------------------
read -r profile a b <<<"$(python3 - <<'PY'
import sqlite3
db = sqlite3.connect('.conflux/state.db')
p = db.execute("SELECT profile_id FROM identity_records WHERE pipeline='people' GROUP BY profile_id HAVING count(*) >= 2 ORDER BY profile_id LIMIT 1").fetchone()[0]
keys = [k for (k,) in db.execute("SELECT record_key FROM identity_records WHERE profile_id = ? ORDER BY record_key", (p,))]
print(p, keys[0], keys[1])
PY
)"
run_conflux profiles show pipeline.yaml "$profile"
expect_code 0
expect_out "profile $profile"
expect_out "record $a"
run_conflux profiles explain pipeline.yaml "$a" "$b"
expect_code 0
expect_out "same profile"
expect_out "field first_name"
run_conflux profiles unmerge pipeline.yaml P99999999 --records x
expect_code 1
expect_err "unknown profile 'P99999999'"
run_conflux profiles unmerge pipeline.yaml "$profile" --records "$b"
expect_code 0
new_profile=$(sed -n 's/.* into \(P[0-9]*\);.*/\1/p' <<<"$OUT")
[ -n "$new_profile" ] || fail "unmerge printed no new profile id: $OUT"
pass
# The split survives a later run that re-reads both records.
run_conflux state reset pipeline.yaml
expect_code 0
run_conflux run pipeline.yaml
expect_code 0
after_a=$(python3 -c "import sqlite3,sys; print(sqlite3.connect('.conflux/state.db').execute('SELECT profile_id FROM identity_records WHERE record_key=?', (sys.argv[1],)).fetchone()[0])" "$a")
after_b=$(python3 -c "import sqlite3,sys; print(sqlite3.connect('.conflux/state.db').execute('SELECT profile_id FROM identity_records WHERE record_key=?', (sys.argv[1],)).fetchone()[0])" "$b")
expect_eq "$after_a" "$profile" "the kept record stays in its profile"
expect_eq "$after_b" "$new_profile" "the split-off record stays apart after a later run"
read -r live3 merged3 <<<"$(profile_counts)"
run_conflux crm count pipeline.yaml
expect_eq "$OUT" "$live3" "one CRM record per live profile after the unmerge"

# --- a cross-run merge deletes the absorbed profile's golden record from the CRM -----------------------------------
mkdir merge && cd merge
printf 'source,source_id,email,crm_id,first_name\ns1,1,a@x.com,,Ivan\ns2,2,,C1,Ivan\ns3,9,z@x.com,,Olga\n' > people.csv
cat > merge.yaml <<'YAML'
version: 1
pipeline: merge
state: {path: state.db}
sources:
  - name: people
    plugin: csv
    config: {path: people.csv}
stages:
  - name: resolve
    type: identity
    identifiers:
      - {field: crm_id, type: id, max_per_profile: 1}
      - {field: email, type: email}
sink: {name: crm, type: local_crm, config: {path: crm.db, match_key: profile_id}, sync: {key: profile_id}}
YAML
run_conflux run merge.yaml --json
expect_code 0
run_conflux crm count merge.yaml
expect_eq "$OUT" "3" "three profiles before the bridging record"
echo 's3,3,a@x.com,C1,Ivan' >> people.csv  # shares the e-mail of P00000001 and the CRM id of P00000002
run_conflux run merge.yaml --json
expect_code 0
expect_eq "$(summary_field deleted)" "1" "the absorbed profile's golden record is deleted"
expect_eq "$(summary_field balanced)" "True" "balance of the merging run"
run_conflux crm count merge.yaml
expect_eq "$OUT" "2" "one CRM record per live profile after the merge"
run_conflux crm show merge.yaml --key P00000002
expect_code 1
expect_err "no contact with id or key 'P00000002'"
run_conflux crm show merge.yaml --key P00000001
expect_code 0
expect_out '"crm_id": "C1"'
echo 's4,4,q@x.com,,Petr' >> people.csv
run_conflux run merge.yaml --json
expect_code 0
expect_eq "$(summary_field deleted)" "0" "a withdrawn record is deleted once: the ledger forgot it"
cd ..

# --- config validation -------------------------------------------------------------------------------------------
sed 's/- {name: city, comparator: jaro_winkler, thresholds: \[0.9\]}/- {name: crm_id, comparator: exact}/' pipeline.yaml > bad.yaml
run_conflux validate bad.yaml
expect_code 2
expect_err "field 'crm_id' is compared, but no contact record provides it"
done_ok
