#!/usr/bin/env bash
# Identity resolution through a pipeline, end to end: CSV -> identity stage (graph in the state database) -> local
# CRM, one golden record per profile. Prints wall time, peak RSS and the run summary.
# Usage: bench/identity/run_pipeline.sh [PEOPLE]   (default 400000 people, about 1,000,000 records)
#   CONFLUX_BIN   the conflux binary (default build/core/conflux)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CONFLUX_BIN:-$ROOT/build/core/conflux}
PEOPLE=${1:-400000}
DATA_DIR=$ROOT/bench/.data
mkdir -p "$DATA_DIR"
DATA=$DATA_DIR/people_$PEOPLE.csv
if [ ! -f "$DATA" ]; then
  echo "generating $DATA ..." >&2
  python3 "$ROOT/bench/identity/gen_people.py" --people "$PEOPLE" --seed 42 > "$DATA.tmp" && mv "$DATA.tmp" "$DATA"
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# The stage takes the model of configs/identity/people.yaml inline.
python3 - "$ROOT/configs/identity/people.yaml" "$DATA" >"$WORK/pipeline.yaml" <<'PY'
import sys
model = "".join("    " + line if line.strip() else line for line in open(sys.argv[1]) if not line.startswith("#"))
print(f"""version: 1
pipeline: people_bench
state: {{path: {sys.argv[2]}.state.db}}
sources:
  - name: people
    plugin: csv
    config: {{path: {sys.argv[2]}}}
stages:
  - name: resolve
    type: identity
{model}sink: {{name: crm, type: local_crm, config: {{path: {sys.argv[2]}.crm.db, match_key: profile_id}}, sync: {{key: profile_id}}}}
""")
PY
rm -f "$DATA.state.db"* "$DATA.crm.db"*
echo "== $(nproc) cores, $(($(wc -l < "$DATA") - 1)) records through the pipeline"
${BENCH_PROFILE:-} /usr/bin/time -f 'wall %e s, peak RSS %M KB' "$BIN" run "$WORK/pipeline.yaml" --json >"$WORK/summary.json"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print({k: s[k] for k in ("in","written","unchanged","dropped","dead_lettered","deleted","balanced")})' "$WORK/summary.json"
rm -f "$DATA.state.db"* "$DATA.crm.db"*
