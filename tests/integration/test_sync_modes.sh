#!/usr/bin/env bash
# Sink sync into the local CRM through the CLI: the ledger skips unchanged records, mirror deletes what left the
# source (and refuses to empty the target when the source comes back empty), update_only never creates.
source "$(dirname "$0")/lib.sh"

people() {  # people N...: a CSV with one contact per argument
  echo "email,name" >people.csv
  for n in "$@"; do echo "p$n@example.com,Person $n"; done >>people.csv
}
cat >mirror.yaml <<'YAML'
version: 1
pipeline: mirror
state: {path: state.db}
sources:
  - name: people
    plugin: csv
    config: {path: people.csv}
sink:
  name: crm
  type: local_crm
  config: {path: crm.db}
  sync: {key: email, mirror: true}
YAML

people 1 2 3 4 5
run_conflux run mirror.yaml --json
expect_code 0
expect_eq "$(sink_field created)" "5" "created by the first run"
run_conflux crm count mirror.yaml
expect_eq "$OUT" "5" "crm rows after the first run"

# Unchanged records are not sent again; two left the source and are deleted; one is new.
people 1 2 3 6
run_conflux run mirror.yaml --json
expect_code 0
expect_eq "$(summary_field in)" "4" "mirror runs read every source from the start"
expect_eq "$(sink_field unchanged)" "3" "unchanged records skipped by the ledger"
expect_eq "$(sink_field created)" "1" "new record"
expect_eq "$(sink_field deleted)" "2" "records deleted because they left the source"
expect_eq "$(summary_field balanced)" "True" "balance"
run_conflux crm count mirror.yaml
expect_eq "$OUT" "4" "crm rows after the mirror run"
run_conflux crm show mirror.yaml --key p4@example.com
expect_code 1
expect_err "no contact with id or key 'p4@example.com'"
run_conflux crm show mirror.yaml --key p1@example.com
expect_code 0

# A source that suddenly returns nothing must not wipe the target.
people
run_conflux run mirror.yaml --json
expect_code 1
expect_err "refusing"
run_conflux crm count mirror.yaml
expect_eq "$OUT" "4" "crm rows after the refused mirror"

# A sink that cannot delete cannot mirror: a configuration error naming the key.
cat >bad_mirror.yaml <<'YAML'
version: 1
pipeline: bad_mirror
state: {path: state2.db}
sources:
  - name: people
    plugin: csv
    config: {path: people.csv}
sink:
  name: out
  plugin: jsonl
  config: {path: out.jsonl}
  sync: {key: email, mirror: true}
YAML
run_conflux run bad_mirror.yaml
expect_code 2
expect_err "cannot mirror"

# Mirror through a plugin sink (ABI 1.2 delete_batch): deletes what left the source; a delete the target refuses
# fails the run and is tried again by the next mirror run.
cat >plugin_mirror.yaml <<YAML
version: 1
pipeline: plugin_mirror
state: {path: state_plugin.db}
settings:
  plugin_dirs: ["$CONFLUX_TEST_PLUGIN_DIR"]
sources:
  - name: people
    plugin: csv
    config: {path: people.csv}
sink:
  name: store
  plugin: keyed_store_sink
  config: {path: store.json, key: email, refuse_delete: p3@example.com}
  sync: {key: email, mirror: true}
YAML
store_keys() { python3 -c 'import json; print(" ".join(sorted(json.load(open("store.json")))))'; }
people 1 2 3 4
run_conflux run plugin_mirror.yaml --json
expect_code 0
expect_eq "$(store_keys)" "p1@example.com p2@example.com p3@example.com p4@example.com" "plugin store after the first run"
people 1
run_conflux run plugin_mirror.yaml --json
expect_code 1
expect_err "the target refused to delete a record: keyed_store: 'p3@example.com' is locked"
sed -i 's/, refuse_delete: p3@example.com//' plugin_mirror.yaml
run_conflux run plugin_mirror.yaml --json
expect_code 0
expect_eq "$(summary_field balanced)" "True" "balance"
expect_eq "$(store_keys)" "p1@example.com" "the refused delete goes through once the target allows it"

# update_only: known contacts are updated, unknown ones are dead-lettered with the reason, none is created.
people 1 7
sed -i 's/Person 1/Person One/' people.csv
cat >update_only.yaml <<'YAML'
version: 1
pipeline: update_only
state: {path: state3.db}
sources:
  - name: people
    plugin: csv
    config: {path: people.csv}
sink:
  name: crm
  type: local_crm
  config: {path: crm.db, mode: update_only}
  sync: {key: email}
YAML
run_conflux run update_only.yaml --json
expect_code 0
expect_eq "$(sink_field updated)" "1" "updated by update_only"
expect_eq "$(sink_field dead_lettered)" "1" "unknown contact rejected by update_only"
run_conflux state results update_only.yaml --outcome rejected
expect_out "update_only"
run_conflux crm count update_only.yaml
expect_eq "$OUT" "4" "update_only creates nothing"
done_ok
