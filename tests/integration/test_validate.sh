#!/usr/bin/env bash
# conflux validate: every problem with file:line:col, suggestions for near-miss names, secrets references.
source "$(dirname "$0")/lib.sh"

cat >good.yaml <<'YAML'
version: 1
pipeline: good
sources:
  - name: people
    plugin: csv
    config: {path: people.csv}
stages:
  - name: tidy
    type: clean
    trim: true
sink:
  name: crm
  type: local_crm
YAML
run_conflux validate good.yaml
expect_code 0
expect_out "good.yaml: ok"

# Several problems at once, each located, with suggestions.
cat >bad.yaml <<'YAML'
version: 1
pipeline: bad
setings:
  batch_size: 10
sources:
  - name: people
    plugin: csvv
    config: {path: people.csv}
  - name: other
    plugin: csv
    config: {path: people.csv, delimeter: ";"}
stages:
  - name: tidy
    type: claen
  - name: mail
    type: email
    feild: email
  - name: tidy
    type: clean
sink:
  name: crm
  type: local_crm
  config: {path: crm.db, entity: contacts, matchkey: email}
YAML
run_conflux validate bad.yaml
expect_code 2
expect_err "bad.yaml:3:1: unknown key 'setings' in the pipeline (did you mean 'settings'?)"
expect_err "bad.yaml:7:13: unknown plugin 'csvv' (did you mean 'csv'?)"
expect_err "bad.yaml:11:"
expect_err "delimeter"
expect_err "bad.yaml:14:11: unknown stage type 'claen' (did you mean 'clean'?)"
expect_err "bad.yaml:17:5: unknown key 'feild' in a email stage (did you mean 'field'?)"
expect_err "duplicate name 'tidy'"
expect_err "unknown key 'matchkey' in local_crm config (did you mean 'match_key'?)"

# Wrong types are reported at the value.
cat >types.yaml <<'YAML'
version: 1
pipeline: types
settings:
  batch_size: lots
sources:
  - name: people
    plugin: csv
    config: {path: people.csv}
sink: {name: crm, type: local_crm}
YAML
run_conflux validate types.yaml
expect_code 2
expect_err "types.yaml:4:15:"

# Malformed YAML gives the parser's position.
printf 'version: 1\npipeline: [unclosed\nsources: x\n' >broken.yaml
run_conflux validate broken.yaml
expect_code 2
expect_err "broken.yaml:"
expect_err "YAML syntax error"

# Missing file.
run_conflux validate nowhere.yaml
expect_code 2
expect_err "cannot open pipeline file"
expect_err "nowhere.yaml"

# Secrets: ${env:..} must be set; ${file:..} must be readable.
cat >secrets.yaml <<'YAML'
version: 1
pipeline: secrets
sources:
  - name: people
    plugin: csv
    config: {path: "${env:CONFLUX_TEST_UNSET_VARIABLE}"}
sink: {name: crm, type: local_crm, config: {path: "${file:no-such-secret.txt}"}}
YAML
run_conflux validate secrets.yaml
expect_code 2
expect_err "secrets.yaml:6:20: environment variable 'CONFLUX_TEST_UNSET_VARIABLE' is not set"
expect_err "cannot read secret file"
done_ok
